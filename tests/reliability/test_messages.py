"""Messages read as sentences: articles agree, no doubled full stops."""

import pytest

from skmm.exceptions import InputError
from skmm.io._files import open_input_file


@pytest.mark.parametrize(
    ("what", "expected"),
    [("file", "expected a file,"), ("image file", "expected an image file,")],
)
def test_a_directory_given_as_a_file_is_named_with_the_right_article(tmp_path, what, expected):
    with pytest.raises(InputError) as info:
        open_input_file(tmp_path, what) if what != "file" else open_input_file(tmp_path)
    assert str(info.value).startswith(expected)
