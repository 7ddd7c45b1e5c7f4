"""Reading clips: sampled frames, rotation, streaming, the audio track, and every bad input."""

import tracemalloc
from fractions import Fraction

import numpy as np
import pytest
from video_cases import clip_frames, tone, write_clip

from skmm.exceptions import EncodingError, InputError
from skmm.io import is_video, read_audio, read_video, read_video_audio
from skmm.io._video_writer import write_video

pytest.importorskip("av")


def grey_levels(frames):
    return [int(round(f.mean())) for f in frames]


def test_frames_are_sampled_at_the_centres_of_equal_parts(tmp_path):
    path = write_clip(tmp_path / "a.mp4", n=30, fps=10)  # frame i has grey level 8 i
    frames = read_video(path, n_frames=3)
    assert frames.shape == (3, 32, 48, 3) and frames.dtype == np.uint8
    # centres of thirds of 3 s: 0.5 s, 1.5 s, 2.5 s -> frames 5, 15, 25
    np.testing.assert_allclose(grey_levels(frames), [40, 120, 200], atol=3)


def test_samples_early_in_a_long_clip_are_not_taken_for_a_cut(tmp_path):
    # reading stops after the last sample: 1.5 s into 3 s, 2.5 s into 10 s
    np.testing.assert_allclose(
        grey_levels(read_video(write_clip(tmp_path / "a.mp4", n=30, fps=10), n_frames=1)),
        [120],
        atol=3,
    )
    long = write_clip(tmp_path / "b.mp4", n=100, fps=10, audio=False)
    for n_threads in (1, 0):
        frames = read_video(long, n_frames=2, n_threads=n_threads)  # frames 25 and 75
        np.testing.assert_allclose(grey_levels(frames), [200, 75 * 8 % 256], atol=3)


def test_fps_sampling_and_its_cap(tmp_path):
    path = write_clip(tmp_path / "a.mp4", n=30, fps=10)
    assert read_video(path, fps=2, n_frames=None).shape[0] == 6
    assert read_video(path, fps=2, n_frames=3).shape[0] == 3
    with pytest.raises(ValueError, match="fps"):
        read_video(path, fps=0)


def test_bytes_and_array_inputs(tmp_path):
    path = write_clip(tmp_path / "a.mp4", n=10)
    from_bytes = read_video(open(path, "rb").read(), n_frames=2)
    np.testing.assert_array_equal(from_bytes, read_video(path, n_frames=2))
    stack = np.stack(clip_frames(10))
    np.testing.assert_array_equal(read_video(stack, n_frames=2), stack[[2, 7]])


def test_target_size_shrinks_while_converting(tmp_path):
    path = write_clip(tmp_path / "a.mp4", n=4, size=(96, 128))
    assert read_video(path, n_frames=1, target_size=48).shape == (1, 48, 64, 3)
    assert read_video(path, n_frames=1, target_size=500).shape == (1, 96, 128, 3)


@pytest.mark.parametrize(("rotation", "strip_at"), [(90, "bottom"), (-90, "top"), (180, "right")])
def test_rotation_metadata_is_applied(tmp_path, rotation, strip_at):
    frame = np.zeros((32, 48, 3), np.uint8)
    frame[:, :8] = 255  # a white strip on the left of the stored picture
    path = write_video(tmp_path / "phone.mp4", [frame] * 3, 10, rotation=rotation)
    shown = read_video(path, n_frames=1)[0].mean(axis=2)
    assert shown.shape == ((48, 32) if rotation % 180 else (32, 48))
    edge = {"bottom": shown[-4:], "top": shown[:4], "right": shown[:, -4:]}[strip_at]
    assert edge.mean() > 200 and shown.mean() < 100


def test_single_frame_clip_repeats_its_frame(tmp_path):
    path = write_clip(tmp_path / "one.mp4", n=1, audio=False)
    frames = read_video(path, n_frames=4)
    assert frames.shape[0] == 4 and (frames == frames[0]).all()


