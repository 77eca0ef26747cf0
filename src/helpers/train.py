"""Fine-tuning engine: LoRA (optionally on the top K layers only) or full training of a causal LM on
(prompt, target) pairs, fast on CPU without changing what is learned.

What is learned: the loss is the mean cross-entropy over *target* tokens only. One example is
``prompt_ids + target_ids + [eos]`` (prompt encoded with ``add_special_tokens=True``, target without,
exactly as generation sees it: see :func:`encode_pair`); labels are -100 on the prompt and on padding.

Where the CPU time goes and what this module does about it (measured by ``benchmarks/train_throughput.py``):

1. No padding waste: examples are sorted by length and cut into batches; only the *order* of the batches
   is shuffled each epoch (seeded), so a batch is almost always pad-free. Right padding when it is not.
2. LM head only where the loss needs it: hidden states are computed, the positions whose (shifted) label is
   not -100 are selected, and only those go through the (49k-vocabulary) head.
3. LoRA on the top K layers only (``lora_top_k_layers``) with ``cache_prefix=True``: the frozen bottom
   L-K layers are a fixed function of the input, so their output is computed once (no grad, eval mode) and
   kept in RAM; each step runs only layers L-K..L-1, the final norm and the head. The cache is built once
   per ``train()`` call (it is recomputed after a resume) and amortises over epochs.
4. ``torch.set_num_threads(cores)``; by default (``precision="auto"``) fp32 on CPU and bf16 autocast on CUDA.
   ``precision="bf16"`` also autocasts on CPU: on a CPU with AMX (``amx_bf16`` in ``/proc/cpuinfo``) a bf16
   matmul runs several times faster than fp32; without it, bf16 is much slower (``bf16_is_fast`` tells).
   Weights and optimizer state stay fp32 either way; only the matmuls run in bf16.

Checkpoints (``out_dir/checkpoint/``, written atomically: tmp dir then rename) hold the trainable weights,
optimizer, scheduler, RNG states, step, epoch position and the epoch's batch order; ``train()`` resumes from
it automatically and reproduces the same next-step losses. ``metrics.jsonl`` gets one row per optimizer step
``{"step","epoch","loss","lr","tokens","tokens_per_s","elapsed_s"}`` and eval rows ``{"step","val_loss"}``.

Multi-GPU (untested here; the path is small on purpose): launch the same script with
``accelerate launch --multi_gpu --num_processes 4 my_script.py``. When ``WORLD_SIZE > 1`` an
``accelerate.Accelerator`` picks each rank's device, batches are sharded across ranks
(``batches[rank::world]``), trainable gradients are all-reduced (mean) before each optimizer step, and only
rank 0 logs and writes files.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import random
import resource
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F

from . import settings

IGNORE = -100
PRECISIONS = ("auto", "bf16", "fp32")


def bf16_is_fast() -> bool:
    """True when this CPU has bf16 matmul instructions (AMX tiles or AVX-512 BF16; bf16 matmuls then beat fp32);
    False elsewhere or unknown."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
        return "amx_bf16" in flags or "avx512_bf16" in flags
    except OSError:
        return False


def autocast_for(precision: str, device) -> Callable[[], Any]:
    """A factory of autocast contexts for ``precision`` (see :data:`PRECISIONS`) on ``device``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    kind = "cuda" if str(device).startswith("cuda") else "cpu"
    if precision == "bf16" or (precision == "auto" and kind == "cuda"):
        return lambda: torch.autocast(kind, dtype=torch.bfloat16)
    return contextlib.nullcontext


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (hashable, JSON-serialisable via ``asdict``)."""

    model: str = "smollm2-135m"
    method: str = "lora"                      # "lora" | "full"
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    lora_top_k_layers: int | None = None      # None = LoRA in every layer
    target_modules: str | tuple[str, ...] = "all-linear"
    cache_prefix: bool = True                 # cache frozen bottom layers' outputs (needs lora_top_k_layers)
    cache_dtype: str = "float32"              # "float32" | "bfloat16" (halves RAM, not exact)
    precision: str = "auto"                   # "auto" (bf16 autocast on CUDA, fp32 on CPU) | "bf16" | "fp32"
    head_only_on_targets: bool = True
    epochs: int = 1
    lr: float = 2e-4
    batch_size: int = 8
    grad_accum: int = 1
    schedule: str = "linear"                  # "linear" | "cosine" (decay to 0 after warm-up)
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    max_grad_norm: float | None = 1.0
    seed: int = 0
    eval_every: int = 0                       # 0 = eval only at the end
    save_every: int = 50                      # checkpoint every N optimizer steps (0 = only at epoch ends)
    max_steps: int | None = None
    bucket_by_length: bool = True
    threads: int | None = None                # None = all cores
    progress: bool = True                     # tqdm bar


