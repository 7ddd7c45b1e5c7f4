"""Finding damage in a JPEG's compressed data, which opencv decodes without a word.

libjpeg recovers from corrupt entropy-coded data (bad Huffman codes, stray markers, a
scan that ends early): it prints "Corrupt JPEG data: ..." on the C stderr and fills the
damaged blocks with guesses, and opencv returns the image as if it were whole. The C
stderr cannot be read back safely while other threads decode, so the scan is decoded a
second time with simplejpeg (libjpeg-turbo), whose ``strict`` mode turns those warnings
into errors. It decodes at 1/8 scale and in grey: every Huffman code is still read,
where all the damage shows, for a fraction of the cost of a full decode.
"""

from .._deps import import_optional

# colour spaces libjpeg-turbo cannot turn into grey; decoded as they are
_NOT_TO_GREY = ("CMYK", "YCCK")


def jpeg_damage(buf):
    """What libjpeg found wrong in a JPEG's compressed data, or None if it decodes cleanly.

    Parameters
    ----------
    buf : bytes
        The JPEG file's content; opencv has already decoded it.

    Returns
    -------
    str or None
        libjpeg's message, e.g. ``"Corrupt JPEG data: premature end of data segment"``.

    Examples
    --------
    >>> import cv2, numpy as np
    >>> from skmm.io._jpeg_damage import jpeg_damage
    >>> ok, buf = cv2.imencode(".jpg", np.full((16, 16, 3), 128, np.uint8))
    >>> print(jpeg_damage(buf.tobytes()))
    None
    """
    simplejpeg = import_optional("simplejpeg", "checking JPEG files for damage")
    buf = bytes(buf)
    try:
        _, _, colorspace, _ = simplejpeg.decode_jpeg_header(buf)
        space = colorspace.upper() if colorspace.upper() in _NOT_TO_GREY else "GRAY"
        simplejpeg.decode_jpeg(buf, colorspace=space, min_factor=8, strict=True)
    except ValueError as exc:
        return str(exc).rstrip(".")
    return None
