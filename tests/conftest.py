"""Shared fixtures: an isolated embedding cache per test and tiny offline models."""

import os
import tempfile

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# runtime="auto" means torch in tests: each test's fresh cache folder would export ONNX
# graphs again; the ONNX tests and contract cases ask for runtime="onnx" explicitly.
os.environ.setdefault("SKMM_RUNTIME", "torch")
os.environ.setdefault("SKMM_ONNX_DIR", tempfile.mkdtemp(prefix="skmm-onnx-tests-"))

WORDS = (
    "happy sad angry calm joy love hate fear day night good bad very not the a is "
    "i you we it this that was am so really feel today"
).split()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Each test gets its own on-disk cache and an empty in-memory cache."""
    from skmm.cache import clear_cache

    monkeypatch.setenv("SKMM_CACHE_DIR", str(tmp_path / "skmm-cache"))
    clear_cache(disk=False)
    yield
    clear_cache(disk=False)


def build_tiny_text_model(path, seed=0, hidden=32):
    """Save a randomly initialised 2-layer BERT and its WordPiece tokenizer under ``path``."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    vocab = (
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS + list("abcdefghijklmnopqrstuvwxyz")
    )
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    # transformers 5 reads ``vocab`` and ignores ``vocab_file``; 4.x reads ``vocab_file``
    tokenizer = BertTokenizerFast(
        vocab_file=str(path / "vocab.txt"), vocab={word: i for i, word in enumerate(vocab)}
    )
    if tokenizer.unk_token_id in tokenizer(WORDS[0])["input_ids"]:
        raise RuntimeError("the tiny tokenizer lost its vocabulary: every word would be [UNK]")
    tokenizer.save_pretrained(path)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        max_position_embeddings=64,
    )
    BertModel(config).eval().save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_text_model(tmp_path_factory):
    return build_tiny_text_model(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def other_tiny_text_model(tmp_path_factory):
    return build_tiny_text_model(tmp_path_factory.mktemp("tiny-bert-2"), seed=1)