# ----------------------------------------------------------------------------------------- data
def encode_pair(tok, prompt: str, target: str) -> tuple[list[int], list[int]]:
    """(input_ids, labels) for one pair: prompt (special tokens as the tokenizer adds them) + target + eos;
    labels are -100 on the prompt."""
    p = list(tok.encode(prompt, add_special_tokens=True))
    t = list(tok.encode(target, add_special_tokens=False)) + [tok.eos_token_id]
    return p + t, [IGNORE] * len(p) + t


def encode_pairs(tok, pairs: Sequence[tuple[str, str]]) -> list[tuple[list[int], list[int]]]:
    return [encode_pair(tok, p, t) for p, t in pairs]


def make_batches(lengths: Sequence[int], batch_size: int, seed: int, epoch: int,
                 bucket: bool = True, shuffle: bool = True) -> list[list[int]]:
    """Batches of example indices for one epoch. ``bucket``: sort by length (ties by index), chunk, then
    shuffle only the batch order with ``Random((seed, epoch))``; else a random permutation chunked.
    Every example appears exactly once."""
    n = len(lengths)
    rng = random.Random(seed * 1_000_003 + epoch)
    if bucket:
        order = sorted(range(n), key=lambda i: (lengths[i], i))
        batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
        if shuffle:
            rng.shuffle(batches)
    else:
        order = list(range(n))
        if shuffle:
            rng.shuffle(order)
        batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    return batches


def collate(encoded, idx: Sequence[int], pad_id: int, device) -> dict[str, Any]:
    """Right-padded tensors for a batch; ``attention_mask`` is None when the batch has no padding."""
    seqs = [encoded[i] for i in idx]
    lens = [len(s[0]) for s in seqs]
    T = max(lens)
    ids = torch.full((len(seqs), T), pad_id, dtype=torch.long)
    labels = torch.full((len(seqs), T), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(seqs), T), dtype=torch.long)
    for b, (x, y) in enumerate(seqs):
        ids[b, :len(x)] = torch.tensor(x)
        labels[b, :len(y)] = torch.tensor(y)
        mask[b, :len(x)] = 1
    padded = min(lens) != T
    return {"input_ids": ids.to(device), "labels": labels.to(device),
            "attention_mask": mask.to(device) if padded else None, "lens": lens,
            "n_tokens": sum(lens), "n_targets": int((labels[:, 1:] != IGNORE).sum())}


# ----------------------------------------------------------------------------------------- model
def _base(model):
    """The underlying *ForCausalLM (LoRA layers are injected in place, so walking it runs them)."""
    try:
        from peft import PeftModel
        if isinstance(model, PeftModel):
            return model.get_base_model()
    except ImportError:  # pragma: no cover
        pass
    return model


def n_layers(model) -> int:
    return int(_base(model).config.num_hidden_layers)


