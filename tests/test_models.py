"""Tests for helpers.models and helpers.tokenizers (tiny models; the real SmolLM2 only under -m slow)."""
from __future__ import annotations

import json

import pytest
import torch

from helpers import models
from helpers.tokenizers import WordTokenizer, normalise

TEXTS = ["Alice is above the house.\nMap (coords):\nAlice 3 4\nthe house 3 2",
         "Bob is to the left of Carol. Carol is below the tree."]


@pytest.fixture(scope="module")
def tiny():
    return models.load("tiny-random", device="cpu")


def test_tiny_random_is_small_deterministic_and_pads_left(tiny):
    tok, model = tiny
    assert models.n_params(model) < 5e6 and not model.training
    assert tok.padding_side == "left" and tok.pad_token_id is not None and tok.eos_token_id is not None
    _, again = models.load("tiny-random", device="cpu")
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))


def test_word_tokenizer_round_trip_digits_and_unseen_names():
    tok = WordTokenizer.train(TEXTS)
    for t in TEXTS + ["Zebulon 12 7\nQuincy  is   above Alice.  ", "x@y (3, 4) -2"]:
        assert tok.decode(tok.encode(t)) == normalise(t)
    ids = tok.encode("Alice 12")
    assert [tok.vocab[i] for i in ids] == ["Alice", " 1", "2"]          # digits are separate tokens
    assert len(tok.encode(" Zebulon")) == len("Zebulon")                 # unseen word -> character pieces
    assert tok.encode("é") == [tok.unk_token_id]
    assert tok.decode([tok.eos_token_id, tok.pad_token_id] + ids) == "Alice 12"


def test_word_tokenizer_hf_interface_and_save(tmp_path):
    tok = WordTokenizer.train(TEXTS)
    batch = tok(["Alice 3", "Bob is above Carol"], return_tensors="pt")
    assert batch["input_ids"].shape == batch["attention_mask"].shape
    assert batch["attention_mask"][0, 0] == 0 and batch["input_ids"][0, 0] == tok.pad_token_id  # left padding
    assert tok("Alice")["input_ids"] == tok.encode("Alice")
    tok.save_pretrained(tmp_path)
    back = WordTokenizer.from_pretrained(tmp_path)
    assert back.vocab == tok.vocab and back.encode(TEXTS[0]) == tok.encode(TEXTS[0])


def test_scratch_save_and_load_round_trip(tmp_path):
    tok, model = models.load_scratch(TEXTS, seed=1, size="small", device="cpu")
    assert 1e6 < models.n_params(model) < 10e6
    assert model.config.hidden_size == 256 and model.config.num_hidden_layers == 4
    models.save(tok, model, tmp_path / "m")
    models.save(tok, model, tmp_path / "m")  # overwriting an existing save works
    tok2, model2 = models.load(str(tmp_path / "m"), device="cpu")
    assert isinstance(tok2, WordTokenizer) and tok2.vocab == tok.vocab
    ids = torch.tensor([tok.encode(TEXTS[0])])
    with torch.no_grad():
        assert torch.allclose(model(ids).logits, model2(ids).logits)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dirs left behind


@pytest.mark.parametrize("name, fragment", [
    ("no-such-model", "unknown model"),
    ("/nonexistent/dir/model", "unknown model"),
    ("scratch", "load_scratch"),
    ("someone/not-cached-model", "could not load"),
])
def test_bad_names_give_one_clear_error(name, fragment):
    with pytest.raises(models.ModelLoadError, match=fragment) as e:
        models.load(name)
    assert "\n" not in str(e.value)


def test_dir_without_config_is_a_clear_error(tmp_path):
    with pytest.raises(models.ModelLoadError, match="no config.json"):
        models.load(str(tmp_path))


def test_missing_gguf_package_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(models, "GGUF_PACKAGE", "no_such_pkg_for_test")
    with pytest.raises(models.ModelLoadError, match="pip install"):
        models.gguf_dir()


@pytest.mark.slow
def test_smollm2_cache_equals_fresh_gguf_conversion():
    import transformers
    tok, model = models.load("smollm2-135m", device="cpu")
    assert models.n_params(model) == pytest.approx(134.5e6, rel=0.01)
    assert json.loads((models.smollm2_cache_dir() / "config.json").read_text()).get("quantization_config") is None
    ref = transformers.AutoModelForCausalLM.from_pretrained(models.gguf_dir(), gguf_file=models.GGUF_FILE,
                                                            dtype=torch.float32)
    a, b = model.state_dict(), ref.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    reftok = transformers.AutoTokenizer.from_pretrained(models.gguf_dir(), gguf_file=models.GGUF_FILE)
    assert tok.encode(TEXTS[0]) == reftok.encode(TEXTS[0])
