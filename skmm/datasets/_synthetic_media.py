"""Drawing and voicing one synthetic sample; used by ``make_multimodal_emotion``.

Each function takes the emotion the modality *expresses* (an index into
``EMOTION_NAMES``), its intensity in [0, 1], the speaker's traits and a random
state, and returns raw media: a BGR uint8 image or a float32 waveform.
"""

import numpy as np

from ._synthetic_text import CATCHPHRASES, EMOTION_NAMES

# Per emotion, in EMOTION_NAMES order. Face: mouth curvature (+ smile), mouth opening,
# eye size, brow slant (+ inner ends down, as in anger), brow raise, face tint (BGR).
_CURVE = (0.0, 1.0, -0.9, -0.35, -0.3, 0.1, -0.5, 0.35)
_OPEN = (0.0, 0.45, 0.0, 0.2, 0.6, 1.0, 0.15, 0.0)
_EYE = (1.0, 0.75, 0.9, 0.8, 1.45, 1.55, 0.6, 0.0)
_SLANT = (0.0, -0.1, -0.8, 1.0, -0.6, 0.0, 0.5, 0.0)
_RAISE = (0.0, 0.2, 0.1, -0.3, 0.6, 1.2, -0.2, 0.0)
_TINT = (
    None,
    (40, 215, 255),
    (230, 120, 40),
    (40, 40, 235),
    (230, 250, 200),
    (220, 90, 200),
    (60, 190, 60),
    (210, 220, 120),
)
# Voice: pitch factor, pitch contour (octaves over the clip), syllables per second,
# harmonic roll-off (higher = darker), loudness, vibrato depth (octaves).
_PITCH = (1.0, 1.35, 0.78, 1.12, 1.55, 1.3, 0.85, 0.9)
_CONTOUR = (0.0, 0.25, -0.45, -0.15, 0.1, 0.8, -0.3, 0.0)
_RATE = (4.0, 6.0, 2.2, 7.0, 8.0, 4.5, 3.0, 1.8)
_ROLLOFF = (1.3, 0.9, 2.0, 0.55, 1.0, 0.8, 1.6, 2.2)
_LOUD = (0.5, 0.7, 0.3, 0.9, 0.6, 0.75, 0.45, 0.28)
_VIBRATO = (0.0, 0.02, 0.0, 0.01, 0.08, 0.02, 0.03, 0.0)


def make_speaker(rng):
    """Draw one synthetic speaker's traits (the source of the per-speaker bias)."""
    skins = ((120, 160, 215), (95, 135, 190), (70, 105, 160), (50, 80, 125), (140, 180, 230))
    return {
        "skin": np.asarray(skins[rng.randint(len(skins))], float) + rng.uniform(-12, 12, 3),
        "background": rng.uniform(70, 230, 3),
        "hair": rng.uniform(10, 120, 3),
        "scale": rng.uniform(0.9, 1.1),
        "mouth_bias": rng.normal(0, 0.15),
        "f0": rng.choice([rng.uniform(95, 135), rng.uniform(175, 235)]),
        "even_gain": rng.uniform(0.4, 1.4),
        "rate_bias": rng.uniform(0.85, 1.15),
        "catchphrase": CATCHPHRASES[rng.randint(len(CATCHPHRASES))],
    }