def test_variable_frame_rate_samples_by_time(tmp_path):
    import av

    times_ms = [0, 100, 200, 1500, 1600, 2900]
    path = str(tmp_path / "vfr.mkv")
    with av.open(path, "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 48, 32, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for i, (ms, image) in enumerate(zip(times_ms, clip_frames(6, step=40))):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = ms, Fraction(1, 1000)
            out.mux(stream.encode(frame))
            assert i * 40 == image[0, 0, 0]
        out.mux(stream.encode())
    # targets 0.5 s, 1.5 s, 2.5 s show the frames stamped 0.2 s, 1.5 s and 1.6 s
    np.testing.assert_allclose(grey_levels(read_video(path, n_frames=3)), [80, 120, 160], atol=4)


def test_4k_frames_are_shrunk_or_refused(tmp_path):
    path = write_clip(tmp_path / "4k.mp4", n=1, size=(2160, 3840), audio=False)
    assert read_video(path, n_frames=2, target_size=90).shape == (2, 90, 160, 3)
    with pytest.raises(InputError, match="max_pixels"):
        read_video(path, max_pixels=1_000_000)


@pytest.mark.slow
def test_long_clip_keeps_only_the_sampled_frames(tmp_path):
    # 2 minutes at 25 fps, 320x240: 3000 frames of 230 kB each as RGB, 690 MB if all were kept
    frames = (f for f in clip_frames(3000, (240, 320), step=1))
    path = write_video(tmp_path / "long.mp4", frames, 25, options={"preset": "ultrafast"})
    tracemalloc.start()
    got = read_video(path, n_frames=8)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # frames 187, 562, ... (centres of eighths): their levels mod 256
    expect = [(round((k + 0.5) * 120 / 8 * 25)) % 256 for k in range(8)]
    np.testing.assert_allclose(grey_levels(got), expect, atol=3)
    assert peak < 20 * got[0].nbytes  # the 8 kept frames and a few conversions, not 3000


def test_audio_track_is_downmixed_and_resampled(tmp_path):
    path = write_clip(tmp_path / "a.mp4", n=20, fps=10)  # 2 s of 220 Hz at 16 kHz
    y = read_video_audio(path, 8000)
    assert y.dtype == np.float32 and len(y) == 16000  # AAC's padding after the 2 s dropped
    spectrum = np.abs(np.fft.rfft(y[2000:10000]))
    assert abs(np.argmax(spectrum) * 8000 / 8000 - 220) < 3
    assert len(read_video_audio(path, 8000, max_duration=0.5)) == 4000


def test_audio_frames_of_any_sample_format_are_mixed_down():
    import av

    from skmm.io._video_audio import _mono

    packed = av.AudioFrame.from_ndarray(
        np.array([[16384, -16384, 8192, 0]], np.int16), format="s16", layout="stereo"
    )  # left 0.5, 0.25; right -0.5, 0
    np.testing.assert_allclose(_mono(packed), [0.0, 0.125])
    planar = av.AudioFrame.from_ndarray(
        np.array([[0.5, 0.25], [-0.5, 0.0]], np.float32), format="fltp", layout="stereo"
    )
    np.testing.assert_allclose(_mono(planar), [0.0, 0.125])
    unsigned = av.AudioFrame.from_ndarray(
        np.array([[192, 64]], np.uint8), format="u8", layout="mono"
    )
    np.testing.assert_allclose(_mono(unsigned), [0.5, -0.5])


def test_a_header_without_sizes_or_rates_is_probed_in_full(tmp_path, monkeypatch):
    from skmm.io import _video_open

    path = write_clip(tmp_path / "a.mp4", n=20, fps=10)
    frames, sound = read_video(path, n_frames=3), read_video_audio(path, 16000)
    opened = []
    monkeypatch.setattr(_video_open, "_described", lambda c: opened.append(c) and False)
    for source in (path, open(path, "rb").read()):  # a path and bytes are both read again
        np.testing.assert_array_equal(read_video(source, n_frames=3), frames)
        np.testing.assert_array_equal(read_video_audio(source, 16000), sound)
    assert len(opened) == 4


def test_read_audio_reads_the_track_of_a_clip(tmp_path):
    path = write_clip(tmp_path / "a.mp4", n=20, fps=10)
    np.testing.assert_array_equal(read_audio(path, 16000), read_video_audio(path, 16000))
    from_bytes = read_audio(open(path, "rb").read(), 16000, max_duration=1.0)
    assert len(from_bytes) == 16000
    assert is_video(path) and not is_video(tmp_path / "a.wav")


def test_m4a_is_audio_without_video(tmp_path):
    path = write_video(tmp_path / "voice.m4a", [], 10, audio=tone(1.0))
    assert abs(len(read_audio(path, 16000)) - 16000) < 2048
    with pytest.raises(InputError, match="no video stream .*audio aac"):
        read_video(path)


def test_no_audio_track_is_a_clear_error(tmp_path):
    path = write_clip(tmp_path / "silent.mp4", audio=False)
    with pytest.raises(InputError, match=r"silent.mp4' has no audio track .*video h264"):
        read_audio(path, 16000)


def _bad_files(tmp_path):
    good = write_clip(tmp_path / "good.mp4", n=30)
    data = open(good, "rb").read()
    files = {
        "empty": (tmp_path / "empty.mp4", b"", "empty"),
        "truncated": (tmp_path / "cut.mp4", data[: len(data) // 2], "cannot open"),
        "corrupt": (tmp_path / "noise.mp4", np.random.default_rng(0).bytes(5000), "cannot open"),
    }
    for path, content, _ in files.values():
        path.write_bytes(content)
    files["folder"] = (tmp_path, None, "is a directory")
    files["missing"] = (tmp_path / "nope.mp4", None, "not found")
    return {k: (str(p), match) for k, (p, _, match) in files.items()}


@pytest.mark.parametrize("kind", ["empty", "truncated", "corrupt", "folder", "missing"])
def test_bad_files_raise_input_errors_naming_the_file(tmp_path, kind):
    path, match = _bad_files(tmp_path)[kind]
    for read in (read_video, lambda p: read_video_audio(p, 16000)):
        with pytest.raises(InputError, match=match) as info:
            read(path)
        assert repr(path) in str(info.value) or kind == "folder"


def test_truncated_clip_with_its_index_first_is_refused(tmp_path):
    # +faststart puts the index before the data: the header still says 6 s after the cut
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (64, 96, 3), dtype=np.uint8) for _ in range(60)]
    path = write_video(
        tmp_path / "fast.mp4", frames, 10, container_options={"movflags": "+faststart"}
    )
    data = open(path, "rb").read()
    assert data.index(b"moov") < data.index(b"mdat")
    cut = tmp_path / "fast_cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    for n_threads in (1, 2, 4):  # the decoder reports the cut with few threads, not with more
        with pytest.raises(InputError, match=r"fast_cut.mp4' is truncated: its frames stop at"):
            read_video(cut, n_threads=n_threads)


def test_unsupported_codec_is_a_clear_error(tmp_path):
    path = write_video(tmp_path / "a.avi", clip_frames(5), 10, codec="mpeg4")
    data = open(path, "rb").read()
    assert data.count(b"FMP4") >= 1
    bad = tmp_path / "unknown_codec.avi"
    bad.write_bytes(data.replace(b"FMP4", b"QQQQ"))  # a FourCC no decoder knows
    with pytest.raises(InputError, match="codec|decod"):
        read_video(bad)


def test_mel_encoder_reads_clips_and_names_the_silent_one(tmp_path):
    from skmm.encoders import MelEncoder

    good = write_clip(tmp_path / "a.mp4", n=20)
    silent = write_clip(tmp_path / "silent.mp4", n=20, audio=False)
    enc = MelEncoder(cache=False, progress=False).fit([good])
    with pytest.raises(EncodingError, match=r"row 1.*silent.mp4.*no audio track") as info:
        enc.transform([good, silent, good])
    assert info.value.row == 1
    Z, report = enc.set_params(on_error="nan").transform([good, silent, good], return_report=True)
    assert np.isfinite(Z[[0, 2]]).all() and np.isnan(Z[1]).all()
    assert [r["row"] for r in report.failed_rows] == [1]


@pytest.mark.parametrize(
    ("suffix", "codec", "audio_codec", "sr"),
    [
        (".mov", "libx264", "aac", 16000),
        (".mkv", "libx264", "aac", 16000),
        (".webm", "libvpx", "libopus", 48000),
        (".avi", "mpeg4", "libmp3lame", 22050),
        (".flv", "flv", "libmp3lame", 22050),  # CREMA-D's VideoFlash clips
    ],
)
def test_every_container_gives_frames_and_sound(tmp_path, suffix, codec, audio_codec, sr):
    frames = clip_frames(20, (32, 48))
    path = write_video(
        tmp_path / f"clip{suffix}", frames, 10, audio=tone(2.0, sr), sample_rate=sr,
        codec=codec, audio_codec=audio_codec,
    )  # fmt: skip
    # frames 5 and 15 (FFmpeg's AVI muxer shifts the frames after the first by one slot)
    np.testing.assert_allclose(grey_levels(read_video(path, n_frames=2)), [40, 120], atol=12)
    y = read_audio(path, 16000)
    assert abs(len(y) - 32000) < 3000 and np.abs(y).max() > 0.1
