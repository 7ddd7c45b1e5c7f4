"""The ``skmm`` command line: demo, fit, predict, report and cache.

Only parsing and printing live here; the work is done by :mod:`skmm.demo`,
:mod:`skmm.fusion`, :mod:`skmm.report` and :mod:`skmm.cache`. User mistakes
(a missing file, an unknown column, flag or config key, a table that does not parse,
an unreadable row, rows with no input), also those found inside cross-validation, print
one sentence on stderr and exit with status 2; ``--debug`` shows the traceback.
"""

import argparse
import logging
import os
import sys
from pathlib import Path

from .. import __version__
from ._cache import cache_command
from ._config import ON_ERROR, add_fit_arguments, config_arguments, positive_int
from ._export import add_export_parser, export_command
from ._fit import fit_command
from ._models import predict_command, report_command

logger = logging.getLogger("skmm.cli")

USER_ERRORS = (ValueError, OSError, ImportError)

_DESCRIPTION = """\
skmm: scikit-learn for multimodal data (text, images, audio).

Start with `skmm demo`: it runs the whole workflow offline on synthetic data and
writes a report folder. Then fit your own data from a manifest table (CSV, TSV or
Parquet; one row per sample, one column per modality):

  skmm fit --manifest data.csv --text text --image face --audio voice \\
           --label emotion --group speaker -o model.joblib
  skmm predict model.joblib new.csv -o predictions.csv
  skmm report model.joblib test.csv --label emotion -o report/
"""