def prepare_model(cfg: TrainConfig, model):
    """Wrap with LoRA (top-K layers or all) or make every parameter trainable (``method="full"``)."""
    if cfg.method == "full":
        model.float()  # fp32 master weights (a bf16 CUDA load is upcast; compute still runs under bf16 autocast)
        for p in model.parameters():
            p.requires_grad_(True)
        return model
    if cfg.method != "lora":
        raise ValueError(f"unknown method {cfg.method!r}")
    from peft import LoraConfig, PeftModel, get_peft_model
    if isinstance(model, PeftModel):
        return model
    L = n_layers(model)
    K = cfg.lora_top_k_layers
    tm = cfg.target_modules if isinstance(cfg.target_modules, str) else list(cfg.target_modules)
    kw = {}
    if K is not None and K < L:
        kw = {"layers_to_transform": list(range(L - K, L)), "layers_pattern": "layers"}
        if tm == "all-linear":  # peft refuses a str together with layers_to_transform: expand it here
            tm = sorted({n.rsplit(".", 1)[-1] for n, m in _base(model).named_modules()
                         if isinstance(m, torch.nn.Linear) and ".layers." in n})
    lc = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                    target_modules=tm, bias="none", task_type="CAUSAL_LM", **kw)
    return get_peft_model(model, lc)


class _Arch:
    """Layer-by-layer access to a Llama-style decoder (embed_tokens, layers, norm, rotary_emb, lm_head)."""

    def __init__(self, model):
        self.base = _base(model)
        inner = getattr(self.base, "model", None)
        self.ok = all(hasattr(inner, a) for a in ("embed_tokens", "layers", "norm", "rotary_emb"))
        if self.ok:
            self.inner = inner
            self.layers = inner.layers
            self.head = self.base.get_output_embeddings()
        self.L = n_layers(model)

    def embed(self, ids):
        return self.inner.embed_tokens(ids)

    def run_layers(self, hidden, start: int, stop: int, mask2d):
        from transformers.masking_utils import create_causal_mask
        T = hidden.shape[1]
        pos = torch.arange(T, device=hidden.device).unsqueeze(0)
        mask = create_causal_mask(config=self.base.config, inputs_embeds=hidden, attention_mask=mask2d,
                                  cache=None, position_ids=pos)
        pe = self.inner.rotary_emb(hidden, position_ids=pos)
        for layer in self.layers[start:stop]:
            out = layer(hidden, attention_mask=mask, position_ids=pos, position_embeddings=pe)
            hidden = out[0] if isinstance(out, tuple) else out
        return hidden


def _ce_sum(hidden, labels, head, head_only: bool):
    """Summed next-token CE over positions with a target label; the head runs on those only if head_only."""
    h, y = hidden[:, :-1], labels[:, 1:]
    if head_only:
        sel = y != IGNORE
        logits = head(h[sel])
        return F.cross_entropy(logits.float(), y[sel], reduction="sum")
    logits = head(h)
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1),
                           ignore_index=IGNORE, reduction="sum")


def loss_sum(model, batch, *, arch: _Arch | None = None, start: int = 0, prefix: torch.Tensor | None = None,
             head_only: bool = True, grad_prefix: bool = False) -> torch.Tensor:
    """Summed target-token CE for a collated batch. ``prefix``: hidden states entering layer ``start``
    (from the cache); without it, layers [0, start) run under no_grad unless ``grad_prefix``."""
    arch = arch or _Arch(model)
    if not arch.ok:  # generic fallback: full HF forward, full head
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        logits = out.logits[:, :-1]
        return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), batch["labels"][:, 1:].reshape(-1),
                               ignore_index=IGNORE, reduction="sum")
    mask2d = batch["attention_mask"]
    if prefix is None:
        ctx = contextlib.nullcontext() if grad_prefix else torch.no_grad()
        with ctx:
            prefix = arch.run_layers(arch.embed(batch["input_ids"]), 0, start, mask2d)
    hidden = arch.run_layers(prefix, start, arch.L, mask2d)
    hidden = arch.inner.norm(hidden)
    return _ce_sum(hidden, batch["labels"], arch.head, head_only)


