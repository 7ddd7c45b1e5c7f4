"""VideoEncoder: sampled frames through an image backbone, pooled over time; bad clips."""

import logging

import numpy as np
import pytest
from video_cases import tone, write_clip, write_clips

from skmm.encoders import ImageEncoder, MelEncoder, VideoEncoder
from skmm.exceptions import EncodingError
from skmm.io import read_video
from skmm.io._video_writer import write_video

pytest.importorskip("av")


@pytest.fixture
def clips(tmp_path):
    return write_clips(tmp_path / "clips", n=3)[0]


@pytest.mark.parametrize("pooling", ["mean", "max", "mean+std"])
def test_clip_vector_pools_the_frame_embeddings(clips, pooling):
    enc = VideoEncoder(n_frames=3, temporal_pooling=pooling, cache=False).fit(clips)
    Z = enc.transform(clips)
    frames = [f for clip in clips for f in read_video(clip, n_frames=3, target_size=256)]
    per_frame = ImageEncoder(cache=False).fit(frames).transform(frames).reshape(3, 3, -1)
    expected = {
        "mean": per_frame.mean(axis=1),
        "max": per_frame.max(axis=1),
        "mean+std": np.concatenate([per_frame.mean(axis=1), per_frame.std(axis=1)], axis=1),
    }[pooling]
    np.testing.assert_allclose(Z, expected, atol=1e-4)
    names = enc.get_feature_names_out()
    assert len(names) == Z.shape[1] and names[0] == "video_0"
    assert (names[-1] == "video_1279_std") == (pooling == "mean+std")


def test_probabilities_names_and_fps_sampling(clips):
    enc = VideoEncoder("face-expression", output="probabilities", fps=2, n_frames=None)
    Z = enc.set_params(temporal_pooling="mean+std", cache=False).fit(clips).transform(clips)
    names = enc.get_feature_names_out().tolist()
    assert Z.shape == (3, 14) and names[0] == "video_p_angry" and names[7] == "video_p_angry_std"
    np.testing.assert_allclose(Z[:, :7].sum(axis=1), 1.0, atol=1e-5)


def test_the_cache_key_covers_frames_and_pooling(tmp_path):
    clips = [write_clip(tmp_path / "moving.mp4", n=20)]  # each frame a different grey
    first = VideoEncoder(n_frames=2).fit(clips)
    a = first.transform(clips)
    other = VideoEncoder(n_frames=4).fit(clips)
    assert first._cache().namespace != other._cache().namespace
    assert not np.allclose(a, other.transform(clips))
    np.testing.assert_array_equal(VideoEncoder(n_frames=2).fit(clips).transform(clips), a)
    keys = {VideoEncoder(temporal_pooling=p).fit(clips)._cache().namespace for p in ("mean", "max")}
    assert len(keys) == 2


def _face_clip(tmp_path, blank):
    from skimage import data

    face = data.astronaut()[:256, 96:352]  # 256 x 256, the face in the upper middle
    frames = [np.full_like(face, 90) if i in blank else face for i in range(4)]
    return write_video(tmp_path / "face.mp4", frames, 4, options={"crf": "10"})


def test_face_crop_reuses_the_nearest_box_and_logs_the_share(tmp_path, caplog):
    from skimage import data

    from skmm.encoders._video_encoder import _crop_faces

    face = data.astronaut()[:256, 96:352]
    crops, share = _crop_faces([face, np.full_like(face, 90), face])
    assert share == pytest.approx(2 / 3)
    assert crops[1].shape == crops[0].shape and crops[0].shape[0] < 200
    assert (crops[1] == 90).all()  # the blank frame is cut at the face's place
    assert _crop_faces([np.full_like(face, 90)] * 2)[1] == 0.0

    path = _face_clip(tmp_path, blank={1})
    enc = VideoEncoder("face-expression", face_crop=True, n_frames=4, cache=False).fit([path])
    before = set(vars(enc))
    with caplog.at_level(logging.INFO, logger="skmm"):
        Z = enc.transform([path, path])
    assert set(vars(enc)) == before  # transform writes no new attributes
    assert "faces in 75% of sampled frames; 0 of 2 clips had none" in caplog.text
    assert Z.shape == (2, 128) and np.isfinite(Z).all()


def _bad_clips(tmp_path):
    good = write_clip(tmp_path / "good.mp4", n=10)
    data = open(good, "rb").read()
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    (tmp_path / "noise.mkv").write_bytes(np.random.default_rng(1).bytes(4000))
    m4a = write_video(tmp_path / "voice.m4a", [], 10, audio=tone(0.5))
    return good, {
        "zero-byte": (str(tmp_path / "empty.mp4"), "empty"),
        "truncated": (str(tmp_path / "cut.mp4"), "cannot open"),
        "corrupt": (str(tmp_path / "noise.mkv"), "cannot open"),
        "no video stream": (m4a, "no video stream"),
        "directory": (str(tmp_path), "is a directory"),
        "missing path": (str(tmp_path / "gone.mp4"), "not found"),
        "None": (None, "the clip is missing"),
    }


@pytest.mark.parametrize(
    "kind",
    ["zero-byte", "truncated", "corrupt", "no video stream", "directory", "missing path", "None"],
)
def test_bad_clips_name_row_and_file_or_are_filled(tmp_path, kind):
    good, bad = _bad_clips(tmp_path)
    item, match = bad[kind]
    enc = VideoEncoder(n_frames=2, cache=False).fit([good])
    with pytest.raises(EncodingError, match=f"row 1.*{match}") as info:
        enc.transform([good, item, good])
    assert info.value.row == 1 and (item is None or info.value.source == item)
    Z = enc.set_params(on_error="zero").transform([good, item, good])
    assert (Z[1] == 0).all() and np.abs(Z[[0, 2]]).sum(axis=1).min() > 0
    assert [r["row"] for r in enc.failed_rows_] == [1]


def test_single_frame_rotated_and_array_clips(tmp_path):
    one = write_clip(tmp_path / "one.mp4", n=1, audio=False)
    frame = np.zeros((48, 48, 3), np.uint8)
    frame[20:28] = 255  # a horizontal bar, shown vertical
    upright = write_video(tmp_path / "rot.mp4", [frame] * 3, 10, rotation=90, options={"crf": "5"})
    stack = np.stack([np.rot90(frame)] * 3)
    enc = VideoEncoder(n_frames=2, cache=False).fit([one])
    Z = enc.transform([one, upright, stack, np.stack([frame] * 3)])
    # the rotated clip encodes like the upright pictures, not like the stored ones
    assert np.linalg.norm(Z[1] - Z[2]) < 0.2 * np.linalg.norm(Z[1] - Z[3])
    assert np.isfinite(Z).all()


def test_face_and_voice_blocks_from_one_clip_column(tmp_path):
    import pandas as pd

    from skmm.fusion import ModalityUnion

    paths, labels = write_clips(tmp_path / "clips", n=4)
    union = ModalityUnion(
        [
            ("face", VideoEncoder(n_frames=2, cache=False), "video"),
            ("voice", MelEncoder(cache=False), "video"),
        ]
    ).fit(pd.DataFrame({"video": paths}), labels)
    Z = union.transform(pd.DataFrame({"video": paths}))
    assert set(union.blocks_) >= {"face", "voice"} and np.isfinite(np.asarray(Z)).all()
