"""Batched decoding: a plain loop over ``model(...)`` with a KV cache, left padding and length-sorted batches.

``generate(tok, model, prompts, max_new_tokens)`` returns one completion per prompt (in the input order),
each cut at the first EOS. Greedy by default; ``temperature > 0`` samples. Rows that hit EOS leave the batch
(the cache is pruned), so a batch costs as much as its longest completion only for the rows still running.

Constrained decoding (``constrain="coords" | "grid"``) masks the logits so that only tokens made of the
format's characters (digits, spaces, newlines, '.', a little punctuation), tokens that are pieces of the
scene's names/symbols (``example_names``, one list per prompt) and EOS can be chosen.
"""
from __future__ import annotations

import string
from pathlib import Path
from typing import Callable, Sequence

import torch

from .world import RELATIONS

FORMAT_CHARS: dict[str, str] = {
    "coords": string.digits + " \n.,:;()[]=-|+",
    "grid": string.digits + " \n.,:;|=-#@",
}
"""Characters a constrained completion may use besides the scene's names and symbols."""
FORMAT_WORDS: dict[str, tuple[str, ...]] = {
    "coords": ("State",) + RELATIONS,   # multi-state headers; relation lines of the 'relations' style
    "grid": ("State",),
}
"""Words always allowed (as token pieces) in a constrained completion."""


def encode_prompt(tok, prompt: str) -> list[int]:
    """Prompt token ids exactly as training sees them (``train.encode_pair``: special tokens as the tokenizer adds them)."""
    return list(tok.encode(prompt, add_special_tokens=True))


def _device_of(model) -> torch.device:
    return next(model.parameters()).device


# --- constraints ------------------------------------------------------------------------------
_TOKEN_TABLES: dict[int, tuple[int, list[str], dict[str, list[int]]]] = {}


def _token_table(tok) -> tuple[list[str], dict[str, list[int]]]:
    """Decoded string of every token id, and stripped string -> ids (cached per tokenizer object)."""
    hit = _TOKEN_TABLES.get(id(tok))
    if hit is not None and hit[0] == len(tok):
        return hit[1], hit[2]
    strs = [tok.decode([i], skip_special_tokens=False) for i in range(len(tok))]
    by_stripped: dict[str, list[int]] = {}
    for i, s in enumerate(strs):
        by_stripped.setdefault(s.strip(), []).append(i)
    _TOKEN_TABLES[id(tok)] = (len(tok), strs, by_stripped)
    return strs, by_stripped


def allowed_mask(tok, fmt: str, names: Sequence[str], vocab_size: int | None = None) -> torch.Tensor:
    """Bool mask over the vocabulary: format characters only, pieces of ``names``, or EOS."""
    if fmt not in FORMAT_CHARS:
        raise ValueError(f"no constraint for format {fmt!r}; use one of {', '.join(FORMAT_CHARS)} or None")
    strs, by_stripped = _token_table(tok)
    chars = set(FORMAT_CHARS[fmt])
    mask = torch.zeros(vocab_size or len(strs), dtype=torch.bool)
    for i, s in enumerate(strs):
        if s and set(s) <= chars:
            mask[i] = True
    for name in list(names) + list(FORMAT_WORDS.get(fmt, ())):
        for a in range(len(name)):
            for b in range(a + 1, len(name) + 1):
                for i in by_stripped.get(name[a:b].strip() or "\0", ()):
                    if strs[i].strip() and i < len(mask):
                        mask[i] = True
    mask[tok.eos_token_id] = True
    return mask


# --- decoding ---------------------------------------------------------------------------------
@torch.inference_mode()
def _decode_batch(model, ids: list[list[int]], max_new_tokens: int, eos_id: int, pad_id: int,
                  masks: torch.Tensor | None, temperature: float, gen: torch.Generator | None) -> list[list[int]]:
    dev = _device_of(model)
    n, width = len(ids), max(map(len, ids))
    input_ids = torch.full((n, width), pad_id, dtype=torch.long)
    attn = torch.zeros((n, width), dtype=torch.long)
    for r, s in enumerate(ids):
        input_ids[r, width - len(s):] = torch.tensor(s, dtype=torch.long)
        attn[r, width - len(s):] = 1
    input_ids, attn = input_ids.to(dev), attn.to(dev)
    pos = (attn.cumsum(-1) - 1).clamp(min=0)
    out: list[list[int]] = [[] for _ in range(n)]
    rows = torch.arange(n, device=dev)  # original row of each live row
    masks = masks.to(dev) if masks is not None else None
    cache = None
    step_in, step_pos = input_ids, pos
    for _ in range(max_new_tokens):
        res = model(input_ids=step_in, attention_mask=attn, position_ids=step_pos, cache=cache,
                    use_cache=True, logits_to_keep=1)
        cache = res.cache  # transformers >= 5.2x names the KV cache `cache` (was `past_key_values`)
        logits = res.logits[:, -1, :].float()
        if masks is not None:
            logits = logits.masked_fill(~masks[rows, : logits.shape[-1]], float("-inf"))
        if temperature > 0:
            nxt = torch.multinomial(torch.softmax(logits / temperature, -1), 1, generator=gen).squeeze(-1)
        else:
            nxt = logits.argmax(-1)
        done = nxt == eos_id
        for r, t, d in zip(rows.tolist(), nxt.tolist(), done.tolist()):
            if not d:
                out[r].append(t)
        if bool(done.all()):
            break
        if bool(done.any()):  # drop finished rows from the batch and the cache
            keep = (~done).nonzero().squeeze(-1)
            cache.batch_select_indices(keep)
            rows, nxt, attn, step_pos = rows[keep], nxt[keep], attn[keep], step_pos[keep]
        attn = torch.cat([attn, attn.new_ones((attn.shape[0], 1))], dim=1)
        step_pos = step_pos[:, -1:] + 1
        step_in = nxt[:, None]
    return out


