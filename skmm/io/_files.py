"""Opening the file behind a row, with one clear error per way it can be wrong."""

import os

from skmm.exceptions import InputError


def open_input_file(path, what="file"):
    """Open ``path`` for binary reading.

    Raises :class:`~skmm.exceptions.InputError` saying whether it is missing, a folder,
    empty or unreadable.

    Parameters
    ----------
    path : str or path-like
    what : str, default="file"
        What the file should be, for messages ("image file", "audio file").

    Returns
    -------
    handle : binary file object, to use in a ``with`` block

    Examples
    --------
    >>> from skmm.io._files import open_input_file
    >>> try:
    ...     open_input_file("/no/such.wav", "audio file")
    ... except ValueError as exc:
    ...     print(exc)
    audio file not found: '/no/such.wav' does not exist
    """
    path = os.fspath(path)
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{what} not found: {path!r} does not exist") from None
    except IsADirectoryError:
        article = "an" if what[:1].lower() in "aeiou" else "a"
        raise InputError(f"expected {article} {what}, but {path!r} is a directory") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {path!r}: {exc.strerror or exc}") from None
    if os.fstat(handle.fileno()).st_size == 0:
        handle.close()
        raise InputError(f"{what} {path!r} is empty (0 bytes)")
    return handle


class FileContent(bytes):
    """A file's bytes, read once, that remember the path they came from.

    The encoder base reads each file once, in a worker thread: the bytes are hashed for
    the cache key and then decoded, and errors still name the file.

    Examples
    --------
    >>> from skmm.io._files import FileContent
    >>> content = FileContent(b"RIFF", "clip.wav")
    >>> bytes(content), content.path
    (b'RIFF', 'clip.wav')
    """

    def __new__(cls, data, path):
        self = super().__new__(cls, data)
        self.path = os.fspath(path)
        return self

    def __reduce__(self):
        return (FileContent, (bytes(self), self.path))


def read_file_content(path, what="file"):
    """Read a whole file as :class:`FileContent` (errors as :func:`open_input_file`).

    Parameters
    ----------
    path : str or path-like
    what : str, default="file"

    Returns
    -------
    content : FileContent

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skmm.io._files import read_file_content
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"; _ = p.write_bytes(b"hi")
    >>> read_file_content(p).path == str(p)
    True
    """
    with open_input_file(path, what) as handle:
        return FileContent(handle.read(), path)
