"""The encoders that the shared contract suite (test_encoder_contract.py) runs on.

Each case is ``(make_encoder, make_rows)``: ``make_encoder(request)`` builds an unfitted
encoder (it may ask pytest for fixtures with ``request.getfixturevalue(name)``, e.g. a tiny
model built in a temp dir), ``make_rows(tmp_path)`` returns at least 8 raw rows and their
binary labels. Add one entry per encoder configuration.
"""

import pytest
from conftest import WORDS


def _text_rows(tmp_path):
    texts = [f"{WORDS[i % 7]} {WORDS[(3 * i) % 11]} day {i}" for i in range(10)]
    return texts, [i % 2 for i in range(10)]


def _tiny_text(request):
    from skmm import TextEncoder

    return TextEncoder(request.getfixturevalue("tiny_text_model"), batch_size=4)


def _minilm(request):
    from skmm import TextEncoder

    return TextEncoder(batch_size=8)


def _minilm_onnx(request):
    from skmm import TextEncoder

    pytest.importorskip("onnxruntime")
    return TextEncoder(batch_size=8, runtime="onnx")


def _tiny_text_int8(request):
    from skmm import TextEncoder

    pytest.importorskip("onnxruntime")
    model = request.getfixturevalue("tiny_text_model")
    return TextEncoder(model, batch_size=4, runtime="onnx", quantize="int8")


CASES = {
    "TextEncoder-tiny": (_tiny_text, _text_rows),
    "TextEncoder-minilm": (_minilm, _text_rows),
    "TextEncoder-minilm-onnx": (_minilm_onnx, _text_rows),
    "TextEncoder-tiny-onnx-int8": (_tiny_text_int8, _text_rows),
}

from image_cases import IMAGE_CASES  # noqa: E402

CASES.update(IMAGE_CASES)

from audio_cases import AUDIO_CASES  # noqa: E402

CASES.update(AUDIO_CASES)


def _written_by_hand(request):
    """The encoder of the "Writing your own encoder" page (examples/writing_an_encoder.py)."""
    import importlib.util
    import pathlib
    import sys

    module = sys.modules.get("writing_an_encoder")
    if module is None:  # imported once, by name, so that pickle finds the class again
        path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "writing_an_encoder.py"
        spec = importlib.util.spec_from_file_location("writing_an_encoder", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["writing_an_encoder"] = module
        spec.loader.exec_module(module)
    return module.ColourHistogramEncoder(bins=4, batch_size=4)


def _written_rows(tmp_path):
    from image_cases import write_images

    return write_images(tmp_path / "images")


CASES["ColourHistogramEncoder-example"] = (_written_by_hand, _written_rows)


from video_cases import VIDEO_CASES  # noqa: E402

CASES.update(VIDEO_CASES)
