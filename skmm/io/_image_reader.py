"""Reading images from paths, bytes or arrays, and preprocessing them for a backbone."""

import logging
import os
import struct
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._deps import import_optional
from ..exceptions import InputError
from ._files import FileContent, open_input_file
from ._jpeg_damage import jpeg_damage

logger = logging.getLogger("skmm")

#: Pixel limit above which an image is refused before it is decoded (Pillow's default).
DEFAULT_MAX_PIXELS = 89_478_485


def _cv2():
    return import_optional("cv2", "reading images")


def _describe(source):
    if isinstance(source, FileContent):
        return f"image file {source.path!r}"
    if isinstance(source, (str, os.PathLike)):
        return f"image file {os.fspath(source)!r}"
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "image given as bytes"
    return "image array"


def _jpeg_info(buf):
    """Return ``(height, width, complete)`` from a JPEG's markers, or None if unreadable."""
    i, n, size, scan = 2, len(buf), None, None
    while i + 4 <= n:
        if buf[i] != 0xFF:
            return None
        marker = buf[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", buf[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and i + 9 <= n:
            size = struct.unpack(">HH", buf[i + 5 : i + 9])
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            scan = i
            break
        i += 2 + length
    if size is None:
        return None
    # 0xFFD9 cannot occur inside entropy-coded data (0xFF is stuffed), so its
    # absence after the first scan means the file was cut short
    complete = scan is not None and buf.rfind(b"\xff\xd9") > scan
    return size[0], size[1], complete


def _header_info(buf):
    """``(format, height, width, complete)`` read from the header without decoding."""
    head = bytes(buf[:32])
    if head[:3] == b"\xff\xd8\xff":
        info = _jpeg_info(buf)
        return ("jpeg", *info) if info else ("jpeg", None, None, False)
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        w, h = struct.unpack(">II", head[16:24])
        # the IEND chunk closes every PNG; tolerate a little trailing data after it
        return "png", h, w, b"IEND" in bytes(buf[-1024:])
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        w, h = struct.unpack("<HH", head[6:10])
        return "gif", h, w, True
    if head[:2] == b"BM" and len(head) >= 26:
        w, h = struct.unpack("<ii", head[18:26])
        return "bmp", abs(h), abs(w), True
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and len(head) >= 30:
        if head[12:16] == b"VP8X":
            w = 1 + int.from_bytes(head[24:27], "little")
            h = 1 + int.from_bytes(head[27:30], "little")
            return "webp", h, w, True
        return "webp", None, None, True
    return None, None, None, True


def _array_to_rgb(image):
    """Bring an array (grey, RGB, RGBA; uint8, uint16 or float in [0, 1]) to uint8 RGB."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise InputError(
            f"expected an H x W, H x W x 3 or H x W x 4 image, got shape {image.shape}"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise InputError(f"image array is empty (shape {image.shape})")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)  # the same scaling opencv uses for 16-bit files
    elif image.dtype.kind == "f":
        if not np.isfinite(image).all() or image.min() < 0 or image.max() > 1:
            raise InputError("float image arrays must hold finite values in [0, 1]")
        image = np.round(image * 255).astype(np.uint8)
    elif image.dtype == bool:
        image = image.astype(np.uint8) * 255
    elif image.dtype != np.uint8:
        raise InputError(
            f"unsupported image dtype {image.dtype}; use uint8, uint16 or float in [0, 1]"
        )
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])


def _read_bytes(source):
    with open_input_file(source, "image file") as handle:
        return handle.read()


def _decode(buf, max_pixels, target_size, what, strict=True):
    cv2 = _cv2()
    if len(buf) == 0:
        raise InputError(f"{what} is empty (0 bytes)")
    fmt, h, w, complete = _header_info(buf)
    if h is not None and h * w > max_pixels:
        raise InputError(
            f"{what} has {h} x {w} = {h * w} pixels, over the limit max_pixels={max_pixels} "
            "(a possible decompression bomb); raise max_pixels if you trust the file"
        )
    if not complete:
        raise InputError(f"{what} is truncated: the {fmt.upper()} data ends before the image does")
    scale = 1
    if fmt == "jpeg" and target_size is not None and h is not None:
        # libjpeg decodes at 1/2, 1/4, 1/8 scale almost for free (DCT scaling)
        while scale < 8 and min(h, w) // (scale * 2) >= target_size:
            scale *= 2
    flags = {
        1: cv2.IMREAD_COLOR,
        2: cv2.IMREAD_REDUCED_COLOR_2,
        4: cv2.IMREAD_REDUCED_COLOR_4,
        8: cv2.IMREAD_REDUCED_COLOR_8,
    }[scale]
    rgb_flag = getattr(cv2, "IMREAD_COLOR_RGB", None)  # opencv >= 4.10 decodes straight to RGB
    if rgb_flag is not None:
        flags = (flags & ~cv2.IMREAD_COLOR) | rgb_flag
    try:
        image = cv2.imdecode(np.frombuffer(buf, np.uint8), flags)
    except cv2.error as exc:
        raise InputError(f"cannot decode {what}: {exc}") from exc
    if image is None:
        if fmt is None:
            raise InputError(
                f"cannot decode {what}: not a known image format (it starts with {bytes(buf[:12])!r})"
            )
        raise InputError(f"cannot decode {what}: the {fmt.upper()} data is corrupt or truncated")
    if h is None and image.shape[0] * image.shape[1] > max_pixels:
        raise InputError(
            f"{what} has {image.shape[0]} x {image.shape[1]} pixels, over max_pixels={max_pixels}"
        )
    if fmt == "jpeg":  # libjpeg mends corrupt scan data silently: look for it
        damage = jpeg_damage(buf)
        if damage and strict:
            raise InputError(
                f"{what} is damaged: {damage} (libjpeg would fill the damaged blocks with "
                "guesses); re-export or drop the file, or pass strict=False to decode it "
                "as best it can"
            )
        if damage:
            logger.warning("skmm: %s is damaged (%s); decoded as best libjpeg can.", what, damage)
    if rgb_flag is None:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return image


def read_image(source, *, max_pixels=DEFAULT_MAX_PIXELS, target_size=None, strict=True):
    """Read one image as a uint8 RGB array.

    Parameters
    ----------
    source : str, os.PathLike, bytes or ndarray
        A file path, the encoded file content, or an array given as RGB:
        ``H x W`` grey, ``H x W x 3`` or ``H x W x 4`` (alpha is dropped), of dtype
        uint8, uint16 (scaled to uint8 like opencv does) or float in ``[0, 1]``.
    max_pixels : int, default=89_478_485
        Files whose header declares more pixels are refused before decoding.
        For formats whose size cannot be read from the header (e.g. TIFF), the
        limit is checked after decoding.
    target_size : int, optional
        The smallest shorter side the caller needs. A JPEG much larger than that
        is decoded at 1/2, 1/4 or 1/8 scale, keeping its shorter side at least
        ``target_size``.
    strict : bool, default=True
        A JPEG whose compressed data is damaged (libjpeg reports corrupt data and mends
        it with guesses) raises an InputError naming the damage. ``False`` returns what
        libjpeg decodes and logs a warning.

    Returns
    -------
    image : ndarray of shape (H, W, 3), dtype uint8
        RGB, with the EXIF orientation applied.

    Raises
    ------
    skmm.exceptions.InputError
        The item cannot be read: missing, empty, truncated, damaged (``strict=True``),
        not an image, or too large.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.io import read_image
    >>> read_image(np.zeros((4, 5), dtype=np.uint8)).shape
    (4, 5, 3)
    """
    if isinstance(source, (str, os.PathLike)):
        return _decode(_read_bytes(source), max_pixels, target_size, _describe(source), strict)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _decode(bytes(source), max_pixels, target_size, _describe(source), strict)
    if source is None:
        raise InputError("expected an image path, bytes or array, got None")
    return _array_to_rgb(source)


def preprocess_image(image, size, mean, std, resize_shorter=None, grey=False):
    """Resize the shorter side, centre-crop and normalise one RGB image.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), dtype uint8
        An RGB image as returned by :func:`read_image`.
    size : int
        Side of the square output.
    mean, std : float or sequence of float
        Per-channel statistics in pixel units (0-255): ``(x - mean) / std``.
    resize_shorter : int, optional
        Shorter side after resizing, before the crop (defaults to ``size``).
        ``256`` with ``size=224`` is the usual ImageNet evaluation recipe.
    grey : bool, default=False
        Convert to one grey channel first.

    Returns
    -------
    x : ndarray of shape (C, size, size), dtype float32
        ``C`` is 3, or 1 when ``grey=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.io import preprocess_image
    >>> img = np.full((480, 640, 3), 255, dtype=np.uint8)
    >>> x = preprocess_image(img, 224, mean=127.5, std=127.5)
    >>> x.shape, float(x.max())
    ((3, 224, 224), 1.0)
    """
    cv2 = _cv2()
    shorter = size if resize_shorter is None else resize_shorter
    if shorter < size:
        raise ValueError(f"resize_shorter={shorter} must be at least size={size}")
    if grey:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    h, w = image.shape[:2]
    scale = shorter / min(h, w)
    # crop the source region first: resizing pixels that the crop drops is wasted work
    ch, cw = min(h, round(size / scale)), min(w, round(size / scale))
    top, left = (h - ch) // 2, (w - cw) // 2
    region = image[top : top + ch, left : left + cw]
    # INTER_AREA anti-aliases real shrinking; for ratios under 1.5 (e.g. after a reduced
    # JPEG decode) bilinear gives nearly the same pixels about four times faster
    interp = cv2.INTER_AREA if scale < 2 / 3 else cv2.INTER_LINEAR
    out = cv2.resize(region, (size, size), interpolation=interp)
    planes = cv2.split(out.reshape(size, size, -1))
    inv_std = 1.0 / np.broadcast_to(np.asarray(std, np.float32).reshape(-1), (len(planes),))
    shift = -np.broadcast_to(np.asarray(mean, np.float32).reshape(-1), (len(planes),)) * inv_std
    x = np.empty((len(planes), size, size), np.float32)
    for c, plane in enumerate(planes):  # per plane: no float HWC temporary, no transpose copy
        np.multiply(plane, inv_std[c], out=x[c], dtype=np.float32)
        x[c] += shift[c]
    return x


def _load_one(source, max_pixels, target_size, preprocess):
    try:
        image = read_image(source, max_pixels=max_pixels, target_size=target_size)
        return image if preprocess is None else preprocess(image)
    except InputError as exc:
        return exc


def load_images(
    sources, *, preprocess=None, target_size=None, max_pixels=DEFAULT_MAX_PIXELS, n_threads=1
):
    """Read (and optionally preprocess) many images with a thread pool.

    opencv releases the GIL while decoding and resizing, so threads scale.
    A bad item does not stop the others: its slot holds the
    :class:`~skmm.exceptions.InputError` that describes it.

    Parameters
    ----------
    sources : iterable
        Paths, bytes or arrays, as accepted by :func:`read_image`.
    preprocess : callable, optional
        Applied to each decoded uint8 RGB image inside the worker, e.g.
        ``functools.partial(preprocess_image, size=224, mean=127.0, std=128.0)``.
    target_size : int, optional
        Passed to :func:`read_image` (reduced-size JPEG decoding).
    max_pixels : int, default=89_478_485
        Passed to :func:`read_image`.
    n_threads : int, default=1
        Worker threads; 1 reads in the calling thread.

    Returns
    -------
    results : list
        One entry per source: the (preprocessed) array, or an ``InputError``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.io import load_images
    >>> out = load_images([np.zeros((8, 8, 3), np.uint8), "missing.jpg"])
    >>> out[0].shape, type(out[1]).__name__
    ((8, 8, 3), 'InputError')
    """
    sources = list(sources)
    args = (max_pixels, target_size, preprocess)
    if n_threads <= 1 or len(sources) <= 1:
        return [_load_one(s, *args) for s in sources]
    with ThreadPoolExecutor(max_workers=min(n_threads, len(sources))) as pool:
        return list(pool.map(lambda s: _load_one(s, *args), sources))
