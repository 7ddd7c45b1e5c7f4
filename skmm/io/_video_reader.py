"""Reading video clips: RGB frames sampled over a clip, streamed with PyAV."""

import os

import numpy as np

from ..exceptions import InputError
from ._image_reader import DEFAULT_MAX_PIXELS
from ._video_open import _av, _open, _reason, _streams

#: File name endings read as video containers (their audio track feeds MelEncoder).
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".flv")
# Containers whose first bytes say "not a sound file for libsndfile": ISO-BMFF, Matroska/WebM,
# FLV, AVI (RIFF....AVI).
_MAGIC = ((4, b"ftyp"), (0, b"\x1a\x45\xdf\xa3"), (0, b"FLV"), (8, b"AVI "))
# Frames (in frame durations) before a sample time that are decoded in full; farther from
# every sample, FFmpeg skips the frames nothing refers to (most B-frames): a third fewer.
_WANTED_WINDOW = 1.5
# A clip whose decoded frames stop this far before the length its header declares is truncated.
_TRUNCATED_AFTER = 0.1


def is_video(source):
    """Whether ``source`` (a path or the file's bytes) is a video container.

    Examples
    --------
    >>> from skmm.io import is_video
    >>> is_video("clip.MP4"), is_video("voice.wav"), is_video(b"....ftypisom")
    (True, False, True)
    """
    path = getattr(source, "path", None)  # a file's bytes read once by the encoder base
    if path is not None and path.lower().endswith(VIDEO_SUFFIXES):
        return True
    if isinstance(source, (bytes, bytearray, memoryview)):
        head = bytes(source[:12])
        return any(head[at : at + len(magic)] == magic for at, magic in _MAGIC)
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source).lower().endswith(VIDEO_SUFFIXES)
    return False


def _video_stream(container, what, n_threads):
    if not container.streams.video:
        raise InputError(
            f"the {what} has no video stream (it holds: {_streams(container) or 'nothing'}); "
            "give VideoEncoder a clip with pictures"
        )
    stream = container.streams.video[0]
    if stream.codec_context is None or not stream.codec_context.name:
        raise InputError(f"the {what} uses a video codec that FFmpeg cannot decode")
    stream.thread_type = "AUTO"  # frame and slice threads
    # One per core, as OpenCV does (FFmpeg's own choice is one more than the cores).
    stream.codec_context.thread_count = n_threads or os.cpu_count() or 1
    return stream


def _target_times(start, length, n_frames, fps):
    """Sample times (seconds from the clip start): segment centres, or every 1/fps."""
    if fps is not None:
        times = (np.arange(max(1, int(length * fps))) + 0.5) / fps
        if n_frames is not None and len(times) > n_frames:
            times = times[np.linspace(0, len(times) - 1, n_frames).round().astype(int)]
    else:
        times = (np.arange(n_frames) + 0.5) * length / n_frames
    return start + times


def _clip_span(container, stream):
    """(start, length) in seconds, from the stream header, the container, or the packets."""
    tb = float(stream.time_base)
    start = (stream.start_time or 0) * tb
    if stream.duration:
        return start, stream.duration * tb
    if container.duration:
        return start, container.duration / 1e6
    times = [p.pts * tb for p in container.demux(stream) if p.pts is not None]  # packets only
    container.seek(0)
    if not times:
        return start, 0.0
    rate = float(stream.average_rate or stream.guessed_rate or 25)
    return min(times), max(times) - min(times) + 1.0 / rate


def _keyframe_times(stream):
    """Times of the keyframes the container's index lists (empty without an index)."""
    try:
        entries = stream.index_entries
        tb = float(stream.time_base)
        return np.asarray(sorted(e.timestamp * tb for e in entries if e.is_keyframe))
    except (AttributeError, TypeError):
        return np.empty(0)


def _out_size(stream, target_size, max_pixels, what):
    w, h = stream.codec_context.width, stream.codec_context.height
    if w and h and w * h > max_pixels:
        raise InputError(
            f"the {what} has {h} x {w} = {h * w} pixel frames, over max_pixels={max_pixels}; "
            "raise max_pixels if you trust the file"
        )
    if not (w and h) or target_size is None or min(w, h) <= target_size:
        return None
    scale = target_size / min(w, h)
    return max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2)


