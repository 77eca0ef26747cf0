"""Inference throughput: naive ``model.generate`` one story at a time vs the batched engine (``infer.generate``).

Same prompts (~50-token story prompts), same greedy decoding, for SmolLM2-135M and the scratch model.
Reports maps/s, speed-up, agreement of the outputs and peak RSS; writes ``reports/perf/infer_throughput.json``.

    .venv/bin/python benchmarks/infer_throughput.py --n 64 --model both
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import sys
import time

import psutil
import torch

from helpers import infer, models, paths
from helpers.settings import set_threads

NAMES = ["Alice", "Bob", "Carol", "Dave", "the house", "the tree", "the red ball", "the cat", "Eve", "the lamp"]
RELS = ["above", "below", "to the left of", "to the right of", "to the upper-left of", "to the lower-right of"]


def stories(n: int, seed: int = 0) -> list[str]:
    """Prompts of ~50 SmolLM2 tokens: 4-5 relation sentences + the coords prompt suffix."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        objs = rng.sample(NAMES, 5)
        sents = [f"{a[0].upper() + a[1:]} is {rng.choice(RELS)} {b}." for a, b in zip(objs, objs[1:])]
        out.append(" ".join(sents) + "\nMap (coords):\n")
    return out


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def naive(tok, model, prompts, max_new: int) -> tuple[list[str], float]:
    t = time.perf_counter()
    outs = []
    dev = next(model.parameters()).device
    with torch.inference_mode():
        for p in prompts:
            ids = torch.tensor([infer.encode_prompt(tok, p)], device=dev)
            o = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new, do_sample=False,
                               pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
            outs.append(tok.decode(o[0, ids.shape[1]:], skip_special_tokens=True))
    return outs, time.perf_counter() - t


def bench(name: str, n: int, max_new: int, batch_sizes: list[int], naive_n: int) -> dict:
    prompts = stories(n)
    t = time.perf_counter()
    if name == "scratch":
        tok, model = models.load_scratch(prompts + [p + "Alice 1 2\nBob 3 4" for p in prompts], seed=0)
    else:
        tok, model = models.load(name)
    load_s = time.perf_counter() - t
    lens = [len(infer.encode_prompt(tok, p)) for p in prompts]
    res = {"model": name, "describe": models.describe(model), "load_s": round(load_s, 2), "n": n,
           "prompt_tokens_mean": round(sum(lens) / n, 1), "max_new_tokens": max_new, "rows": []}
    infer.generate(tok, model, prompts[:2], 2)  # warm-up
    base_out, base_s = naive(tok, model, prompts[:naive_n], max_new)
    base_rate = naive_n / base_s
    res["rows"].append({"engine": "naive model.generate, batch 1", "n": naive_n, "seconds": round(base_s, 2),
                        "maps_per_s": round(base_rate, 3), "speedup": 1.0, "rss_mb": round(rss_mb())})
    for bs in batch_sizes:
        sub = prompts if bs > 1 else prompts[:naive_n]  # batch 1 is as slow as the baseline: same subset
        t = time.perf_counter()
        outs = infer.generate(tok, model, sub, max_new, batch_size=bs, progress=False)
        s = time.perf_counter() - t
        agree = sum(a == b for a, b in zip(outs[:naive_n], base_out)) / naive_n
        res["rows"].append({"engine": f"engine, batch {bs}" + (", length-sorted" if bs > 1 else ""), "n": len(sub),
                            "seconds": round(s, 2), "maps_per_s": round(len(sub) / s, 3),
                            "speedup": round(len(sub) / s / base_rate, 2),
                            "agreement_with_naive": round(agree, 3), "rss_mb": round(rss_mb())})
        print(json.dumps(res["rows"][-1]), flush=True)
    res["peak_rss_mb_process_so_far"] = round(peak_rss_mb())
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=32, help="prompts per batched engine")
    ap.add_argument("--naive-n", type=int, default=None, help="prompts for the naive baseline and the batch-1 engine (default: min(n, 4))")
    ap.add_argument("--model", default="both", help="smollm2-135m | scratch | both")
    ap.add_argument("--max-new-tokens", type=int, default=20)
    ap.add_argument("--batch-sizes", default="1,32,64")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    ap.add_argument("--out", default=str(paths.REPORTS / "perf" / "infer_throughput.json"))
    a = ap.parse_args(argv)
    threads = set_threads() if a.threads is None else (torch.set_num_threads(a.threads) or a.threads)
    names = ["smollm2-135m", "scratch"] if a.model == "both" else [a.model]
    bss = [int(b) for b in a.batch_sizes.split(",")]
    naive_n = a.naive_n or min(a.n, 4)
    out = {"load_avg_at_start": round(psutil.getloadavg()[0], 2), "machine": {"python": sys.version.split()[0], "torch": torch.__version__, "platform": platform.platform(),
                       "threads": threads, "device": "cuda" if torch.cuda.is_available() else "cpu",
                       "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
           "results": [bench(m, a.n, a.max_new_tokens, bss, naive_n) for m in names]}
    from pathlib import Path
    p = Path(a.out)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))
    load = psutil.getloadavg()[0]
    if load > threads + 0.5:
        print(f"note: load average {load:.1f} on {threads} threads; other processes shared the CPU", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
