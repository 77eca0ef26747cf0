"""Tests for helpers.train on a tiny random Llama and a word-level tokenizer (no downloads, < 60 s)."""
from __future__ import annotations

import json

import pytest
import torch

from helpers import train as T

torch.set_num_threads(1)  # tiny matmuls: extra threads only add contention on shared CPUs

WORDS = ("a b c d e f g h i j k l m n o p above below left right of the is map : ;").split()


def make_tok():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(WORDS)}}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")


def make_model(seed: int = 0, layers: int = 4):
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=len(WORDS) + 3, hidden_size=32, intermediate_size=64, num_hidden_layers=layers,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                      pad_token_id=0, eos_token_id=1, bos_token_id=1, tie_word_embeddings=False)
    cfg._attn_implementation = "sdpa"
    return LlamaForCausalLM(cfg).eval()


def make_pairs(n: int, seed: int = 0):
    import random
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        objs = rng.sample(WORDS[:16], rng.randint(2, 5))
        prompt = " ".join(f"{x} is above {y} ;" for x, y in zip(objs, objs[1:])) + " map :"
        out.append((prompt, " ".join(objs)))
    return out


def _randomise_lora(model, seed=1):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_" in n:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)


def test_encode_pair_masks_prompt_and_padding():
    tok = make_tok()
    ids, labels = T.encode_pair(tok, "a is above b ; map :", "a b")
    p = tok.encode("a is above b ; map :", add_special_tokens=True)
    assert ids[:len(p)] == p and ids[-1] == tok.eos_token_id
    assert labels[:len(p)] == [T.IGNORE] * len(p)
    assert labels[len(p):] == ids[len(p):] == tok.encode("a b", add_special_tokens=False) + [tok.eos_token_id]
    enc = [T.encode_pair(tok, "a is above b ; map :", "a b"), T.encode_pair(tok, "a ; map :", "a")]
    b = T.collate(enc, [0, 1], tok.pad_token_id, "cpu")
    assert b["attention_mask"] is not None
    assert (b["labels"][b["attention_mask"] == 0] == T.IGNORE).all()
    assert b["n_targets"] == 3 + 2


def _hf_loss_sum(model, b):
    out = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"], labels=b["labels"])
    return out.loss * b["n_targets"]


def test_head_only_equals_full_head_and_hf():
    tok, model = make_tok(), make_model()
    enc = T.encode_pairs(tok, make_pairs(6))
    b = T.collate(enc, range(6), tok.pad_token_id, "cpu")  # padded batch
    with torch.no_grad():
        a = T.loss_sum(model, b, head_only=True)
        f = T.loss_sum(model, b, head_only=False)
        h = _hf_loss_sum(model, b)
    assert torch.allclose(a, f, atol=1e-5) and torch.allclose(a, h, atol=1e-4)


@pytest.mark.parametrize("padded", [True, False])
def test_cached_prefix_equals_full_forward(padded):
    tok = make_tok()
    model = T.prepare_model(T.TrainConfig(lora_top_k_layers=2, lora_r=4), make_model())
    _randomise_lora(model)
    model.eval()
    pairs = make_pairs(8)
    enc = T.encode_pairs(tok, pairs if padded else [pairs[0]] * 4)
    idx = list(range(len(enc)))
    cache = T.build_prefix_cache(model, enc, 2, 3, tok.pad_token_id, "cpu")
    b = T.collate(enc, idx, tok.pad_token_id, "cpu")
    pre = T._stack_prefix(cache, idx, torch.float32)
    cached = T.loss_sum(model, b, start=2, prefix=pre)
    cached.backward()
    g_cached = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    model.zero_grad()
    full = _hf_loss_sum(model, b)
    full.backward()
    assert abs(cached.item() - full.item()) < 1e-5 * max(1.0, abs(full.item()))
    for n, p in model.named_parameters():
        if p.requires_grad:
            assert torch.allclose(g_cached[n], p.grad, atol=1e-5), n
    # LoRA really is only in the top 2 of 4 layers
    lora_layers = {int(n.split(".layers.")[1].split(".")[0]) for n, _ in model.named_parameters() if "lora_" in n}
    assert lora_layers == {2, 3}


def test_bucketing_covers_every_example_once():
    lengths = [5, 9, 3, 3, 7, 12, 9, 4, 5, 6, 8]
    orders = []
    for epoch in range(3):
        bs = T.make_batches(lengths, 3, seed=0, epoch=epoch)
        flat = [i for b in bs for i in b]
        assert sorted(flat) == list(range(len(lengths)))
        assert all(len(b) <= 3 for b in bs)
        orders.append(flat)
        # each batch is a contiguous run of the length-sorted examples -> padding is minimal
        spans = sorted((min(lengths[i] for i in b), max(lengths[i] for i in b)) for b in bs)
        assert all(hi <= lo2 for (_, hi), (lo2, _) in zip(spans, spans[1:]))
    assert orders[0] != orders[1] or orders[1] != orders[2]
    assert T.make_batches(lengths, 3, 0, 1) == T.make_batches(lengths, 3, 0, 1)  # deterministic
    flat = [i for b in T.make_batches(lengths, 4, 0, 0, bucket=False) for i in b]
    assert sorted(flat) == list(range(len(lengths)))


class _Killed(Exception):
    pass


def _cfg(**kw):
    base = dict(model="tiny", lora_r=4, lora_top_k_layers=2, lora_dropout=0.1, epochs=2, batch_size=4, lr=5e-3,
                warmup_ratio=0.2, schedule="cosine", save_every=2, eval_every=2, seed=3, progress=False, threads=1)
    base.update(kw)
    return T.TrainConfig(**base)


