"""The flags of ``skmm fit`` and the YAML/TOML config files that can hold them."""

import argparse
from pathlib import Path

from .._deps import import_optional

HEADS = ("mlp", "gated", "attention", "logreg", "late")
REBALANCE = ("none", "oversample", "undersample", "class-weight")


ON_ERROR = ("raise", "missing", "zero")


def positive_int(text):
    """An argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0")
    return value


def _folds(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value == 1 or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: use 2 folds or more, or 0 to skip")
    return value


def _comma_list(text):
    return [c.strip() for c in text.split(",") if c.strip()]


def add_fit_arguments(parser):
    """Add the flags of ``skmm fit`` to ``parser`` (they are also the config file's keys)."""
    data = parser.add_argument_group("data")
    data.add_argument(
        "--config",
        metavar="FILE",
        help="YAML (.yaml/.yml) or TOML (.toml) file of flag values, e.g. "
        "`head: attention` or `max-epochs = 30`; command-line flags win",
    )
    data.add_argument(
        "--manifest",
        metavar="FILE",
        help="the table to learn from: .csv, .tsv or .parquet, one row per sample; "
        "relative file paths are read from the table's folder",
    )
    data.add_argument("--text", metavar="COL", help="column holding the text itself")
    data.add_argument("--image", metavar="COL", help="column holding image file paths")
    data.add_argument("--audio", metavar="COL", help="column holding audio file paths")
    data.add_argument(
        "--video",
        metavar="COL",
        help="column holding video clip paths: a face block (frames) and a voice block (track)",
    )
    data.add_argument(
        "--tabular",
        type=_comma_list,
        metavar="COL,COL",
        help="numeric columns used as they are (comma-separated)",
    )
    data.add_argument(
        "--categorical",
        type=_comma_list,
        metavar="COL,COL",
        help="categorical columns (words or codes), one-hot encoded (comma-separated)",
    )
    data.add_argument(
        "--label",
        default="label",
        metavar="COL",
        help="column holding the class labels (default: %(default)s)",
    )
    data.add_argument(
        "--group",
        metavar="COL",
        help="speaker/session column: cross-validation keeps each group on one side of every split",
    )
    model = parser.add_argument_group("model")
    model.add_argument(
        "--head",
        choices=HEADS,
        default="mlp",
        help="mlp, gated or attention: a neural fusion head (skorch); logreg: "
        "logistic regression on the fused blocks; late: one logistic "
        "regression per modality, stacked (default: %(default)s)",
    )
    model.add_argument(
        "--rebalance",
        choices=REBALANCE,
        default="none",
        help="oversample/undersample the fused embeddings (imbalanced-learn) or "
        "weigh the classes in the loss (default: %(default)s)",
    )
    model.add_argument(
        "--max-epochs",
        type=positive_int,
        default=50,
        metavar="N",
        help="epochs of a neural head (default: %(default)s)",
    )
    model.add_argument(
        "--hidden-size",
        type=positive_int,
        default=128,
        metavar="N",
        help="width of a neural head (default: %(default)s)",
    )
    model.add_argument(
        "--lr", type=_positive_float, default=1e-3, help="learning rate (default: %(default)s)"
    )
    model.add_argument(
        "--text-model",
        default="all-MiniLM-L6-v2",
        metavar="NAME",
        help="TextEncoder model: the embedded default or a saved HF model folder",
    )
    model.add_argument(
        "--image-backbone",
        default="efficientnet-lite0",
        metavar="NAME",
        help="efficientnet-lite0 (default), face-expression, or a saved HF folder",
    )
    model.add_argument(
        "--face-crop",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="crop images to their largest face first",
    )
    model.add_argument(
        "--audio-backbone",
        default="stats",
        metavar="NAME",
        help="stats (log-mel statistics, default), whisper-tiny, or a saved HF folder",
    )
    files = parser.add_argument_group("files that cannot be read")
    files.add_argument(
        "--on-error",
        choices=ON_ERROR,
        default="raise",
        help="a file that is missing or cannot be decoded: raise stops with the row and "
        "file; missing treats that modality as missing in that row; zero encodes it as "
        "zeros (default: %(default)s)",
    )
    files.add_argument(
        "--check-files",
        action="store_true",
        help="first check that every file the table names exists and is readable; stop "
        "with the count and the first few if not",
    )
    run = parser.add_argument_group("run")
    run.add_argument(
        "--cv",
        type=_folds,
        metavar="K",
        help="cross-validate with K folds before the final fit (default: 5 with "
        "--group, none without; 0 skips it)",
    )
    run.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="embedding cache folder (default: $SKMM_CACHE_DIR or ~/.cache/skmm)",
    )
    run.add_argument(
        "--n-jobs",
        type=positive_int,
        metavar="N",
        help="cross-validation folds fitted in parallel processes (default: one at a time)",
    )
    run.add_argument(
        "--threads",
        type=positive_int,
        metavar="N",
        help="torch threads while encoding and training (default: torch's own; 1 is "
        "often fastest for small heads on a busy machine)",
    )
    run.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    run.add_argument("-o", "--output", metavar="FILE", help="where to save the model (.joblib)")


