"""A tiny word-level tokenizer for the from-scratch model, with just enough of the HF tokenizer interface.

Pieces: a word (letters), a single digit, a single punctuation mark, or a newline; each piece may carry
one leading space (" Alice" and "Alice" are different tokens), so decoding is plain concatenation and
``decode(encode(t)) == normalise(t)`` exactly. Words unseen in training fall back to single characters,
so a new name can still be copied letter by letter. Any other character becomes ``<unk>``.
"""
from __future__ import annotations

import json
import re
import string
from collections import Counter
from pathlib import Path
from typing import Iterable

import torch

SPECIALS = ("<pad>", "<eos>", "<unk>")
FILE = "word_tokenizer.json"
_PIECE = re.compile(r"( ?)(\n|\d|[A-Za-z]+|[^\sA-Za-z\d])")


def normalise(text: str) -> str:
    """Whitespace normal form: \\r\\n -> \\n, runs of spaces/tabs -> one space, no spaces before a newline or at the end."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[^\S\n]+", " ", text)
    text = re.sub(r" +\n", "\n", text)
    return text.rstrip(" ")


def pieces(text: str) -> list[str]:
    """Split normalised text into pieces (leading space kept on the piece)."""
    return [sp + p for sp, p in _PIECE.findall(normalise(text))]


class WordTokenizer:
    """Word-level tokenizer; ids 0, 1, 2 are <pad>, <eos>, <unk>."""

    pad_token, eos_token, unk_token = SPECIALS
    bos_token = None
    bos_token_id = None

    def __init__(self, vocab: list[str], padding_side: str = "left"):
        assert tuple(vocab[:3]) == SPECIALS, "vocab must start with <pad> <eos> <unk>"
        self.vocab = list(vocab)
        self.index = {t: i for i, t in enumerate(self.vocab)}
        self.padding_side = padding_side
        self.pad_token_id, self.eos_token_id, self.unk_token_id = 0, 1, 2
        self.name_or_path = "word-tokenizer"

    # --- building ---------------------------------------------------------------------------
    @classmethod
    def train(cls, texts: Iterable[str], min_freq: int = 1, max_vocab: int | None = None) -> "WordTokenizer":
        """Vocab = specials + every printable ASCII char (with and without a leading space) + training words."""
        base = [c for c in string.printable if c not in " \t\r\x0b\x0c"]
        base = base + [" " + c for c in base if c != "\n"]
        counts = Counter(p for t in texts for p in pieces(t))
        words = sorted((p for p, n in counts.items() if n >= min_freq and p not in base), key=lambda p: (-counts[p], p))
        if max_vocab is not None:
            words = words[: max(0, max_vocab - len(SPECIALS) - len(base))]
        return cls(list(SPECIALS) + base + words)

    # --- HF-like interface ----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.vocab)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def get_vocab(self) -> dict[str, int]:
        return dict(self.index)

    def _piece_ids(self, piece: str) -> list[int]:
        if piece in self.index:
            return [self.index[piece]]
        chars = [piece[0] + piece[1]] + list(piece[2:]) if piece.startswith(" ") and len(piece) > 1 else list(piece)
        return [self.index.get(c, self.unk_token_id) for c in chars]

    def encode(self, text: str, add_special_tokens: bool = False, **_) -> list[int]:
        """Token ids of ``text`` (no BOS; ``add_special_tokens`` is accepted and ignored, like a BOS-less HF tokenizer)."""
        return [i for p in pieces(text) for i in self._piece_ids(p)]

    def decode(self, ids, skip_special_tokens: bool = True, **_) -> str:
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        if isinstance(ids, int):
            ids = [ids]
        out = []
        for i in ids:
            if skip_special_tokens and i in (self.pad_token_id, self.eos_token_id):
                continue
            out.append(self.vocab[i] if 0 <= i < len(self.vocab) else self.unk_token)
        return "".join(out)

    def batch_decode(self, seqs, skip_special_tokens: bool = True, **_) -> list[str]:
        return [self.decode(s, skip_special_tokens) for s in seqs]

    def convert_ids_to_tokens(self, ids):
        return self.vocab[ids] if isinstance(ids, int) else [self.vocab[i] for i in ids]

    def convert_tokens_to_ids(self, toks):
        return self.index.get(toks, self.unk_token_id) if isinstance(toks, str) else [self.index.get(t, self.unk_token_id) for t in toks]

    def __call__(self, text, add_special_tokens: bool = False, padding=False, return_tensors=None,
                 truncation=False, max_length: int | None = None, **_) -> dict:
        """HF-style call: a str or list of str -> {"input_ids", "attention_mask"} (padded on ``padding_side``)."""
        single = isinstance(text, str)
        seqs = [self.encode(t) for t in ([text] if single else text)]
        if truncation and max_length:
            seqs = [s[:max_length] for s in seqs]
        masks = [[1] * len(s) for s in seqs]
        if padding or return_tensors == "pt":
            n = max(map(len, seqs), default=0)
            pad = lambda s, v: ([v] * (n - len(s)) + s) if self.padding_side == "left" else (s + [v] * (n - len(s)))
            seqs, masks = [pad(s, self.pad_token_id) for s in seqs], [pad(m, 0) for m in masks]
        if return_tensors == "pt":
            return {"input_ids": torch.tensor(seqs, dtype=torch.long), "attention_mask": torch.tensor(masks, dtype=torch.long)}
        if single:
            return {"input_ids": seqs[0], "attention_mask": masks[0]}
        return {"input_ids": seqs, "attention_mask": masks}

    # --- persistence ------------------------------------------------------------------------
    def save_pretrained(self, directory) -> None:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        (d / FILE).write_text(json.dumps({"type": "WordTokenizer", "vocab": self.vocab}, ensure_ascii=False))

    @classmethod
    def from_pretrained(cls, directory, **_) -> "WordTokenizer":
        data = json.loads((Path(directory) / FILE).read_text())
        tok = cls(data["vocab"])
        tok.name_or_path = str(directory)
        return tok

    @staticmethod
    def is_saved_in(directory) -> bool:
        return (Path(directory) / FILE).exists()

    def __repr__(self) -> str:
        return f"WordTokenizer(vocab_size={len(self)}, padding_side={self.padding_side!r})"
