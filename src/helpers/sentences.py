"""Reading a story one sentence at a time (the facts style ``"sentences"``).

The model sees one sentence and writes the facts it states (compact facts lines); code splits the story into
sentences and concatenates the per-sentence facts, and the reference solver builds the map as for whole-story facts.
Stories of any length (more objects, longer chains, more actions) are then only more sentences of the kind trained.

* :func:`split` -- the sentences of a text (a sentence ends at ``.``, ``!`` or ``?`` before a capital letter);
* :func:`sentence_examples` -- training examples, one per sentence, each with the fact the sentence states;
* :func:`join` -- one story's facts text from the model's per-sentence outputs.
"""
from __future__ import annotations

import re
from typing import Sequence

from .formats import normalize_facts
from .names import name_pattern

_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def split(text: str) -> list[str]:
    """Sentences of ``text`` in order (stripped, empty ones dropped)."""
    return [s.strip() for s in _BOUNDARY.split(text.strip()) if s.strip()]


def _names_of(fact: tuple) -> list[str]:
    """The objects a ``(kind, row)`` fact names: an anchor or a move by an offset one, a relation or a move to another
    object two."""
    kind, row = fact
    return [row[0], row[2]] if kind == "relation" or (kind == "action" and row[1] == "to") else [row[0]]


def _mentions(fact: tuple, sentence: str) -> int | None:
    """Number of the fact's object names the sentence mentions, or None when it misses one."""
    names = _names_of(fact)
    return len(names) if all(name_pattern(n).search(sentence) for n in names) else None


def _stated_props(sentence: str, props: dict[str, str]) -> dict[str, str]:
    low = sentence.lower()
    return {k: v for k, v in props.items() if re.search(rf"\b{re.escape(v.lower())}\b", low)}


def sentence_examples(example: dict) -> list[dict]:
    """One example per sentence of ``example``: the sentence as text and, as facts, the fact it states (matched by
    the object names it mentions, in text order) with the entities that fact names, and the properties the sentence
    states. A sentence that names one object and states its properties is a property sentence (entity line only).
    Sentences matched to nothing are left out. Each keeps the story's objects, grid size and the state count of its
    own fact (2 states for an action)."""
    f = normalize_facts(example["facts"])
    props = {e["name"]: e["props"] for e in f["entities"]}
    facts = ([("anchor", a) for a in f["anchors"]] + [("relation", r) for r in f["relations"]]
             + [("action", a) for a in f["actions"]])
    used: set[int] = set()
    out = []
    for i, sent in enumerate(split(example["text"])):
        stated = {n: p for n in props if name_pattern(n).search(sent) and (p := _stated_props(sent, props[n]))}
        scored = [(m, -j) for j, fact in enumerate(facts) if j not in used and (m := _mentions(fact, sent))]
        best = -max(scored)[1] if scored else None
        if best is not None and len(_names_of(facts[best])) == 1 and facts[best][1][0] in stated:
            best = None  # "Felix is huge and green.": a property sentence, not the anchor or move of Felix
        if best is None and not stated:
            continue
        names = list(stated)
        kind, row = facts[best] if best is not None else ("", [])
        if best is not None:
            used.add(best)
            names = _names_of(facts[best]) + names
        sub = {"entities": [{"name": n, "props": stated.get(n, {})} for n in dict.fromkeys(names)],
               "relations": [row] if kind == "relation" else [], "anchors": [row] if kind == "anchor" else [],
               "actions": [row] if kind == "action" else []}
        n_states = 2 if kind == "action" else 1
        out.append({**{k: example[k] for k in ("width", "height", "objects", "mode") if k in example},
                    "id": f"{example['id']}-s{i}", "split": example.get("split", ""), "text": sent, "facts": sub,
                    "states": example["states"][:n_states], "canonical": example["canonical"][:n_states]})
    return out


def join(outputs: Sequence[str]) -> str:
    """A story's compact facts from per-sentence outputs: one entity line per object (first spelling,
    case-insensitive; the properties of all its lines merged), then every other line in sentence order."""
    ents: dict[str, tuple[str, dict[str, None]]] = {}
    rest: list[str] = []
    for out in outputs:
        for ln in (x.strip() for x in out.splitlines()):
            if not ln.startswith("- "):
                rest += [ln] if ln else []
                continue
            name, *parts = [p.strip() for p in ln[2:].split("|")]
            # property parts kept verbatim (first "key=" wins); a malformed one stays for the reader to reject
            parts_of = ents.setdefault(name.lower(), (name, {}))[1]
            for p in parts:
                if not any(q.split("=")[0] == p.split("=")[0] for q in parts_of):
                    parts_of[p] = None
    lines = [f"- {n}" + "".join(f" | {p}" for p in parts) for n, parts in ents.values()]
    return "\n".join(lines + rest)