@torch.no_grad()
def build_prefix_cache(model, encoded, start: int, batch_size: int, pad_id: int, device,
                       dtype: torch.dtype = torch.float32, autocast=None, progress: bool = False) -> list[torch.Tensor]:
    """Per example, the hidden states entering layer ``start`` (shape [len, hidden]), computed in eval mode."""
    arch = _Arch(model)
    was = model.training
    model.eval()
    cache: list[torch.Tensor | None] = [None] * len(encoded)
    lengths = [len(x) for x, _ in encoded]
    batches = make_batches(lengths, batch_size, 0, 0, bucket=True, shuffle=False)
    if progress:
        from tqdm.auto import tqdm
        batches = tqdm(batches, desc=f"cache layers 0-{start - 1}", unit="batch", dynamic_ncols=True, leave=False)
    for idx in batches:
        b = collate(encoded, idx, pad_id, device)
        with (autocast or contextlib.nullcontext()):
            h = arch.run_layers(arch.embed(b["input_ids"]), 0, start, b["attention_mask"])
        for j, i in enumerate(idx):
            cache[i] = h[j, :b["lens"][j]].to(dtype).clone()
    model.train(was)
    return cache  # type: ignore[return-value]


def _stack_prefix(cache, idx, dtype) -> torch.Tensor:
    xs = [cache[i] for i in idx]
    T = max(x.shape[0] for x in xs)
    out = xs[0].new_zeros((len(xs), T, xs[0].shape[1]))
    for b, x in enumerate(xs):
        out[b, :x.shape[0]] = x
    return out.to(dtype)


# ----------------------------------------------------------------------------------------- schedule / io
def lr_lambda(total_steps: int, warmup_steps: int, schedule: str) -> Callable[[int], float]:
    def f(s: int) -> float:
        if warmup_steps and s < warmup_steps:
            return (s + 1) / warmup_steps
        frac = (s - warmup_steps) / max(1, total_steps - warmup_steps)
        frac = min(max(frac, 0.0), 1.0)
        if schedule == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * frac))
        if schedule == "linear":
            return 1.0 - frac
        raise ValueError(f"unknown schedule {schedule!r}")
    return f


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _rng_state() -> dict:
    st = {"python": random.getstate(), "torch": torch.get_rng_state()}
    try:
        import numpy as np
        st["numpy"] = np.random.get_state()
    except ImportError:  # pragma: no cover
        pass
    if torch.cuda.is_available():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def _set_rng_state(st: dict) -> None:
    random.setstate(st["python"])
    torch.set_rng_state(st["torch"])
    if "numpy" in st:
        import numpy as np
        np.random.set_state(st["numpy"])
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(st["cuda"])


def _trainable(model) -> dict[str, torch.nn.Parameter]:
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


def save_checkpoint(ckpt: Path, model, opt, sched, state: dict) -> None:
    """Atomic: write ``checkpoint.tmp`` then swap it in (old copy kept as ``checkpoint.old`` until done)."""
    tmp, old = ckpt.with_name(ckpt.name + ".tmp"), ckpt.with_name(ckpt.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    torch.save({n: p.detach().cpu() for n, p in _trainable(model).items()}, tmp / "trainable.pt")
    torch.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "rng": _rng_state()},
               tmp / "optim.pt")
    (tmp / "state.json").write_text(json.dumps(state))
    if ckpt.exists():
        shutil.rmtree(old, ignore_errors=True)
        ckpt.rename(old)
    tmp.rename(ckpt)
    shutil.rmtree(old, ignore_errors=True)


def find_checkpoint(out_dir: Path) -> Path | None:
    for name in ("checkpoint", "checkpoint.old"):  # .old only if killed between the two renames
        p = out_dir / name
        if (p / "state.json").exists():
            return p
    return None


