"""Tests for helpers.infer: batched greedy decoding equals one-at-a-time decoding (tiny models, seconds)."""
from __future__ import annotations

import pytest
import torch

from helpers import infer, models

PROMPTS = ["Alice is above the house.\nMap (coords):\n", "Bob", "x",
           "The cat is to the left of the dog and the dog is below the tree. Where is the cat?\nMap (grid):\n",
           "1 2 3 4 5", "Carol is right of Dave.\n"] * 2


@pytest.fixture(scope="module")
def tiny():
    tok, model = models.load("tiny-random", device="cpu")
    with torch.no_grad():  # make EOS likely so that rows stop at different steps (exercises cache pruning)
        emb = model.get_input_embeddings().weight
        emb[tok.eos_token_id] = emb[tok.eos_token_id] * 6
    return tok, model


def one_at_a_time(tok, model, prompts, n):
    return [infer.generate(tok, model, [p], n, batch_size=1)[0] for p in prompts]


def test_batched_equals_one_at_a_time_and_hf_generate(tiny):
    tok, model = tiny
    batched = infer.generate(tok, model, PROMPTS, 12, batch_size=5)
    assert batched == one_at_a_time(tok, model, PROMPTS, 12)
    lens = {len(tok.encode(o)) for o in batched}
    assert len(lens) > 1, "EOS should end some rows early"
    ref = []
    for p in PROMPTS:
        ids = torch.tensor([infer.encode_prompt(tok, p)])
        o = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=12, do_sample=False,
                           pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        ref.append(tok.decode(o[0, ids.shape[1]:], skip_special_tokens=True))
    assert batched == ref


def test_scratch_word_tokenizer_model_decodes_the_same_batched():
    tok, model = models.load_scratch(PROMPTS, seed=0, size="tiny", device="cpu")
    assert infer.generate(tok, model, PROMPTS, 8, batch_size=4) == one_at_a_time(tok, model, PROMPTS, 8)


def test_sampling_shape_and_seed(tiny):
    tok, model = tiny
    a = infer.generate(tok, model, PROMPTS[:3], 6, num_samples=3, temperature=1.0, seed=1)
    b = infer.generate(tok, model, PROMPTS[:3], 6, num_samples=3, temperature=1.0, seed=1)
    assert a == b and len(a) == 3 and all(len(s) == 3 for s in a)
    with pytest.raises(ValueError):
        infer.generate(tok, model, PROMPTS[:1], 4, num_samples=2)


def test_constrained_output_uses_only_format_chars_and_names(tiny):
    tok, model = tiny
    names = [["Alice", "the house"], ["Bob"], ["X"]]
    outs = infer.generate(tok, model, PROMPTS[:3], 15, constrain="coords", example_names=names)
    for o, ns in zip(outs, names):
        rest = o
        for w in sorted(ns + list(infer.FORMAT_WORDS["coords"]), key=len, reverse=True):
            rest = rest.replace(w, "")
        # whatever is left is format characters or pieces of names
        assert all(c in infer.FORMAT_CHARS["coords"] or any(c in n for n in ns + ["State"] + list(infer.RELATIONS))
                   for c in rest), o
    mask = infer.allowed_mask(tok, "grid", ["A", "B"])
    allowed = {tok.decode([i]) for i in mask.nonzero().squeeze(-1).tolist()}
    assert "A" in allowed and "." in allowed and "\n" in allowed and "Paris" not in allowed
    with pytest.raises(ValueError):
        infer.generate(tok, model, PROMPTS[:2], 4, constrain="coords")


def test_sample_and_verify_keeps_a_verified_sample(tiny):
    tok, model = tiny
    greedy = infer.generate(tok, model, PROMPTS[:2], 5)
    texts, tries = infer.sample_and_verify(tok, model, PROMPTS[:2], 5, n=4,
                                           verify=lambda i, t: i == 0 or t != greedy[1], temperature=1.5)
    assert tries[0] == 0 and texts[0] == greedy[0]
    assert tries[1] >= 1 and texts[1] != greedy[1]
