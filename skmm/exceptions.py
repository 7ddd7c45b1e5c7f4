"""Exceptions raised by skmm."""


class InputError(ValueError):
    """One input item cannot be read or encoded.

    Raised by readers (images, audio, text) for a single item; the encoder base
    wraps it into an :class:`EncodingError` that names the row and the file.
    """


class EncodingError(ValueError):
    """An encoder failed on a row; the message names the row and, where there is one, the file.

    Attributes
    ----------
    row : int
        Position of the failing row in the input passed to ``transform``.
    source : str or None
        The file path of that row, when the row is a path.
    """

    def __init__(self, message, row=None, source=None):
        super().__init__(message)
        self.row = row
        self.source = source