class _UsageError(ValueError):
    """A command line argparse rejects: reported in one line like every other mistake."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(f"{self.prog}: {message} (see `{self.prog} --help`).")


def build_parser():
    """The argument parser of the ``skmm`` command (one sub-parser per command)."""
    return _parsers()[0]


def _parsers():
    parser = _Parser(
        prog="skmm", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"skmm {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show full tracebacks instead of one-line error messages",
    )
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="more log lines (per-epoch training logs included)",
    )
    noise.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="run the end-to-end demo on synthetic data and write a report",
        description="Generate synthetic faces, voices and sentences, encode them with the "
        "embedded pretrained models, tune a fusion pipeline with Optuna, evaluate it with "
        "speaker-grouped cross-validation against single modalities and late fusion, and "
        "write a report folder (metrics, confusion matrix, ablation, modality weights, "
        "Optuna history, model card, fitted model). Offline; a few minutes on a laptop CPU.",
    )
    demo.add_argument(
        "-o",
        "--output",
        default="skmm-report",
        metavar="DIR",
        help="report folder (default: %(default)s); the data goes to DIR/data",
    )
    demo.add_argument(
        "--quick",
        action="store_true",
        help="a smaller run (120 samples, 3 trials, 3 folds), about a third of the time",
    )
    demo.add_argument(
        "--video",
        action="store_true",
        help="video mode: one mp4 clip per sample, its frames and its audio track as two blocks",
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    demo.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="embedding cache folder (default: $SKMM_CACHE_DIR or ~/.cache/skmm)",
    )
    demo.add_argument(
        "--threads",
        type=int,
        default=1,
        metavar="N",
        help="torch threads while the small heads train (default: %(default)s)",
    )

    fit = commands.add_parser(
        "fit",
        help="fit a multimodal model on a manifest table and save it",
        description="Check the table, encode the named columns (TextEncoder, ImageEncoder, "
        "MelEncoder, one-hot for --categorical), fuse them (ModalityUnion) and fit a head on "
        "all rows; with --group or --cv, then report (speaker-grouped) cross-validated "
        "metrics. The saved model keeps a record of its training table, labels, scores, "
        "encoders and versions, which `skmm report` puts in the model card. Every flag can "
        "also come from --config FILE (YAML or TOML, keys = flag names); flags given on the "
        "command line win.",
    )
    add_fit_arguments(fit)

    predict = commands.add_parser(
        "predict",
        help="predict the labels of a manifest table with a saved model",
        description="Read a manifest (same columns as for fit; no label needed) and write one "
        "prediction per row, after the manifest's own columns.",
    )
    predict.add_argument("model", help="a model saved by `skmm fit` (or joblib.dump of a pipeline)")
    predict.add_argument("data", help="manifest table: .csv, .tsv or .parquet")
    predict.add_argument("-o", "--output", metavar="CSV", help="where to write (default: stdout)")
    predict.add_argument(
        "--proba", action="store_true", help="add one probability column per class (proba_<class>)"
    )
    _add_row_flags(predict, "leave their prediction empty")

    report = commands.add_parser(
        "report",
        help="evaluate a saved model on labelled data and write a report folder",
        description="Predict a labelled manifest and write metrics (accuracy, macro-F1, UAR, "
        "weighted F1, ROC-AUC) as CSV and Markdown, a confusion-matrix PNG, per-class scores, "
        "the head's modality weights when it has them, predictions, a model card and an "
        "index.md linking everything.",
    )
    report.add_argument("model", help="a saved model")
    report.add_argument("data", help="labelled manifest table")
    report.add_argument("-o", "--output", required=True, metavar="DIR", help="report folder")
    report.add_argument(
        "--label", default="label", help="column holding the true labels (default: %(default)s)"
    )
    _add_row_flags(report, "leave them out of the report")

    cache = commands.add_parser(
        "cache",
        help="show or empty the embedding cache",
        description="`skmm cache info` lists the cached embeddings per encoder configuration; "
        "`skmm cache clear` deletes them.",
    )
    cache.add_argument("action", choices=["info", "clear"], help="info or clear")
    cache.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="cache folder (default: $SKMM_CACHE_DIR or ~/.cache/skmm)",
    )
    add_export_parser(commands)
    return parser, fit


def _add_row_flags(parser, allowed):
    parser.add_argument(
        "--on-error",
        choices=ON_ERROR,
        help="a file that is missing or cannot be decoded: raise, missing or zero, as for "
        "`skmm fit` (default: the policy the model was fitted with)",
    )
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="rows that hold none of the model's inputs are an error by default; with this "
        f"flag, {allowed}",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        metavar="N",
        help="torch threads while encoding and predicting (default: torch's own)",
    )


def _configure_logging(args):
    level = logging.WARNING if args.quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("skmm")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # per-epoch lines of the heads only when asked for
    logging.getLogger("skmm.heads").setLevel(logging.DEBUG if args.verbose else logging.WARNING)


def _demo_command(args):
    from ..demo import run_demo

    result = run_demo(
        args.output,
        quick=args.quick,
        random_state=args.seed,
        cache_dir=args.cache_dir,
        n_threads=args.threads,
        video=args.video,
    )
    table = result.comparison[["model", "uar", "macro_f1", "accuracy"]]
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("\n" + result.summary.replace("**", ""))
    print(
        f"\nThe report is in {Path(result.directory).resolve()}/ "
        f"(open {Path(result.html).resolve()} in a browser)"
    )
    return 0


_COMMANDS = {
    "demo": _demo_command,
    "fit": fit_command,
    "predict": predict_command,
    "report": report_command,
    "cache": cache_command,
    "export": export_command,
}


def _is_user_error(exc):
    """A missing optional package is the user's to install; a broken skmm import is a bug."""
    if isinstance(exc, ImportError):
        return not (getattr(exc, "name", None) or "").startswith("skmm")
    return True


def _one_sentence(exc):
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, FileNotFoundError) and exc.filename and str(exc.filename) not in text:
        text = f"{text}: {exc.filename}"
    return text


def main(argv=None):
    """Run the ``skmm`` command; returns the exit status (0 ok, 2 user error).

    Examples
    --------
    >>> from skmm.cli import main
    >>> main(["cache", "info", "--cache-dir", __import__("tempfile").mkdtemp()])  # doctest: +ELLIPSIS
    cache: ...
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, fit_parser = _parsers()
    args = argparse.Namespace(debug="--debug" in argv)
    try:
        args = parser.parse_args(argv)
        if args.command == "fit" and args.config:
            # config values go first, so flags typed on the command line win
            at = argv.index("fit") + 1
            args = parser.parse_args(
                argv[:at] + config_arguments(args.config, fit_parser) + argv[at:]
            )
        args.argv = argv  # the model's training record keeps the command
        _configure_logging(args)
        return _COMMANDS[args.command](args)
    except BrokenPipeError:  # `skmm predict ... | head`: the reader left; say nothing
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("skmm: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as exc:
        if args.debug or not _is_user_error(exc):
            raise
        print(f"skmm: error: {_one_sentence(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
