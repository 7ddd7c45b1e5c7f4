"""Opening a video container with PyAV, with the errors of skmm's other readers."""

import contextlib
import io
import os

from .._deps import import_optional
from ..exceptions import InputError
from ._files import open_input_file

# Opening a file decodes the first frames of each stream to learn sizes and rates that the
# headers of mp4, mkv or webm already hold; skipping those pictures makes opening a short
# clip about three times faster. A container whose header leaves them out is opened again.
_QUICK_PROBE = {"skip_frame": "all", "threads": "1"}


def _av():
    return import_optional("av", "reading video clips")


def _describe(source):
    path = getattr(source, "path", None)  # a file's bytes read once by the encoder base
    if path is not None:
        return f"video file {path!r}"
    if isinstance(source, (str, os.PathLike)):
        return f"video file {os.fspath(source)!r}"
    return "video given as bytes"


@contextlib.contextmanager
def _open(source):
    """The PyAV container of a path or bytes, with the errors of skmm's other readers."""
    av = _av()
    what = _describe(source)
    with contextlib.ExitStack() as stack:
        if isinstance(source, (bytes, bytearray, memoryview)):
            if len(source) == 0:
                raise InputError("the video bytes are empty (0 bytes)")
            handle = io.BytesIO(bytes(source))
        else:
            handle = stack.enter_context(open_input_file(source, "video file"))
        try:
            container = stack.enter_context(_open_container(av, handle))
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise InputError(
                f"cannot open {what}: {_reason(exc)}. It is truncated, corrupt or not a "
                "video container (readable: mp4, mov, mkv, webm, avi, flv, ...)"
            ) from exc
        yield container, what


def _open_container(av, handle):
    """Open with the quick probe; again with the full one if a size or a rate is missing."""
    container = av.open(handle, mode="r", options=_QUICK_PROBE)
    if _described(container):
        return container
    container.close()
    handle.seek(0)
    return av.open(handle, mode="r")


def _described(container):
    """Whether the header gave every picture stream its size and every sound stream its rate."""
    for stream in container.streams:
        context = stream.codec_context
        if context is None or stream.type not in ("video", "audio"):
            continue
        if stream.type == "video" and not (context.width and context.height):
            return False
        if stream.type == "audio" and not (context.sample_rate and context.channels):
            return False
    return True


def _reason(exc):
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _streams(container):
    return ", ".join(f"{s.type} {getattr(s.codec_context, 'name', '?')}" for s in container.streams)