def read_video(
    source, *, n_frames=8, fps=None, target_size=None, max_pixels=DEFAULT_MAX_PIXELS, n_threads=0
):
    """Read frames sampled evenly over a video clip, as uint8 RGB arrays.

    The clip is streamed: frames are decoded in order and dropped unless sampled, and
    when the container's index shows a keyframe between the current frame and the next
    sample, the reader seeks there instead of decoding the gap. Memory stays at the
    sampled frames plus the decoder's few reference frames, whatever the clip's length.

    Parameters
    ----------
    source : str, os.PathLike, bytes or ndarray
        A video file (mp4, mov, mkv, webm, avi, flv, ...; any container and codec the
        FFmpeg in PyAV's wheels reads), its content as bytes, or an array of frames of
        shape (n, H, W, 3) (RGB) or (n, H, W) (grey), sampled the same way.
    n_frames : int, default=8
        Number of frames, one at the centre of each of ``n_frames`` equal parts of the
        clip. A clip with fewer frames gives some frames more than once (a one-frame
        clip gives it ``n_frames`` times). With ``fps``, the most frames kept (evenly
        thinned), or None for no limit.
    fps : float, optional
        Sample this many frames per second instead (at least one frame); files only.
    target_size : int, optional
        Shrink frames whose shorter side is larger to this shorter side while
        converting them to RGB (one pass, no full-size copy). None keeps the size.
    max_pixels : int, default=89_478_485
        Clips whose frames have more pixels are refused before decoding.
    n_threads : int, default=0
        Decoder threads; 0 uses one per core.

    Returns
    -------
    frames : ndarray of shape (n, H, W, 3), dtype uint8
        RGB frames in time order, with the rotation in the clip's metadata applied
        (a phone video shot upright comes out upright).

    Raises
    ------
    skmm.exceptions.InputError
        The clip is missing, empty, a folder, truncated, corrupt, has no video stream,
        a codec FFmpeg cannot decode, no decodable frame, or frames over ``max_pixels``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.io import read_video
    >>> frames = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1) * np.ones((1, 4, 6, 3), np.uint8)
    >>> clip = read_video(frames, n_frames=3)
    >>> clip.shape, clip[:, 0, 0, 0].tolist()
    ((3, 4, 6, 3), [1, 5, 8])
    """
    if fps is None and (n_frames is None or int(n_frames) < 1):
        raise ValueError(f"n_frames={n_frames!r}; use a positive integer (or give fps).")
    if fps is not None and not float(fps) > 0:
        raise ValueError(f"fps={fps!r}; use a positive number of frames per second.")
    if isinstance(source, np.ndarray):
        return _from_array(source, n_frames, fps)
    if source is None:
        raise InputError("expected a video path or bytes, got None")
    with _open(source) as (container, what):
        stream = _video_stream(container, what, n_threads)
        size = _out_size(stream, target_size, max_pixels, what)
        start, length = _clip_span(container, stream)
        times = _target_times(start, length, n_frames, fps)
        frames, last, complete, damage = _sample(
            container, stream, times, _keyframe_times(stream), size, what
        )
    if not complete and length > 1.0 and last < start + (1 - _TRUNCATED_AFTER) * length - 1.0:
        raise InputError(
            f"the {what} is truncated: its frames stop at {last - start:.1f} s but its "
            f"header says {length:.1f} s"
        ) from damage
    if damage is not None:
        raise InputError(f"cannot decode the {what}: {_reason(damage)}") from damage
    return np.stack(frames)


def _from_array(frames, n_frames, fps):
    frames = np.asarray(frames)
    if frames.ndim == 3:
        frames = np.repeat(frames[..., None], 3, axis=-1)
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise InputError(
            f"a clip given as an array must have shape (n, H, W, 3) or (n, H, W), got {frames.shape}"
        )
    if frames.dtype != np.uint8:
        raise InputError(f"a clip given as an array must be uint8 RGB, got {frames.dtype}")
    if fps is not None:
        raise InputError("a clip given as an array has no frame rate: sample it with n_frames")
    times = _target_times(0.0, float(len(frames)), n_frames, None)
    return frames[np.minimum(times.astype(int), len(frames) - 1)]