def generate(tok, model, prompts: Sequence[str], max_new_tokens: int, batch_size: int = 32,
             constrain: str | None = None, example_names: Sequence[Sequence[str]] | None = None,
             num_samples: int = 1, temperature: float = 0.0, seed: int = 0, progress: bool | None = None):
    """Completions for ``prompts`` (same order), each cut at the first EOS.

    ``num_samples > 1`` (needs ``temperature > 0``) returns a list of ``num_samples`` completions per prompt.
    ``constrain`` needs ``example_names``: one list of names/symbols per prompt.
    """
    from tqdm.auto import tqdm
    if num_samples > 1 and temperature <= 0:
        raise ValueError("num_samples > 1 needs temperature > 0 (greedy samples would all be equal)")
    if constrain is not None and (example_names is None or len(example_names) != len(prompts)):
        raise ValueError("constrain needs example_names: one list of names/symbols per prompt")
    prompts = [p for p in prompts for _ in range(num_samples)]
    if example_names is not None:
        example_names = [e for e in example_names for _ in range(num_samples)]
    eos = tok.eos_token_id
    pad = tok.pad_token_id if tok.pad_token_id is not None else eos
    enc = [encode_prompt(tok, p) for p in prompts]
    order = sorted(range(len(enc)), key=lambda i: -len(enc[i]))  # longest first: memory errors surface early
    vocab = model.get_output_embeddings().weight.shape[0]
    mask_cache: dict[tuple, torch.Tensor] = {}

    def mask_for(i: int) -> torch.Tensor:
        key = tuple(example_names[i])
        if key not in mask_cache:
            mask_cache[key] = allowed_mask(tok, constrain, key, vocab)
        return mask_cache[key]

    gen = None
    if temperature > 0:
        gen = torch.Generator(device=_device_of(model)).manual_seed(seed)
    results: list[list[int]] = [[] for _ in enc]
    bar = tqdm(total=len(enc), desc="generate", unit="ex", leave=False,
               disable=(len(enc) <= batch_size) if progress is None else not progress)
    was_training = model.training
    model.eval()
    try:
        for b in range(0, len(order), batch_size):
            idx = order[b:b + batch_size]
            masks = torch.stack([mask_for(i) for i in idx]) if constrain else None
            outs = _decode_batch(model, [enc[i] for i in idx], max_new_tokens, eos, pad, masks, temperature, gen)
            for i, o in zip(idx, outs):
                results[i] = o
            bar.update(len(idx))
    finally:
        bar.close()
        model.train(was_training)
    texts = [tok.decode(r, skip_special_tokens=True) for r in results]
    if num_samples > 1:
        return [texts[i:i + num_samples] for i in range(0, len(texts), num_samples)]
    return texts


def sample_and_verify(tok, model, prompts: Sequence[str], max_new_tokens: int, n: int,
                      verify: Callable[[int, str], bool], temperature: float = 0.8, **kw) -> tuple[list[str], list[int]]:
    """Greedy first; for prompts whose greedy output ``verify(i, text)`` rejects, draw ``n`` samples and keep
    the first accepted one (else keep the greedy output). Returns (texts, tries) where tries[i] is 0 for
    greedy-accepted, k for the k-th sample accepted, -1 when nothing passed."""
    texts = generate(tok, model, prompts, max_new_tokens, **kw)
    tries = [0 if verify(i, t) else -1 for i, t in enumerate(texts)]
    todo = [i for i, t in enumerate(tries) if t < 0]
    if todo and n > 0:
        names = kw.pop("example_names", None)
        sub_names = [names[i] for i in todo] if names is not None else None
        samples = generate(tok, model, [prompts[i] for i in todo], max_new_tokens, num_samples=max(n, 2),
                           temperature=temperature, example_names=sub_names, **kw)
        for i, cands in zip(todo, samples):
            for k, c in enumerate(cands[:n], start=1):
                if verify(i, c):
                    texts[i], tries[i] = c, k
                    break
    return texts, tries


def generate_from(model_dir: str | Path, prompts: Sequence[str], max_new_tokens: int, batch_size: int = 32, **kw):
    """``generate`` after ``models.load(model_dir)`` (the design doc's path-taking form)."""
    from . import models
    tok, model = models.load(str(model_dir))
    return generate(tok, model, prompts, max_new_tokens, batch_size=batch_size, **kw)