def _losses(path):
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    return {r["step"]: r["loss"] for r in rows if "loss" in r}


@pytest.mark.parametrize("kill_at,kw", [(3, {}), (2, {}), (3, {"method": "full", "lora_top_k_layers": None,
                                                                  "grad_accum": 2, "epochs": 3, "save_every": 3})])
def test_resume_reproduces_next_step_losses(tmp_path, monkeypatch, kill_at, kw):
    tok = make_tok()
    pairs, val = make_pairs(10), make_pairs(4, seed=9)  # 3 batches/epoch (4,4,2)
    cfg = _cfg(**kw)
    s, _ = T.train(cfg, tok, make_model(), pairs, val, tmp_path / "straight", log=lambda *a: None)
    assert s["steps"] == 6
    straight = _losses(tmp_path / "straight" / "metrics.jsonl")

    orig = T.save_checkpoint

    def killing_save(ckpt, model, opt, sched, state):
        orig(ckpt, model, opt, sched, state)
        if state["step"] == kill_at:
            raise _Killed

    monkeypatch.setattr(T, "save_checkpoint", killing_save)
    with pytest.raises(_Killed):
        T.train(cfg, tok, make_model(), pairs, val, tmp_path / "resumed", log=lambda *a: None)
    monkeypatch.setattr(T, "save_checkpoint", orig)
    s2, _ = T.train(cfg, tok, make_model(), pairs, val, tmp_path / "resumed", log=lambda *a: None)  # new objects
    assert s2["resumed_from"] == kill_at and s2["steps"] == 6
    resumed = _losses(tmp_path / "resumed" / "metrics.jsonl")
    assert sorted(resumed) == list(range(1, 7))
    for k in range(1, 7):
        assert abs(resumed[k] - straight[k]) < 1e-6, (k, resumed[k], straight[k])
    assert abs(s2["final_val_loss"] - s["final_val_loss"]) < 1e-6


def test_training_reduces_loss_and_saves(tmp_path):
    tok = make_tok()
    pairs = make_pairs(32)
    cfg = _cfg(epochs=8, lora_r=8, lora_dropout=0.0, lr=1e-2, save_every=0, eval_every=0, schedule="linear")
    s, model = T.train(cfg, tok, make_model(), pairs, pairs[:8], tmp_path / "run", log=lambda *a: None)
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in rows if "loss" in r]
    # LoRA on a random 32-dim model learns slowly; the real check on SmolLM2 is in the report
    assert sum(losses[-8:]) / 8 < sum(losses[:8]) / 8 - 0.1, losses
    assert {"step", "epoch", "loss", "lr", "tokens", "tokens_per_s", "elapsed_s"} <= set(rows[0])
    assert s["prefix_layers_cached"] == 2 and s["tokens_per_s"] > 0
    out = T.save_model(tok, model, tmp_path / "adapter", cfg)
    assert (out / "adapter_config.json").exists() and (out / "train_config.json").exists()


def test_full_training_from_scratch_learns(tmp_path):
    tok = make_tok()
    pairs = make_pairs(32)
    cfg = _cfg(method="full", lora_top_k_layers=None, epochs=8, lr=3e-3, lora_dropout=0.0, save_every=0,
               eval_every=0, schedule="linear")
    s, model = T.train(cfg, tok, make_model(), pairs, pairs[:8], tmp_path / "run", log=lambda *a: None)
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in rows if "loss" in r]
    assert losses[-1] < 0.75 * losses[0], losses
    assert s["prefix_layers_cached"] == 0
    out = T.save_model(tok, model, tmp_path / "full")
    assert (out / "model.safetensors").exists()


def test_precision_selects_autocast():
    assert T.autocast_for("auto", "cpu")() .__class__.__name__ == "nullcontext"
    assert T.autocast_for("fp32", "cpu")().__class__.__name__ == "nullcontext"
    with T.autocast_for("bf16", "cpu")():
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    with pytest.raises(ValueError, match="precision"):
        T.autocast_for("fp16", "cpu")


def test_bf16_training_tracks_fp32(tmp_path):
    """bf16 autocast on CPU: weights stay fp32, the losses follow the fp32 run closely (not exactly)."""
    tok = make_tok()
    pairs = make_pairs(16)
    losses = {}
    for prec in ("fp32", "bf16"):
        cfg = _cfg(epochs=2, lora_r=8, lr=1e-2, save_every=0, eval_every=0, precision=prec)
        _, model = T.train(cfg, tok, make_model(), pairs, pairs[:4], tmp_path / prec, log=lambda *a: None)
        rows = [json.loads(x) for x in (tmp_path / prec / "metrics.jsonl").read_text().splitlines()]
        losses[prec] = [r["loss"] for r in rows if "loss" in r]
        assert all(p.dtype == torch.float32 for p in model.parameters())
    assert losses["fp32"] != losses["bf16"]  # autocast really ran in bf16
    assert max(abs(a - b) for a, b in zip(losses["fp32"], losses["bf16"])) < 0.05 * max(losses["fp32"])


def test_bf16_on_a_cpu_without_amx_warns(tmp_path, monkeypatch):
    monkeypatch.setattr(T, "bf16_is_fast", lambda: False)
    said = []
    cfg = _cfg(epochs=1, precision="bf16", save_every=0, eval_every=0, max_steps=1)
    T.train(cfg, make_tok(), make_model(), make_pairs(4), (), tmp_path / "run", log=lambda *a: said.append(" ".join(map(str, a))))
    assert any("without bf16 matmul instructions" in s for s in said)
