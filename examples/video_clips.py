"""Video clips: the face in the frames and the voice on the track, from one column.

``make_fusion_pipeline(video="video")`` turns a column of clip paths into two blocks: a
VideoEncoder (8 frames sampled evenly over each clip, an image backbone per frame, the
frame embeddings averaged over time) and a MelEncoder reading the clip's audio track.
The clips are synthetic mp4 files (h264 + AAC) from skmm's generator, where the drawn
face's expression builds up over the frames; real corpora (``load_ravdess(...,
modality="video")``) work the same way. Needs ``pip install 'skmm[video]'``.
Run: python examples/video_clips.py
"""

import tempfile

from sklearn.model_selection import GroupKFold, cross_validate

from skmm import make_fusion_pipeline
from skmm.datasets import make_multimodal_emotion
from skmm.encoders import VideoEncoder

N_SAMPLES = 48

with tempfile.TemporaryDirectory() as folder:
    data = make_multimodal_emotion(
        n_samples=N_SAMPLES,
        n_classes=3,
        video=True,
        duration=0.6,
        modality_strength={"image": 0.9, "audio": 0.6},
        directory=folder,
        random_state=0,
    )
    # The synthetic faces fill the frame, so no face crop; on real footage keep the
    # default VideoEncoder(face_crop=True) or use backbone="face-expression".
    pipe = make_fusion_pipeline(video="video", encoders={"face": VideoEncoder(n_frames=4)})
    scores = cross_validate(
        pipe,
        data[["video"]],
        data["label"],
        groups=data["group"],
        cv=GroupKFold(4),
        scoring="balanced_accuracy",
        return_estimator=True,
    )
    blocks = list(scores["estimator"][0]["fusion"].blocks_)
print(f"blocks from the one clip column: {blocks}")
uar = scores["test_score"]
print(
    f"Result: UAR {uar.mean():.3f} ± {uar.std():.3f} on {N_SAMPLES} synthetic clips, "
    "3 emotions (chance 0.333)"
)