def draw_face(emotion, intensity, speaker, rng, size=96, noise=0.5):
    """A face-like picture whose mouth, eyes, brows, tint and marks show ``emotion``."""
    cv2 = _cv2()
    s = size / 96.0
    k = emotion
    img = np.empty((size, size, 3), np.float32)
    img[:] = speaker["background"]
    cx, cy = size / 2 + rng.uniform(-3, 3) * s * noise, size / 2 + rng.uniform(-3, 3) * s * noise
    fw, fh = 29 * s * speaker["scale"], 37 * s * speaker["scale"]
    pt = lambda x, y: (int(round((cx + x * s) * 16)), int(round((cy + y * s) * 16)))  # noqa: E731
    aa = dict(lineType=cv2.LINE_AA, shift=4)
    cv2.ellipse(
        img, pt(0, -12), (int(fw * 17), int(fh * 14)), 0, 180, 360, _bgr(speaker["hair"]), -1, **aa
    )
    face = (
        speaker["skin"]
        if _TINT[k] is None
        else (
            (1 - 0.5 * intensity) * speaker["skin"] + 0.5 * intensity * np.asarray(_TINT[k], float)
        )
    )
    cv2.ellipse(img, pt(0, 2), (int(fw * 16), int(fh * 16)), 0, 0, 360, _bgr(face), -1, **aa)

    dark = (30, 30, 40)
    for side in (-1, 1):
        ex, ey = 12 * side, -7
        if _EYE[k] == 0:  # closed eyes: calm
            cv2.ellipse(
                img, pt(ex, ey), (int(6 * s * 16), int(3 * s * 16)), 0, 0, 180, dark, 2, **aa
            )
        else:
            ax = (int(6 * s * 16 * min(_EYE[k], 1.2)), int(4.5 * s * 16 * _EYE[k]))
            cv2.ellipse(img, pt(ex, ey), ax, 0, 0, 360, (245, 245, 245), -1, **aa)
            cv2.circle(img, pt(ex, ey), int(2.6 * s * 16), dark, -1, **aa)
        lift = 11 + 4 * _RAISE[k] * intensity
        inner = ey - lift + 4 * _SLANT[k] * intensity
        outer = ey - lift - 4 * _SLANT[k] * intensity
        cv2.line(img, pt(5 * side, inner), pt(19 * side, outer), dark, max(1, int(2.5 * s)), **aa)

    mx, my, w = 0, 17, 12 + 3 * max(_CURVE[k], 0)
    curve = (_CURVE[k] * intensity + speaker["mouth_bias"]) * 7
    xs = np.linspace(-w, w, 15)
    tilt = 4 * intensity * xs / w if EMOTION_NAMES[k] == "disgust" else 0
    upper = my + curve * (1 - (xs / w) ** 2) + tilt
    lips = (40, 40, 150)
    if EMOTION_NAMES[k] == "surprised":
        cv2.ellipse(
            img,
            pt(mx, my + 2),
            (int(6 * s * 16), int(8 * s * 16 * intensity + 16)),
            0,
            0,
            360,
            (25, 20, 60),
            -1,
            **aa,
        )
    elif _OPEN[k] > 0:
        lower = upper + _OPEN[k] * intensity * 10 * (1 - (xs / w) ** 2)
        poly = np.concatenate([np.c_[xs, upper], np.c_[xs, lower][::-1]])
        cv2.fillPoly(img, [np.array([pt(x, y) for x, y in poly], np.int32)], (25, 20, 60), **aa)
        cv2.polylines(
            img, [np.array([pt(x, y) for x, y in np.c_[xs, upper]], np.int32)], False, lips, 2, **aa
        )
    else:
        thick = max(1, int((3.5 if EMOTION_NAMES[k] == "angry" else 2) * s))
        cv2.polylines(
            img,
            [np.array([pt(x, y) for x, y in np.c_[xs, upper]], np.int32)],
            False,
            lips,
            thick,
            **aa,
        )
    _marks(cv2, img, EMOTION_NAMES[k], intensity, pt, s, aa)

    if noise > 0:
        angle = rng.uniform(-8, 8) * noise
        rot = cv2.getRotationMatrix2D((size / 2, size / 2), angle, 1.0)
        img = cv2.warpAffine(img, rot, (size, size), borderMode=cv2.BORDER_REFLECT)
        img += rng.normal(0, 18 * noise, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def _marks(cv2, img, name, intensity, pt, s, aa):
    """Texture cues: cheeks, tears, furrows, sweat, forehead lines, nose wrinkles."""
    if name == "happy":
        overlay = img.copy()
        for side in (-1, 1):
            cv2.circle(overlay, pt(17 * side, 6), int(5 * s * 16), (150, 120, 250), -1, **aa)
        img[:] = img * (1 - 0.6 * intensity) + overlay * 0.6 * intensity
    elif name == "sad":
        for x0 in (-12, 12):
            cv2.ellipse(
                img,
                pt(x0, 2),
                (int(1.8 * s * 16), int(3.5 * s * 16)),
                0,
                0,
                360,
                (240, 160, 60),
                -1,
                **aa,
            )
    elif name == "angry":
        for x0 in (-2, 2):
            cv2.line(img, pt(x0, -22), pt(x0 * 1.5, -14), (30, 30, 120), max(1, int(2 * s)), **aa)
    elif name == "fearful":
        for x0, y0 in ((-22, -14), (22, -10)):
            cv2.ellipse(
                img,
                pt(x0, y0),
                (int(2 * s * 16), int(3 * s * 16)),
                0,
                0,
                360,
                (250, 220, 180),
                -1,
                **aa,
            )
    elif name == "surprised":
        for y0 in (-27, -24):
            cv2.line(img, pt(-9, y0), pt(9, y0), (60, 60, 90), 1, **aa)
    elif name == "disgust":
        for side in (-1, 1):
            cv2.line(img, pt(3 * side, 2), pt(7 * side, 7), (40, 80, 40), max(1, int(2 * s)), **aa)


def synth_voice(emotion, intensity, speaker, rng, sample_rate=16000, duration=1.0, noise=0.5):
    """A voiced tone whose pitch, contour, tempo, brightness and loudness show ``emotion``."""
    n = int(sample_rate * duration)
    t = np.arange(n) / sample_rate
    k, a = emotion, intensity
    f0 = speaker["f0"] * (1 + (_PITCH[k] - 1) * a)
    octaves = _CONTOUR[k] * a * (t / duration - 0.5)
    octaves = octaves + _VIBRATO[k] * a * np.sin(2 * np.pi * 7.5 * t + rng.uniform(0, 2 * np.pi))
    octaves = octaves + 0.02 * noise * np.cumsum(rng.normal(0, 1, n)) / np.sqrt(n)
    freq = f0 * 2.0**octaves
    phase = 2 * np.pi * np.cumsum(freq) / sample_rate
    rolloff = 1.3 + (_ROLLOFF[k] - 1.3) * a
    # One period of the harmonic waveform as a table, read at the running phase
    # (much cheaper than one sine per harmonic).
    harmonics = np.arange(1, int(min(16, 0.45 * sample_rate / freq.max())) + 1)
    gains = harmonics**-rolloff * np.where(harmonics % 2 == 0, speaker["even_gain"], 1.0)
    grid = np.linspace(0, 2 * np.pi, 4096, endpoint=False)
    table = gains @ np.sin(
        np.outer(harmonics, grid) + rng.uniform(0, 2 * np.pi, (len(harmonics), 1))
    )
    voice = table[(phase * (4096 / (2 * np.pi))).astype(np.int64) % 4096]
    rate = (4.0 + (_RATE[k] - 4.0) * a) * speaker["rate_bias"]
    syllables = 0.5 * (1 - np.cos(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi)))
    fade = np.minimum(1.0, np.minimum(t, duration - t) / 0.05)
    loud = 0.5 + (_LOUD[k] - 0.5) * a
    voice *= loud * fade * (0.15 + 0.85 * syllables) / np.abs(voice).max()
    voice += rng.normal(0, 0.005 + 0.04 * noise, n)
    return np.clip(voice, -1, 1).astype(np.float32)


def _bgr(colour):
    return tuple(float(c) for c in colour)


def _cv2():
    from skmm._deps import import_optional

    return import_optional("cv2", "writing the synthetic images")
