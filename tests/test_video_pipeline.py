"""The issue's first snippet, end to end, on a RAVDESS-style tree of real mp4 clips with sound."""

import shutil

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold, cross_validate

from skmm import make_fusion_pipeline
from skmm.datasets import load_ravdess, make_multimodal_emotion
from skmm.encoders import MelEncoder, VideoEncoder

pytest.importorskip("av")

_CODES = {"neutral": "01", "happy": "03"}


def _ravdess_tree(tmp_path, n=12):
    """Synthetic clips named as RAVDESS's audio-visual files; half the takes have a speech wav too."""
    data = make_multimodal_emotion(
        n_samples=n, n_classes=2, n_speakers=4, video=True, duration=0.5,
        modality_strength=0.95, directory=tmp_path / "synthetic", random_state=0,
    )  # fmt: skip
    root = tmp_path / "RAVDESS"
    seen = {}
    for i, row in data.iterrows():
        actor = int(row["group"].split("_")[1]) + 1
        k = seen[actor, row["label"]] = seen.get((actor, row["label"]), -1) + 1
        take = f"01-{_CODES[row['label']]}-{k // 4 + 1:02d}-{k // 2 % 2 + 1:02d}-{k % 2 + 1:02d}"
        folder = root / f"Actor_{actor:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(row["video"], folder / f"01-{take}-{actor:02d}.mp4")
        if i % 2 == 0:
            shutil.copy(row["audio"], folder / f"03-{take}-{actor:02d}.wav")
    return root


@pytest.mark.slow
def test_the_first_snippet_runs_on_real_clips(tmp_path):
    root = _ravdess_tree(tmp_path)
    df = load_ravdess(root, modality="video")
    assert len(df) == 12 and df["video"].str.endswith(".mp4").all()
    pipe = make_fusion_pipeline(video="video", encoders={"face": VideoEncoder(n_frames=3)})
    scores = cross_validate(
        pipe, df, df["label"], groups=df["group"], cv=GroupKFold(2), return_estimator=True
    )
    assert np.isfinite(scores["test_score"]).all()
    union = scores["estimator"][0]["fusion"]
    assert list(union.blocks_) == ["face", "voice"]
    names = union.get_feature_names_out()
    assert any(n.startswith("face__video_") for n in names)
    assert any(n.startswith("voice__") for n in names)

    both = load_ravdess(root, modality="all")  # clips paired with their speech-only wav
    assert len(both) == 12 and both["audio"].notna().sum() == 6
    paired = both.dropna(subset=["audio"])
    assert all(
        a.split("/")[-1][3:] == v.split("/")[-1][3:].replace(".mp4", ".wav")
        for a, v in zip(paired["audio"], paired["video"])
    )


def test_video_role_gives_face_and_voice_blocks():
    pipe = make_fusion_pipeline(video="clip", text="text")
    blocks = {name: (enc, col) for name, enc, col in pipe["fusion"].transformers}
    assert set(blocks) == {"text", "face", "voice"}
    face, voice = blocks["face"], blocks["voice"]
    assert isinstance(face[0], VideoEncoder) and face[0].face_crop and face[1] == "clip"
    assert isinstance(voice[0], MelEncoder) and voice[1] == "clip"
    custom = make_fusion_pipeline(video="clip", encoders={"face": VideoEncoder("face-expression")})
    assert custom["fusion"].transformers[0][1].backbone == "face-expression"
    with pytest.raises(ValueError, match="roles are text, image, audio, face, voice, tabular"):
        make_fusion_pipeline(video="clip", encoders={"video": VideoEncoder()})
