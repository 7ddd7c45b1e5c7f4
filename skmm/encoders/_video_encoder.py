"""VideoEncoder: video clips to one embedding each (sampled frames, image backbone, time pooling)."""

import logging
import math
import numbers
import os

import numpy as np

from ..exceptions import InputError
from ..io._faces import largest_face_box
from ..io._image_reader import DEFAULT_MAX_PIXELS, preprocess_image
from ..io._video_reader import read_video
from ._image_encoder import ImageEncoder
from ._report import WithFacts

logger = logging.getLogger("skmm")

_TEMPORAL = ("mean", "mean+std", "max")
# Frames for face detection keep this shorter side: a face a fifth of the frame high is
# still 96 px, over the detector's 40 px and the backbones' inputs.
_FACE_FRAME_SIDE = 480


class VideoEncoder(ImageEncoder):
    """Encode video clips into one embedding each with a pretrained image backbone.

    Each clip is read with PyAV (the ``video`` extra): ``n_frames`` frames sampled
    evenly over it (or ``fps`` frames per second), streamed so that a long clip costs
    no more memory than its sampled frames. Each frame is optionally cropped to the
    largest face (a frame where none is found reuses the box of the nearest frame
    with one), encoded by the image backbone, and the frame embeddings are pooled
    over time. Everything else (backbones, devices, cache, ``on_error``) is
    :class:`ImageEncoder`'s. For the clip's audio track, use
    :class:`MelEncoder` on the same column.

    Parameters
    ----------
    backbone : str or path-like, default="efficientnet-lite0"
        As for :class:`ImageEncoder`: ``"efficientnet-lite0"``, ``"face-expression"``
        (with ``face_crop=True`` for faces in a scene) or a saved Hugging Face vision model.
    n_frames : int, default=8
        Frames per clip, one at the centre of each of ``n_frames`` equal parts. With
        ``fps``, the most frames kept (None: no limit).
    fps : float, default=None
        Sample this many frames per second instead of a fixed count.
    temporal_pooling : {"mean", "mean+std", "max"}, default="mean"
        How frame embeddings become one vector. ``"mean"``: what the clip shows overall
        (a steady expression, a scene); ``"mean+std"`` (twice the width): also how much
        it changes (an expression that comes and goes); ``"max"``: the strongest
        moment of each feature (a brief smile, most useful with
        ``output="probabilities"``).
    output, pooling, face_crop, max_pixels, device, dtype, cache, cache_dir, on_error, progress
        As for :class:`ImageEncoder`; ``on_error`` also covers clips that cannot be
        decoded (zero-byte, truncated, corrupt, no video stream, unknown codec).
    batch_size : int, default=4
        Clips per forward pass (``batch_size * n_frames`` frames).
    prefix : str, default="video_"
        Feature names ``"{prefix}{i}"``; the standard deviations of ``"mean+std"``
        follow as ``"{name}_std"``.
    n_threads : int, default=None
        Clips decoded at once; None uses up to 8 (one per CPU).
    runtime : {"auto", "torch", "onnx"}, default="auto"
        What runs the frame backbone, as for :class:`ImageEncoder`.
    quantize : {None, "int8"}, default=None
        ONNX Runtime's int8 quantization of the frame backbone (opt-in), as for
        :class:`ImageEncoder`.

    Attributes
    ----------
    device_, dtype_, model_id_, n_features_out_, failed_rows_, input_config_
        As for :class:`ImageEncoder`. With ``face_crop=True``, the share of sampled
        frames that had a face is logged after each ``transform`` (logger ``"skmm"``).

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.encoders import VideoEncoder
    >>> clips = np.random.default_rng(0).integers(0, 255, (2, 12, 64, 64, 3), dtype=np.uint8)
    >>> enc = VideoEncoder(n_frames=4, temporal_pooling="mean+std", cache=False)
    >>> enc.fit_transform(clips).shape, enc.get_feature_names_out()[1280]
    ((2, 2560), 'video_0_std')
    """

    _modality = "clip"
    _file_kind = "video file"
    _window_items = 16  # 16 clips of 8 preprocessed 224 px frames are about 77 MB
    _read_once_bytes = 16 << 20  # a longer clip is hashed as a stream and decoded from its path

    def __init__(
        self,
        backbone="efficientnet-lite0",
        *,
        n_frames=8,
        fps=None,
        temporal_pooling="mean",
        output="features",
        pooling="auto",
        face_crop=False,
        max_pixels=DEFAULT_MAX_PIXELS,
        batch_size=4,
        device="auto",
        dtype="auto",
        cache=True,
        cache_dir=None,
        on_error="raise",
        progress="auto",
        prefix="video_",
        n_threads=None,
        runtime="auto",
        quantize=None,
    ):
        self.backbone = backbone
        self.output = output
        self.pooling = pooling
        self.face_crop = face_crop
        self.max_pixels = max_pixels
        self.batch_size = batch_size
        self.device = device
        self.dtype = dtype
        self.cache = cache
        self.cache_dir = cache_dir
        self.on_error = on_error
        self.progress = progress
        self.prefix = prefix
        self.n_threads = n_threads
        self.runtime = runtime
        self.quantize = quantize
        self.n_frames = n_frames
        self.fps = fps
        self.temporal_pooling = temporal_pooling

    def _check_params(self):
        super()._check_params()
        if self.temporal_pooling not in _TEMPORAL:
            raise ValueError(f"temporal_pooling={self.temporal_pooling!r}; use one of {_TEMPORAL}.")
        if self.n_frames is not None and not (
            isinstance(self.n_frames, numbers.Integral) and self.n_frames >= 1
        ):
            raise ValueError(f"n_frames={self.n_frames!r}; use a positive integer.")
        if self.n_frames is None and self.fps is None:
            raise ValueError("n_frames=None needs fps: say how many frames to sample.")
        if self.fps is not None and not (isinstance(self.fps, numbers.Real) and self.fps > 0):
            raise ValueError(f"fps={self.fps!r}; use a positive number of frames per second.")

    def _n_features(self):
        width = super()._n_features()
        return 2 * width if self.temporal_pooling == "mean+std" else width

    def _output_params(self):
        return {
            "output": self.output,
            "pooling": self.pooling,
            "face_crop": bool(self.face_crop),
            "input": self.input_config_,
            "n_frames": self.n_frames,
            "fps": self.fps,
            "temporal_pooling": self.temporal_pooling,
        }

    def get_feature_names_out(self, input_features=None):
        """Frame features (as :class:`ImageEncoder` names them), then ``"{name}_std"`` for "mean+std"."""
        names = super(ImageEncoder, self).get_feature_names_out(input_features)
        if self.temporal_pooling == "mean+std":
            names = names[: len(names) // 2]
        if self.output != "features":
            labels = [
                f"{self.prefix}p_{c.replace(' ', '_')}" for c in self.backbone_.spec.classes()
            ]
            keep = len(names) - len(labels) if self.output == "both" else 0
            names = np.asarray([*names[:keep], *labels], dtype=object)
        if self.temporal_pooling == "mean+std":
            names = np.concatenate([names, [f"{n}_std" for n in names]]).astype(object)
        return names

    # -- items ------------------------------------------------------------------------
    def _array_rows(self, X):
        if X.ndim == 5:  # (n_clips, n_frames, H, W, 3)
            return list(X)
        raise ValueError(
            f"VideoEncoder got an array of shape {X.shape}; pass a list of clips (paths, "
            "bytes or (n_frames, H, W, 3) arrays) or a 5-D stack (n_clips, n_frames, H, W, 3)."
        )

    def _check_item(self, item):
        if isinstance(item, (str, os.PathLike, bytes, bytearray)):
            return item
        if isinstance(item, np.ndarray) and item.ndim in (3, 4):
            return item
        if item is None or (isinstance(item, float) and math.isnan(item)):
            raise InputError(
                f"the clip is missing ({item!r}); fill it, drop the row, or let "
                "ModalityUnion treat the modality as absent"
            )
        raise InputError(
            f"expected a video path, bytes or (n_frames, H, W, 3) array, got {type(item).__name__}"
        )

    def _prepare_one(self, item):
        cfg = self.input_config_
        side = _FACE_FRAME_SIDE if self.face_crop else (cfg["resize_shorter"] or cfg["size"])
        frames = read_video(
            item,
            n_frames=self.n_frames,
            fps=self.fps,
            target_size=side,
            max_pixels=self.max_pixels,
            n_threads=1,  # clips decode in parallel in the prepare pool
        )
        found = 0.0
        if self.face_crop:
            frames, found = _crop_faces(frames)
        pixels = np.stack(
            [
                preprocess_image(
                    f, cfg["size"], cfg["mean"], cfg["std"], cfg["resize_shorter"], grey=cfg["grey"]
                )
                for f in frames
            ]
        )
        return WithFacts(pixels, (found,)) if self.face_crop else pixels

    def _size(self, prepared):
        return len(prepared)  # frames in the clip (all equal unless fps is set)

    # -- encoding ---------------------------------------------------------------------
    # A clip's frames are pooled outside the network (in _run_batch): _embed_batch is the
    # image encoder's, per frame, so skmm.finetune must not train through it.
    _fine_tunable = False

    def _run_batch(self, model, batch):
        # every sampled frame through the image backbone (torch or ONNX Runtime), then
        # pooled over each clip's frames
        counts = [len(clip) for clip in batch]
        frames = super()._run_batch(model, [f for clip in batch for f in clip])
        pooled = []
        for clip in np.split(frames, np.cumsum(counts)[:-1]):
            if self.temporal_pooling == "max":
                pooled.append(clip.max(axis=0))
            elif self.temporal_pooling == "mean+std":
                pooled.append(np.concatenate([clip.mean(axis=0), clip.std(axis=0)]))
            else:
                pooled.append(clip.mean(axis=0))
        return np.asarray(pooled, dtype=np.float32)

    def _log_report(self, report):
        if self.face_crop and report.n_rows:  # a log, not an attribute: transform writes nothing
            share = np.nan_to_num(report.facts["face_found"])
            logger.info(
                "VideoEncoder: faces in %.0f%% of sampled frames; %d of %d clips had none.",
                100 * share.mean(),
                int((share == 0).sum()),
                len(share),
            )


def _crop_faces(frames):
    """Crop each frame to its face box, or the nearest frame's box; the share with a face."""
    boxes = [largest_face_box(f) for f in frames]
    have = [i for i, box in enumerate(boxes) if box is not None]
    if not have:
        return list(frames), 0.0
    crops = []
    for i, frame in enumerate(frames):
        nearest = boxes[i] or boxes[min(have, key=lambda j: abs(j - i))]
        top, bottom, left, right = nearest
        crops.append(frame[top:bottom, left:right])
    return crops, len(have) / len(frames)
