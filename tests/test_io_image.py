"""Reading images: formats, colour order, orientation, reduced decoding and bad inputs."""

import functools
import io
import struct
import zlib

import numpy as np
import pytest

from skmm.exceptions import InputError
from skmm.io import load_images, preprocess_image, read_image

cv2 = pytest.importorskip("cv2")


def _scene(h=120, w=160):
    """RGB test image: red left half, blue bottom-right quarter, a green disc."""
    img = np.zeros((h, w, 3), np.uint8)
    img[:, : w // 2] = (255, 0, 0)
    img[h // 2 :, w // 2 :] = (0, 0, 255)
    cv2.circle(img, (w // 4, h // 4), min(h, w) // 8, (0, 255, 0), -1)
    return img


def _write(path, rgb, *args):
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), *args)
    return path


def _png_bytes(height, width):
    """A valid, tiny (well compressed) 1-bit grey PNG of any declared size."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" * (1 + (width + 7) // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row * 1000) for _ in range(height // 1000))
    idat += comp.compress(row * (height % 1000)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_png_path_round_trip_keeps_rgb_order(tmp_path):
    img = _scene()
    out = read_image(_write(tmp_path / "scene.png", img))
    assert out.dtype == np.uint8 and out.shape == img.shape
    np.testing.assert_array_equal(out, img)
    assert tuple(out[5, 5]) == (255, 0, 0)  # red, not opencv's BGR


def test_str_path_bytes_and_non_ascii_name(tmp_path):
    img = _scene()
    path = _write(tmp_path / "scene.png", img)
    target = tmp_path / "visage_é_表情.png"
    target.write_bytes(path.read_bytes())
    np.testing.assert_array_equal(read_image(str(target)), img)
    np.testing.assert_array_equal(read_image(path.read_bytes()), img)
    np.testing.assert_array_equal(read_image(bytearray(path.read_bytes())), img)


def test_jpeg_decodes_close_to_original(tmp_path):
    img = _scene()
    out = read_image(_write(tmp_path / "scene.jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95]))
    assert out.shape == img.shape
    assert np.abs(out.astype(int) - img).mean() < 4


def test_16_bit_one_and_four_channel_files(tmp_path):
    img = _scene()
    img16 = img.astype(np.uint16) * 257
    out = read_image(_write(tmp_path / "deep.png", img16))
    np.testing.assert_array_equal(out, img)
    grey = img[:, :, 1]
    cv2.imwrite(str(tmp_path / "grey.png"), grey)
    out = read_image(tmp_path / "grey.png")
    assert out.shape == img.shape
    np.testing.assert_array_equal(out[:, :, 0], grey)
    np.testing.assert_array_equal(out[:, :, 2], grey)
    bgra = np.dstack([cv2.cvtColor(img, cv2.COLOR_RGB2BGR), np.full(img.shape[:2], 7, np.uint8)])
    cv2.imwrite(str(tmp_path / "alpha.png"), bgra)
    np.testing.assert_array_equal(read_image(tmp_path / "alpha.png"), img)


def test_exif_orientation_is_applied(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    img = _scene(60, 100)
    pil = Image.fromarray(img)
    exif = pil.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = tmp_path / "rotated.jpg"
    pil.save(path, "JPEG", exif=exif.tobytes(), quality=95)
    out = read_image(path)
    expected = np.rot90(img, k=-1)
    assert out.shape == expected.shape == (100, 60, 3)
    assert np.abs(out.astype(int) - expected).mean() < 6
    # the reduced-size decode path honours the tag too
    assert read_image(path, target_size=30).shape == (50, 30, 3)


def test_reduced_jpeg_decode(tmp_path):
    img = cv2.resize(_scene(), (1280, 960), interpolation=cv2.INTER_NEAREST)
    path = _write(tmp_path / "big.jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert read_image(path).shape == (960, 1280, 3)
    assert read_image(path, target_size=224).shape == (240, 320, 3)  # 1/4 scale
    assert read_image(path, target_size=256).shape == (480, 640, 3)  # 1/8 would be 120 < 256
    assert read_image(path, target_size=100).shape == (120, 160, 3)  # 1/8 is the floor
    small = read_image(path, target_size=224)
    ref = cv2.resize(img, (320, 240), interpolation=cv2.INTER_AREA)
    assert np.abs(small.astype(int) - ref).mean() < 6


@pytest.mark.parametrize(
    "shape,dtype",
    [
        ((30, 40), np.uint8),
        ((30, 40, 1), np.uint8),
        ((30, 40, 3), np.uint16),
        ((30, 40, 4), np.uint8),
        ((30, 40, 3), np.float32),
        ((30, 40), bool),
    ],
)
def test_array_inputs(shape, dtype):
    rng = np.random.default_rng(0)
    if dtype is bool:
        arr = rng.random(shape) > 0.5
    elif dtype is np.float32:
        arr = rng.random(shape).astype(dtype)
    else:
        arr = rng.integers(0, np.iinfo(dtype).max, size=shape, dtype=dtype)
    out = read_image(arr)
    assert out.shape == (30, 40, 3) and out.dtype == np.uint8 and out.flags.c_contiguous
    if dtype is np.uint16:
        np.testing.assert_array_equal(out, (arr >> 8).astype(np.uint8))
    if len(shape) == 3 and shape[2] == 4:
        np.testing.assert_array_equal(out, arr[:, :, :3])


@pytest.mark.parametrize(
    "arr,match",
    [
        (np.zeros((4, 4, 2), np.uint8), "shape"),
        (np.zeros((0, 4, 3), np.uint8), "empty"),
        (np.zeros((4, 4, 3), np.int64), "dtype"),
        (np.full((4, 4), 2.0), r"\[0, 1\]"),
        (np.full((4, 4), np.nan), r"\[0, 1\]"),
    ],
)
def test_bad_arrays(arr, match):
    with pytest.raises(InputError, match=match):
        read_image(arr)


def test_missing_empty_directory_and_text_files(tmp_path):
    with pytest.raises(InputError, match="not found.*nope.jpg"):
        read_image(tmp_path / "nope.jpg")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_image(tmp_path / "empty.jpg")
    with pytest.raises(InputError, match="directory"):
        read_image(tmp_path)
    (tmp_path / "notes.jpg").write_text("these are my holiday notes, not a photo\n")
    with pytest.raises(InputError, match="not a known image format.*these are"):
        read_image(tmp_path / "notes.jpg")
    with pytest.raises(InputError, match="None"):
        read_image(None)


@pytest.mark.parametrize(
    "ext,fraction", [(".jpg", 0.5), (".jpg", 0.97), (".png", 0.5), (".png", 0.9)]
)
def test_truncated_files(tmp_path, ext, fraction):
    rng = np.random.default_rng(1)
    img = cv2.GaussianBlur(rng.integers(0, 255, (200, 300, 3), dtype=np.uint8), (5, 5), 0)
    full = _write(tmp_path / f"full{ext}", img).read_bytes()
    cut = tmp_path / f"cut{ext}"
    cut.write_bytes(full[: int(len(full) * fraction)])
    with pytest.raises(InputError, match="truncated|corrupt"):
        read_image(cut)


def test_pixel_limit_refuses_bombs_before_decoding(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_bytes(20000, 20000))
    assert bomb.stat().st_size < 200_000  # 400 megapixels in a few kB
    with pytest.raises(InputError, match="20000 x 20000.*max_pixels=89478485"):
        read_image(bomb)
    with pytest.raises(InputError, match="max_pixels=1000"):
        read_image(bomb.read_bytes(), max_pixels=1000)
    jpg = _write(tmp_path / "ok.jpg", _scene())
    with pytest.raises(InputError, match="120 x 160"):
        read_image(jpg, max_pixels=100 * 100)
    assert read_image(jpg, max_pixels=120 * 160).shape == (120, 160, 3)


def test_preprocess_shapes_values_and_crop():
    img = np.zeros((480, 640, 3), np.uint8)
    img[:, 80:560] = 255  # the centre square is white, the side bands black
    x = preprocess_image(img, 224, mean=(127.5,) * 3, std=(127.5,) * 3)
    assert x.shape == (3, 224, 224) and x.dtype == np.float32 and x.flags.c_contiguous
    np.testing.assert_allclose(x, 1.0, atol=1e-6)  # the centre crop drops the black bands
    g = preprocess_image(img, 64, mean=0.0, std=255.0, grey=True)
    assert g.shape == (1, 64, 64)
    np.testing.assert_allclose(g, 1.0, atol=1e-6)
    with pytest.raises(ValueError, match="resize_shorter"):
        preprocess_image(img, 224, 0, 1, resize_shorter=200)


def test_preprocess_matches_resize_then_crop():
    rng = np.random.default_rng(2)
    img = cv2.GaussianBlur(rng.integers(0, 255, (300, 451, 3), dtype=np.uint8), (9, 9), 0)
    mean, std = np.array([120.0, 110.0, 100.0]), np.array([60.0, 50.0, 40.0])
    x = preprocess_image(img, 224, mean, std, resize_shorter=256)
    big = cv2.resize(img, (385, 256), interpolation=cv2.INTER_AREA)
    ref = big[16:240, 80:304].astype(np.float32)
    ref = ((ref - mean) / std).transpose(2, 0, 1)
    assert np.abs(x - ref).mean() < 0.05  # the same up to sub-pixel crop rounding
    up = preprocess_image(img[:50, :50], 64, 0.0, 1.0)  # enlarging works too
    assert up.shape == (3, 64, 64)


def test_load_images_keeps_good_rows_and_matches_threads(tmp_path):
    paths = [_write(tmp_path / f"{i}.jpg", np.roll(_scene(), 10 * i, axis=1)) for i in range(6)]
    (tmp_path / "bad.jpg").write_text("nope")
    sources = paths[:3] + [tmp_path / "bad.jpg", tmp_path / "missing.png"] + paths[3:]
    prep = functools.partial(preprocess_image, size=32, mean=127.5, std=127.5)
    seq = load_images(sources, preprocess=prep, target_size=32)
    par = load_images(sources, preprocess=prep, target_size=32, n_threads=3)
    assert len(seq) == len(par) == 8
    assert isinstance(seq[3], InputError) and isinstance(seq[4], InputError)
    assert "not found" in str(par[4])
    for a, b in zip(seq[:3] + seq[5:], par[:3] + par[5:]):
        assert a.shape == (3, 32, 32)
        np.testing.assert_array_equal(a, b)
    raw = load_images(iter([io.BytesIO(paths[0].read_bytes()).getvalue()]))
    assert raw[0].shape == (120, 160, 3)
