"""Writing one synthetic sentence; used by ``make_multimodal_emotion``."""

import numpy as np

EMOTION_NAMES = ("neutral", "happy", "sad", "angry", "fearful", "surprised", "disgust", "calm")

# Real emotion words per class, most frequent first (they are drawn with Zipf weights).
EMOTION_WORDS = {
    "neutral": "okay|fine|alright|indifferent|unmoved|so-so|neutral|ordinary",
    "happy": "happy|glad|joyful|delighted|cheerful|thrilled|wonderful|great",
    "sad": "sad|unhappy|miserable|gloomy|heartbroken|lonely|depressed|down",
    "angry": "angry|furious|annoyed|irritated|outraged|mad|livid|fuming",
    "fearful": "afraid|scared|terrified|nervous|anxious|frightened|worried|panicked",
    "surprised": "surprised|amazed|astonished|shocked|stunned|startled|speechless|astounded",
    "disgust": "disgusted|grossed out|revolted|sickened|repulsed|nauseated|appalled|queasy",
    "calm": "calm|relaxed|peaceful|serene|tranquil|at ease|content|rested",
}
EMOTION_WORDS = {name: tuple(words.split("|")) for name, words in EMOTION_WORDS.items()}
_TOPICS = tuple(
    "the meeting|the report|the train|the weather|the kitchen|my email|the project|the weekend|"
    "lunch|the phone call|the package|the schedule|my neighbour|the bus|the garden|the news|"
    "the letter|the game|class|the appointment".split("|")
)
_TIMES = tuple("today|this morning|again|right now|last night|at work|this week|tonight".split("|"))
_TEMPLATES = (
    "I feel {w} about {t} {when}",
    "{t} made me {w} {when}",
    "I am {w} because of {t}",
    "{when} I was {w} after {t}",
    "honestly {t} left me {w}",
    "talking about {t} I feel {w}",
)
_FILLERS = tuple(
    "and then I went home|so I made some tea|we talked for a while|the room was quiet|"
    "I checked the time|someone opened the door".split("|")
)
CATCHPHRASES = tuple(
    "you know|well|like|to be fair|man|oh|basically|anyway|I guess|seriously|right|so yeah".split(
        "|"
    )
)


def _zipf_pick(words, rng):
    """Pick a word, the first ones more often (as in real text, frequency falls with rank)."""
    p = 1.0 / np.arange(1, len(words) + 1)
    return words[rng.choice(len(words), p=p / p.sum())]


def write_sentence(emotion, intensity, speaker, rng, noise=0.5):
    """A short sentence that uses words of ``emotion`` among neutral filler words."""
    words = EMOTION_WORDS[EMOTION_NAMES[emotion]]
    word = _zipf_pick(words, rng)
    if rng.rand() < 0.5 * intensity:
        second = _zipf_pick(words, rng)
        word = f"{word} and {second}" if second != word else f"really {word}"
    if rng.rand() < 0.3 * noise:  # a distractor from another emotion
        other = rng.randint(len(EMOTION_NAMES) - 1)
        other += other >= emotion
        word = f"{word} but a bit {_zipf_pick(EMOTION_WORDS[EMOTION_NAMES[other]], rng)}"
    template = _TEMPLATES[rng.randint(len(_TEMPLATES))]
    topic = _TOPICS[rng.randint(len(_TOPICS))]
    text = template.format(w=word, t=topic, when=_TIMES[rng.randint(len(_TIMES))])
    if rng.rand() < noise:
        text = f"{text}, {_FILLERS[rng.randint(len(_FILLERS))]}"
    if rng.rand() < 0.6:
        text = f"{speaker['catchphrase']}, {text}"
    return text[0].upper() + text[1:] + "."