def _read_config(path):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {str(path)!r} does not exist.")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as exc:
            raise ImportError("reading a YAML config needs PyYAML: pip install pyyaml") from exc
        try:
            content = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise ValueError(f"config file {str(path)!r} is not valid YAML ({exc}).") from exc
    elif suffix == ".toml":
        try:
            import tomllib
        except ImportError:  # Python 3.10
            tomllib = import_optional("tomli", "reading a TOML config on Python 3.10")
        try:
            content = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"config file {str(path)!r} is not valid TOML ({exc}).") from exc
    else:
        raise ValueError(f"config file {str(path)!r} must end in .yaml, .yml or .toml.")
    content = {} if content is None else content
    if isinstance(content, dict) and set(content) == {"fit"} and isinstance(content["fit"], dict):
        content = content["fit"]  # a [fit] table / fit: section
    if not isinstance(content, dict):
        raise ValueError(
            f"config file {str(path)!r} must hold `key: value` pairs (flag names of `skmm fit`)."
        )
    return content


def config_arguments(path, parser):
    r"""Turn a YAML/TOML config file into command-line tokens for ``parser`` (keys = flag names).

    Examples
    --------
    >>> import argparse, pathlib, tempfile
    >>> from skmm.cli._config import add_fit_arguments, config_arguments
    >>> parser = argparse.ArgumentParser(); add_fit_arguments(parser)
    >>> cfg = pathlib.Path(tempfile.mkdtemp()) / "cfg.toml"
    >>> _ = cfg.write_text('head = "attention"\nmax_epochs = 30\nface-crop = true\n')
    >>> config_arguments(cfg, parser)
    ['--head', 'attention', '--max-epochs', '30', '--face-crop']
    """
    flags = {
        opt[2:]: action
        for action in parser._actions
        for opt in action.option_strings
        if opt.startswith("--") and not opt.startswith("--no-")
    }
    tokens = []
    for key, value in _read_config(path).items():
        name = str(key).replace("_", "-")
        action = flags.get(name)
        if action is None or name in ("config", "help"):
            known = ", ".join(sorted(k for k in flags if k not in ("config", "help")))
            raise ValueError(
                f"config file {str(path)!r} has an unknown key {key!r}; the keys are "
                f"the flags of `skmm fit`: {known}."
            )
        if value is None:
            continue
        if isinstance(action, argparse.BooleanOptionalAction):
            if not isinstance(value, bool):
                raise ValueError(f"config key {key!r} must be true or false, got {value!r}.")
            tokens.append(f"--{name}" if value else f"--no-{name}")
            continue
        if isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        elif isinstance(value, (dict, bool)):
            raise ValueError(f"config key {key!r} needs a single value, got {value!r}.")
        tokens += [f"--{name}", str(value)]
    return tokens