def _to_rgb(frame, size, reformatter):
    kwargs = {} if size is None else {"width": size[0], "height": size[1]}
    # One thread: a frame converts in a fraction of a millisecond, less than it takes to
    # start and wait for the scaler's slice threads (15 % of the reading time on a busy 2-core box).
    image = reformatter.reformat(frame, format="rgb24", threads=1, **kwargs).to_ndarray()
    return _rotate(image, getattr(frame, "rotation", 0) or 0)


def _sample(container, stream, times, keyframes, size, what):
    """Decode in order, keeping the frame shown at each sample time; seek over long gaps."""
    av = _av()
    tb = float(stream.time_base)
    window = _WANTED_WINDOW / float(stream.average_rate or stream.guessed_rate or 25)
    chosen, i, prev, prev_rgb, damage = [], 0, None, None, None
    reformatter = av.video.reformatter.VideoReformatter()  # one scaler for all the samples
    position = -np.inf  # time of the last decoded frame

    def wanted(t):  # may this frame be shown at a sample time still to come?
        k = np.searchsorted(times, t - 1e-6)
        return k < len(times) and times[k] - window < t

    def rgb(frame):
        nonlocal prev_rgb
        if prev_rgb is None or prev_rgb[0] is not frame:
            prev_rgb = (frame, _to_rgb(frame, size, reformatter))
        return prev_rgb[1]

    end, finished = times[-1] + 1e-6, []
    frames = _decoded(container, stream, wanted, end, finished)
    try:
        while i < len(times):
            if _worth_seeking(keyframes, position, times[i]):
                container.seek(int(times[i] / tb), stream=stream, backward=True)
                frames, prev = _decoded(container, stream, wanted, end, finished), None
            frame = next(frames, None)
            if frame is None:
                break
            t = frame.pts * tb if frame.pts is not None else position + window / _WANTED_WINDOW
            while i < len(times) and t > times[i] + 1e-6:
                chosen.append(rgb(prev if prev is not None else frame))
                i += 1
            prev, position = frame, t
    except av.FFmpegError as exc:
        # After some frames, read_video tells a cut file (frames stop early) from damage;
        # the error surfaces here with one or two decoding threads, is dropped with more.
        if prev is None:
            raise InputError(f"cannot decode the {what}: {_reason(exc)}") from exc
        damage = exc
    finally:
        stream.codec_context.skip_frame = "DEFAULT"
    if prev is None:
        raise InputError(f"the {what} holds no decodable video frame")
    last = rgb(prev)
    chosen += [last] * (len(times) - i)  # samples after the last frame shown get the last frame
    # complete: the frames did not run out before the last sample time (end of file, damage)
    return chosen, position, i == len(times) or bool(finished), damage


def _decoded(container, stream, wanted, end, finished):
    """The stream's frames from here on, up to the last one shown at or before ``end``.

    Non-reference frames that ``wanted`` refuses are skipped. A frame is decoded before it
    is shown (dts <= pts), so once a packet's decoding time passes ``end`` every frame
    shown by then has been sent: the decoder gives back what it holds, reading stops, and
    ``finished`` gets an item.
    """
    context = stream.codec_context
    tb = float(stream.time_base)
    for packet in container.demux(stream):
        if packet.dts is not None and packet.dts * tb > end:
            finished.append(packet.dts * tb)
            yield from context.decode(None)
            return
        keep = packet.pts is None or wanted(packet.pts * tb)
        context.skip_frame = "DEFAULT" if keep else "NONREF"
        yield from packet.decode()


def _worth_seeking(keyframes, position, target):
    """Seek when a keyframe lies between the last decoded frame and the target."""
    if len(keyframes) == 0:
        return False
    k = np.searchsorted(keyframes, target, side="right") - 1
    return k >= 0 and keyframes[k] > position + 1e-6 and position > -np.inf


def _rotate(image, degrees):
    """Apply a display rotation (counter-clockwise degrees, as FFmpeg's display matrix)."""
    turns = round(degrees / 90) % 4
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image
