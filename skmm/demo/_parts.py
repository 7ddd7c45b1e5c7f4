"""The demo's pieces: its data, encoders, pipeline, search space, study and candidates."""

from pathlib import Path

from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from .._deps import import_optional
from ..datasets import make_multimodal_emotion
from ..encoders import ImageEncoder, MelEncoder, TextEncoder, VideoEncoder
from ..fusion import LateFusionClassifier, make_fusion_pipeline
from ._config import FULL
from ._select import Candidate

MODALITIES = FULL.modalities  # the default (image) mode; video mode: config.modalities


def make_demo_data(directory, config=FULL, random_state=0):
    """Write the synthetic dataset and a ``manifest.csv`` (relative paths) into ``directory``.

    Returns
    -------
    frame : pandas.DataFrame
        ``text``, ``image``, ``audio`` (absolute paths or None), ``label``, ``group``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skmm.demo import DemoConfig, make_demo_data
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> frame = make_demo_data(folder, DemoConfig(n_samples=8, n_classes=2))
    >>> (folder / "manifest.csv").read_text().splitlines()[1].split(",")[-3:]
    ['audio/sample_00000.wav', 'happy', 'speaker_00']
    """
    directory = Path(directory)
    frame = make_multimodal_emotion(
        n_samples=config.n_samples,
        n_classes=config.n_classes,
        imbalance=config.imbalance,
        missing_rate=config.missing_rate,
        directory=directory,
        video=config.video,
        random_state=random_state,
    )
    if config.video:  # one clip column per block, so each block can be left out on its own
        frame = frame.drop(columns=["image", "audio"]).assign(face=frame["video"])
        frame = frame.rename(columns={"video": "voice"})[
            ["text", "face", "voice", "label", "group"]
        ]
    manifest = frame.copy()
    for column in config.modalities[1:]:
        manifest[column] = [
            None if p is None else Path(p).relative_to(directory.resolve()).as_posix()
            for p in frame[column]
        ]
    manifest.to_csv(directory / "manifest.csv", index=False)
    return frame


def demo_encoders(cache_dir=None, progress=False, config=FULL):
    """The demo's encoders: MiniLM text, EfficientNet-Lite0 on face crops, log-mel statistics.

    In video mode the faces are EfficientNet-Lite0 over frames sampled from each clip
    (``VideoEncoder``, mean over time) and the voice is the clip's audio track.

    Examples
    --------
    >>> from skmm.demo import demo_encoders
    >>> {m: type(e).__name__ for m, e in demo_encoders().items()}
    {'text': 'TextEncoder', 'image': 'ImageEncoder', 'audio': 'MelEncoder'}
    """
    text = TextEncoder(cache_dir=cache_dir, progress=progress)
    if config.video:
        # the drawn faces fill the frame, and the face detector does not find them in clips
        face = VideoEncoder(n_frames=config.n_frames, cache_dir=cache_dir, progress=progress)
        return {"text": text, "face": face, "voice": MelEncoder(cache_dir=cache_dir)}
    return {
        "text": text,
        "image": ImageEncoder(face_crop=True, cache_dir=cache_dir, progress=progress),
        "audio": MelEncoder(cache_dir=cache_dir, progress=progress),
    }


def demo_pipeline(head, modalities=MODALITIES, cache_dir=None, random_state=0, config=FULL):
    """``ModalityUnion -> RandomOverSampler -> head`` on the given modalities.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmm.demo import demo_pipeline
    >>> list(demo_pipeline(LogisticRegression(), ("text", "audio")).named_steps)
    ['fusion', 'sampler', 'head']
    """
    over_sampling = import_optional("imblearn.over_sampling", "rebalancing in the demo")
    encoders = demo_encoders(cache_dir, config=config)
    return make_fusion_pipeline(
        extra=[(m, encoders[m], m) for m in modalities],  # each modality has its own column
        head=head,
        sampler=over_sampling.RandomOverSampler(random_state=random_state),
    )


def attention_head(config, random_state):
    from ..heads import FusionClassifier

    return FusionClassifier(
        head="attention",
        hidden_size=64,
        max_epochs=config.max_epochs,
        early_stopping=5,
        random_state=random_state,
    )


def search_space():
    distributions = import_optional("optuna.distributions", "tuning in the demo")
    return {
        "head__hidden_size": distributions.IntDistribution(32, 128, step=32),
        "head__lr": distributions.FloatDistribution(5e-4, 5e-3, log=True),
        "head__dropout": distributions.FloatDistribution(0.0, 0.3),
        "head__modality_dropout": distributions.FloatDistribution(0.0, 0.3),
    }


def start_study(optuna, head, random_state):
    """A study whose first trial is the head's own settings, so tuning starts from them."""
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "study created" line
    try:
        study = optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=random_state),
            pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=5),
        )
    finally:
        optuna.logging.set_verbosity(verbosity)
    study.enqueue_trial(
        {
            f"head__{k}": getattr(head, k)
            for k in ("hidden_size", "lr", "dropout", "modality_dropout")
        }
    )
    return study


def demo_candidates(config, cache_dir=None, random_state=0):
    """The models the demo compares: three it may choose from, and each modality alone.

    The attention head is tuned with Optuna (its first trial is its own settings); the
    logistic regressions keep their defaults; the single-modality heads are references
    that are scored but never chosen.

    Examples
    --------
    >>> from skmm.demo import QUICK, demo_candidates
    >>> [(c.name, c.choosable) for c in demo_candidates(QUICK)][:4]  # doctest: +NORMALIZE_WHITESPACE
    [('fusion, attention head (tuned)', True), ('early fusion, logistic regression', True),
     ('late fusion (LateFusionClassifier)', True), ('text only, attention head', False)]
    """
    optuna = import_optional("optuna", "tuning in the demo")
    head = attention_head(config, random_state)

    modalities = config.modalities

    def pipeline(estimator, modalities=modalities):
        return demo_pipeline(estimator, modalities, cache_dir, random_state, config)

    late = LateFusionClassifier([(m, LogisticRegression(max_iter=1000)) for m in modalities], cv=3)
    return [
        Candidate(
            "fusion, attention head (tuned)",
            pipeline(head),
            space=search_space(),
            study=lambda: start_study(optuna, head, random_state),
        ),
        Candidate("early fusion, logistic regression", pipeline(LogisticRegression(max_iter=1000))),
        Candidate("late fusion (LateFusionClassifier)", pipeline(late)),
        *(
            Candidate(
                f"{m} only, attention head",
                pipeline(clone(head), (m,)),
                kind="single modality",
                choosable=False,
            )
            for m in modalities
        ),
    ]