def load_checkpoint(ckpt: Path, model, opt, sched) -> dict:
    weights = torch.load(ckpt / "trainable.pt", map_location="cpu")
    params = _trainable(model)
    missing = set(params) ^ set(weights)
    if missing:
        raise ValueError(f"checkpoint does not match the model's trainable parameters: {sorted(missing)[:5]}")
    with torch.no_grad():
        for n, p in params.items():
            p.copy_(weights[n].to(p.device, p.dtype))
    o = torch.load(ckpt / "optim.pt", map_location="cpu", weights_only=False)
    opt.load_state_dict(o["optimizer"])
    sched.load_state_dict(o["scheduler"])
    _set_rng_state(o["rng"])
    return json.loads((ckpt / "state.json").read_text())


def save_model(tok, model, out: Path, cfg: TrainConfig | None = None) -> Path:
    """Save the LoRA adapter (PeftModel) or the full model, plus the tokenizer (and ``train_config.json``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    if tok is not None:
        tok.save_pretrained(out)
    if cfg is not None:
        (out / "train_config.json").write_text(json.dumps(asdict(cfg), indent=1))
    return out


class _Dist:
    """WORLD_SIZE>1: accelerate picks the device and inits the process group; grads are all-reduced by hand."""

    def __init__(self):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank, self.device = 0, None
        if self.world > 1:  # pragma: no cover - needs several GPUs
            from accelerate import Accelerator
            acc = Accelerator()
            self.rank, self.device = acc.process_index, acc.device

    @property
    def main(self) -> bool:
        return self.rank == 0

    def shard(self, batches: list) -> list:
        if self.world == 1:
            return batches
        n = len(batches) // self.world * self.world  # pragma: no cover
        return batches[:n][self.rank::self.world]  # pragma: no cover

    def reduce_grads(self, params) -> None:
        if self.world == 1:
            return
        import torch.distributed as dist  # pragma: no cover
        for p in params:  # pragma: no cover
            if p.grad is not None:
                dist.all_reduce(p.grad)
                p.grad /= self.world


# ----------------------------------------------------------------------------------------- train
@torch.no_grad()
def eval_loss(model, encoded, pad_id: int, device, batch_size: int, *, start: int = 0, cache=None,
              head_only: bool = True, autocast=None) -> float:
    """Token-weighted mean target CE over ``encoded``."""
    if not encoded:
        return float("nan")
    arch = _Arch(model)
    was = model.training
    model.eval()
    tot, n = 0.0, 0
    lengths = [len(x) for x, _ in encoded]
    for idx in make_batches(lengths, batch_size, 0, 0, bucket=True, shuffle=False):
        b = collate(encoded, idx, pad_id, device)
        pre = _stack_prefix(cache, idx, arch.inner.embed_tokens.weight.dtype) if cache is not None else None
        with (autocast or contextlib.nullcontext()):
            tot += float(loss_sum(model, b, arch=arch, start=start, prefix=pre, head_only=head_only))
        n += b["n_targets"]
    model.train(was)
    return tot / max(n, 1)


def train(cfg: TrainConfig, tok, model, pairs: Sequence[tuple[str, str]],
          val_pairs: Sequence[tuple[str, str]] = (), out_dir: Path | str = ".", log: Callable = print):
    """Train ``model`` on ``pairs``; returns ``(summary, model)`` where model is peft-wrapped for LoRA.

    Resumes from ``out_dir/checkpoint`` when present (pass the same fresh base model and config).
    summary: steps, epochs, final_loss, final_val_loss, tokens, tokens_per_s, wall_s, cache_s, train_s,
    eval_s, peak_rss_mb, n_trainable, device, resumed_from.
    """
    t_start = time.time()
    out_dir = Path(out_dir)
    dist = _Dist()
    threads = cfg.threads or int(os.environ.get("SWM_THREADS", os.cpu_count() or 1))
    torch.set_num_threads(threads)
    device = dist.device or settings.device()
    autocast = autocast_for(cfg.precision, device)
    if cfg.precision == "bf16" and not str(device).startswith("cuda") and not bf16_is_fast() and dist.main:
        log("warning: precision='bf16' on a CPU without bf16 matmul instructions (no amx_bf16 or avx512_bf16 in "
            "/proc/cpuinfo): bf16 matmuls are slower than fp32 here; use precision='auto'")
    settings.seed_everything(cfg.seed)

    model = prepare_model(cfg, model)
    model.to(device)
    model.train()
    arch = _Arch(model)
    params = list(_trainable(model).values())
    n_trainable = sum(p.numel() for p in params)

    pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    enc, val_enc = encode_pairs(tok, pairs), encode_pairs(tok, val_pairs)
    lengths = [len(x) for x, _ in enc]
    L = arch.L
    K = cfg.lora_top_k_layers
    start = L - K if (cfg.method == "lora" and K is not None and K < L and arch.ok) else 0
    use_cache = cfg.cache_prefix and start > 0

    nb = len(dist.shard(make_batches(lengths, cfg.batch_size, cfg.seed, 0, cfg.bucket_by_length)))
    steps_per_epoch = math.ceil(nb / cfg.grad_accum)
    total = cfg.epochs * steps_per_epoch
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    warm = math.ceil(cfg.warmup_ratio * total)

    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(total, warm, cfg.schedule))

    ckpt_dir = out_dir / "checkpoint"
    metrics_path = out_dir / "metrics.jsonl"
    step, epoch, group, tokens_total, elapsed0, resumed_from = 0, 0, 0, 0, 0.0, None
    if dist.main:
        out_dir.mkdir(parents=True, exist_ok=True)
    found = find_checkpoint(out_dir)
    if found is not None:
        st = load_checkpoint(found, model, opt, sched)
        if st.get("config") != json.loads(json.dumps(asdict(cfg))):
            log(f"warning: resuming {found} written with a different config")
        step, epoch, group = st["step"], st["epoch"], st["group"]
        tokens_total, elapsed0, resumed_from = st["tokens_total"], st["elapsed_s"], step
        if dist.main and metrics_path.exists():  # drop rows written after the checkpoint
            rows = [r for r in metrics_path.read_text().splitlines() if r.strip()]
            keep = [r for r in rows if json.loads(r)["step"] <= step]
            metrics_path.write_text("".join(r + "\n" for r in keep))
        log(f"resumed from {found} at step {step} (epoch {epoch}, group {group})")
    elif dist.main and metrics_path.exists():
        metrics_path.unlink()
    mf = open(metrics_path, "a") if dist.main else None

    def write(row: dict) -> None:
        if mf is not None:
            mf.write(json.dumps(row) + "\n")
            mf.flush()

    t_cache, c_cache = time.time(), time.process_time()
    cache_dtype = torch.bfloat16 if cfg.cache_dtype == "bfloat16" else torch.float32
    cache = val_cache = None
    if use_cache:
        cache = build_prefix_cache(model, enc, start, cfg.batch_size * 2, pad_id, device, cache_dtype, autocast(),
                                   progress=cfg.progress and dist.main)
    cache_s, cache_cpu_s = time.time() - t_cache, time.process_time() - c_cache
    # cached states enter the trained layers in the model's own dtype (fp32 on CPU, even for a bf16 cache)
    hidden_dtype = arch.inner.embed_tokens.weight.dtype if arch.ok else torch.float32
    t_val = time.time()
    if use_cache and val_enc:
        val_cache = build_prefix_cache(model, val_enc, start, cfg.batch_size * 2, pad_id, device,
                                       cache_dtype, autocast())
    eval_s = time.time() - t_val  # the validation prefix cache counts as evaluation time

    def do_eval() -> float:
        nonlocal eval_s
        t = time.time()
        v = eval_loss(model, val_enc, pad_id, device, cfg.batch_size * 2, start=start, cache=val_cache,
                      head_only=cfg.head_only_on_targets, autocast=autocast())
        eval_s += time.time() - t
        return v

    pbar = None
    if cfg.progress and dist.main:
        from tqdm.auto import tqdm
        pbar = tqdm(total=total, initial=step, desc="train", dynamic_ncols=True)
    last_loss, last_val = float("nan"), float("nan")
    train_s, train_cpu_s, run_tokens = 0.0, 0.0, 0
    while step < total:
        batches = dist.shard(make_batches(lengths, cfg.batch_size, cfg.seed, epoch, cfg.bucket_by_length))
        for g in range(group, steps_per_epoch):
            t0, c0 = time.time(), time.process_time()
            chunk = batches[g * cfg.grad_accum:(g + 1) * cfg.grad_accum]
            colls = [collate(enc, idx, pad_id, device) for idx in chunk]
            n_tgt = max(1, sum(c["n_targets"] for c in colls))
            step_loss, step_tokens = 0.0, 0
            for idx, b in zip(chunk, colls):
                pre = _stack_prefix(cache, idx, hidden_dtype) if cache is not None else None
                with autocast():
                    ls = loss_sum(model, b, arch=arch, start=start, prefix=pre,
                                  head_only=cfg.head_only_on_targets, grad_prefix=(start == 0))
                (ls / n_tgt).backward()
                step_loss += ls.item()
                step_tokens += b["n_tokens"]
            dist.reduce_grads(params)
            if cfg.max_grad_norm:
                torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
            lr = sched.get_last_lr()[0]
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            dt = time.time() - t0
            train_s += dt
            train_cpu_s += time.process_time() - c0
            run_tokens += step_tokens
            tokens_total += step_tokens
            last_loss = step_loss / n_tgt
            write({"step": step, "epoch": epoch, "loss": last_loss, "lr": lr, "tokens": step_tokens,
                   "tokens_per_s": step_tokens / dt, "elapsed_s": elapsed0 + time.time() - t_start})
            if pbar is not None:
                pbar.update(1)
                pbar.set_postfix(loss=f"{last_loss:.4f}", tok_s=f"{step_tokens / dt:.0f}")
            if cfg.eval_every and step % cfg.eval_every == 0 and val_enc and step < total:
                last_val = do_eval()
                write({"step": step, "val_loss": last_val})
            end_of_epoch = g + 1 == steps_per_epoch
            if dist.main and (end_of_epoch or (cfg.save_every and step % cfg.save_every == 0) or step >= total):
                nxt_epoch, nxt_group = (epoch + 1, 0) if end_of_epoch else (epoch, g + 1)
                save_checkpoint(ckpt_dir, model, opt, sched, {
                    "step": step, "epoch": nxt_epoch, "group": nxt_group, "tokens_total": tokens_total,
                    "elapsed_s": elapsed0 + time.time() - t_start, "config": asdict(cfg),
                    "data_order": batches if not end_of_epoch else None})
            if step >= total:
                break
        else:
            epoch, group = epoch + 1, 0
            continue
        break
    if pbar is not None:
        pbar.close()
    if val_enc:
        last_val = do_eval()
        write({"step": step, "val_loss": last_val})
    if mf is not None:
        mf.close()
    wall = time.time() - t_start
    summary = {
        "steps": step, "epochs": cfg.epochs, "final_loss": last_loss, "final_val_loss": last_val,
        "tokens": run_tokens, "tokens_per_s": run_tokens / max(1e-9, cache_s + train_s),
        "train_tokens_per_s": run_tokens / max(1e-9, train_s),
        "wall_s": wall, "cache_s": cache_s, "train_s": train_s, "eval_s": eval_s,
        "cache_cpu_s": cache_cpu_s, "train_cpu_s": train_cpu_s,  # process CPU time: robust to shared CPUs
        "peak_rss_mb": peak_rss_mb(), "n_trainable": n_trainable, "device": str(device), "threads": threads,
        "prefix_layers_cached": start if use_cache else 0, "resumed_from": resumed_from,
    }
    if dist.main:
        (out_dir / "train_summary.json").write_text(json.dumps(summary, indent=1))
    log(f"trained {step} steps in {wall:.1f}s, loss {last_loss:.4f}, val {last_val:.4f}, "
        f"{summary['tokens_per_s']:.0f} tok/s")
    return summary, model
