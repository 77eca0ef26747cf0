"""Every sentence template, as data, in one place: ``TEMPLATES[template_set][kind]``.

Template sets: ``"train"`` and ``"heldout"`` (disjoint phrasings, for the paraphrase split ``test_templates``), and
``"wide"``: the training phrasings widened towards the outside benchmarks' language (the StepGame reader's sentence
patterns: clock positions, "at a 45 degree angle", "parallel", "on top of", ...; more move verbs, both axis orders),
still disjoint from ``"heldout"`` (patterns with "up"/"down", the held-out wording, are left out).
Kinds (placeholders in braces):

* ``relation[rel]`` — qualitative, the full 9-label relation of ``{A}`` to ``{B}`` (StepGame semantics: "above" means
  same column, higher; "north-east of" means higher *and* further right).
* ``exact[rel]`` — offsets in cells: ``{nx}``/``{ny}`` are distances (number words or digits), ``{sx}``/``{sy}`` the
  plural "s" (empty for one).
* ``anchor[where]`` — fixes one object: ``top-left`` ... ``bottom-right`` corners, ``centre`` (odd grids only), ``coord``
  (``{x}``, ``{y}``).
* ``move[rel]`` — an action: ``{A}`` moves by (dx, dy) whose signs give ``rel``; ``to`` — ``{A}`` moves onto ``{B}``.
* ``props[which]`` — ``{colour}`` / ``{size}`` descriptions; ``distractor`` — no spatial information;
  ``opening`` — narrative frame sentences; ``connective`` — narrative prefixes such as "then, ".

Templates are written with a lower-case first letter; the generator capitalises the sentence start.
``compile_template`` inverts a template into a regular expression (used by ``baselines.rule_parser``).
"""
from __future__ import annotations

import random
import re
import string
from functools import lru_cache

from .names import COLOURS, SIZES

TEMPLATE_SETS = ("train", "heldout", "wide")
DIRECTIONS = ("above", "below", "left", "right", "upper-left", "upper-right", "lower-left", "lower-right")

# ----------------------------------------------------------------------------------------------- qualitative
_REL_TRAIN = {
    "above": ["{A} is above {B}.", "{A} is directly above {B}.", "{A} is north of {B}.", "above {B} is {A}."],
    "below": ["{A} is below {B}.", "{A} is directly below {B}.", "{A} is south of {B}.", "below {B} is {A}."],
    "left": ["{A} is to the left of {B}.", "{A} is directly to the left of {B}.", "{A} is west of {B}.",
             "to the left of {B} is {A}."],
    "right": ["{A} is to the right of {B}.", "{A} is directly to the right of {B}.", "{A} is east of {B}.",
              "to the right of {B} is {A}."],
    "upper-left": ["{A} is above and to the left of {B}.", "{A} is north-west of {B}.",
                   "{A} is diagonally above and to the left of {B}."],
    "upper-right": ["{A} is above and to the right of {B}.", "{A} is north-east of {B}.",
                    "{A} is diagonally above and to the right of {B}."],
    "lower-left": ["{A} is below and to the left of {B}.", "{A} is south-west of {B}.",
                   "{A} is diagonally below and to the left of {B}."],
    "lower-right": ["{A} is below and to the right of {B}.", "{A} is south-east of {B}.",
                    "{A} is diagonally below and to the right of {B}."],
    "overlap": ["{A} is in the same place as {B}."],
}
_REL_HELDOUT = {
    "above": ["{A} is straight up from {B}.", "{A} sits in the same column as {B}, higher up."],
    "below": ["{A} is straight down from {B}.", "{A} sits in the same column as {B}, lower down."],
    "left": ["{A} sits in the same row as {B}, further left.", "{A} is level with {B}, on its left side."],
    "right": ["{A} sits in the same row as {B}, further right.", "{A} is level with {B}, on its right side."],
    "upper-left": ["{A} is up and to the left of {B}.", "{A} lies higher than {B} and further left."],
    "upper-right": ["{A} is up and to the right of {B}.", "{A} lies higher than {B} and further right."],
    "lower-left": ["{A} is down and to the left of {B}.", "{A} lies lower than {B} and further left."],
    "lower-right": ["{A} is down and to the right of {B}.", "{A} lies lower than {B} and further right."],
    "overlap": ["{A} shares a cell with {B}."],
}


# --------------------------------------------------------------------------------------------------- exact
def _exact(xw: dict[int, str], yw: dict[int, str], pure: list[str], diag: list[str]) -> dict[str, list[str]]:
    """Build offset templates from per-axis phrases; ``{X}``/``{Y}`` in ``pure``/``diag`` stand for the phrases."""
    out: dict[str, list[str]] = {}
    for rel, (sx, sy) in {"above": (0, 1), "below": (0, -1), "left": (-1, 0), "right": (1, 0), "upper-left": (-1, 1),
                          "upper-right": (1, 1), "lower-left": (-1, -1), "lower-right": (1, -1)}.items():
        if sx and sy:
            out[rel] = [t.replace("{X}", xw[sx]).replace("{Y}", yw[sy]) for t in diag]
        else:
            ph = xw[sx] if sx else yw[sy]
            out[rel] = [t.replace("{P}", ph) for t in pure]
    return out


_EXACT_TRAIN = _exact({-1: "{nx} cell{sx} to the left", 1: "{nx} cell{sx} to the right"},
                      {1: "{ny} cell{sy} above", -1: "{ny} cell{sy} below"},
                      pure=["{A} is {P} of {B}.", "{A} stands {P} of {B}."],
                      diag=["{A} is {X} of and {Y} {B}.", "{A} is {Y} and {X} of {B}.", "{A} stands {X} of and {Y} {B}."])
for _r in ("above", "below"):  # "above"/"below" take no "of"
    _EXACT_TRAIN[_r] = [t.replace(" of {B}", " {B}") for t in _EXACT_TRAIN[_r]]
_EXACT_HELDOUT = _exact({-1: "{nx} square{sx} west", 1: "{nx} square{sx} east"},
                        {1: "{ny} square{sy} north", -1: "{ny} square{sy} south"},
                        pure=["{A} is located {P} of {B}.", "starting from {B}, {A} is {P}."],
                        diag=["{A} is located {X} and {Y} of {B}.", "starting from {B}, {A} is {Y} and {X}."])

# -------------------------------------------------------------------------------------------------- anchors
_ANCHOR_TRAIN = {
    "top-left": ["{A} is in the top-left corner."], "top-right": ["{A} is in the top-right corner."],
    "bottom-left": ["{A} is in the bottom-left corner."], "bottom-right": ["{A} is in the bottom-right corner."],
    "centre": ["{A} is at the centre.", "{A} is in the middle of the grid."],
    "coord": ["{A} is at ({x}, {y}).", "{A} is at x = {x}, y = {y}."],
}
_ANCHOR_HELDOUT = {
    "top-left": ["{A} occupies the upper-left corner of the map."],
    "top-right": ["{A} occupies the upper-right corner of the map."],
    "bottom-left": ["{A} occupies the lower-left corner of the map."],
    "bottom-right": ["{A} occupies the lower-right corner of the map."],
    "centre": ["{A} sits at the very centre of the map."],
    "coord": ["{A} can be found at position ({x}, {y}).", "{A} has coordinates x={x} and y={y}."],
}


# -------------------------------------------------------------------------------------------------- actions
def _moves(verbs: list[tuple[str, str]], xw: dict[int, str], yw: dict[int, str],
           y_first: int = 1) -> dict[str, list[str]]:
    """Move templates: every verb with the x phrase first; the first ``y_first`` verbs also with the y phrase first."""
    out: dict[str, list[str]] = {}
    for rel, (sx, sy) in {"above": (0, 1), "below": (0, -1), "left": (-1, 0), "right": (1, 0), "upper-left": (-1, 1),
                          "upper-right": (1, 1), "lower-left": (-1, -1), "lower-right": (1, -1)}.items():
        ts = []
        for verb, unit in verbs:
            px = f"{{nx}} {unit}{{sx}} {xw[sx]}" if sx else ""
            py = f"{{ny}} {unit}{{sy}} {yw[sy]}" if sy else ""
            ts.append(f"{{A}} {verb} " + " and ".join(p for p in (px, py) if p) + ".")
        for verb, unit in verbs[:y_first] if sx and sy else ():  # the y-first order
            ts.append(f"{{A}} {verb} {{ny}} {unit}{{sy}} {yw[sy]} and {{nx}} {unit}{{sx}} {xw[sx]}.")
        out[rel] = ts
    return out


_MOVE_TRAIN = _moves([("walks", "step"), ("moves", "cell")], {-1: "left", 1: "right"}, {1: "up", -1: "down"})
_MOVE_HELDOUT = _moves([("hops", "square"), ("strolls", "pace")], {-1: "west", 1: "east"}, {1: "north", -1: "south"})
_TO_TRAIN = ["{A} runs to {B}.", "{A} walks over to {B}."]
_TO_HELDOUT = ["{A} hurries across to {B}.", "{A} goes and joins {B}."]

# -------------------------------------------------------------------------------------- props, distractors
_PROPS_TRAIN = {"colour": ["{A} is {colour}."], "size": ["{A} is {size}."], "both": ["{A} is {size} and {colour}."]}
_PROPS_HELDOUT = {"colour": ["{A} looks {colour}."], "size": ["{A} looks {size}."],
                  "both": ["{A} looks {size} and {colour}."]}
_DISTRACT_TRAIN = ["{A} was feeling rather sleepy.", "it was a very hot day.", "{A} had a cup of tea.",
                   "nobody said a word for a while.", "{A} was humming a little song.",
                   "the sky was a pale shade of blue.", "{A} looked rather puzzled.", "a gentle breeze was blowing.",
                   "{A} was thinking about dinner.", "everything was quiet.", "{A} sneezed twice.",
                   "somewhere a bird was singing."]
_DISTRACT_HELDOUT = ["{A} yawned loudly.", "the afternoon dragged on.", "{A} wondered what time it was.",
                     "clouds drifted lazily past.", "{A} seemed very cross.", "it began to drizzle.",
                     "{A} was counting the minutes.", "a distant bell rang."]
_OPEN_TRAIN = ["{A} was sitting on the bank next to a sister, with nothing to do.",
               "once upon a time, things in a small square land were arranged just so.",
               "this is a story about a strange little map.", "it was a bright afternoon in Wonderland."]
_OPEN_HELDOUT = ["long ago, in a tidy little country, there was a curious arrangement.",
                 "{A} had just woken up from a very long nap.", "the story begins on a quiet morning."]
_CONN_TRAIN = ["then, ", "after a while, ", "soon, ", "meanwhile, "]
_CONN_HELDOUT = ["later on, ", "a moment later, ", "suddenly, "]



# ---------------------------------------------------------------------------------------------------- wide
def _benchmark_phrasings() -> dict[str, list[str]]:
    """The StepGame reader's sentence patterns (``stepgame.TEMPLATES``, literal meaning) as relation templates:
    ``{a}``/``{a2}`` -> ``{A}``, ``{b}``/``{b2}`` -> ``{B}``; a pair named first (``{x} and {y}``, ``{p} and {q}``)
    in both orders. Left out: patterns of two sentences, and those with "up"/"down" (held-out wording)."""
    from .stepgame import TEMPLATES as STEPGAME
    out: dict[str, list[str]] = {}
    for tpl, _, rel in STEPGAME:
        if ". " in tpl or re.search(r"\b(up|down)\b", tpl):
            continue
        t = tpl[:1].lower() + tpl[1:] if not tpl.startswith("{") else tpl
        t = t.replace("{a2}", "{A}").replace("{b2}", "{B}").replace("{a}", "{A}").replace("{b}", "{B}")
        for first, second in (("{A}", "{B}"), ("{B}", "{A}")):
            v = t.replace("{x}", first).replace("{y}", second).replace("{p}", first).replace("{q}", second)
            if v not in out.setdefault(rel, []):
                out[rel].append(v)
    return out


_REL_WIDE = {rel: ts + [t for t in _benchmark_phrasings().get(rel, []) if t not in ts] for rel, ts in _REL_TRAIN.items()}
_MOVE_WIDE = _moves([("walks", "step"), ("moves", "cell"), ("goes", "step"), ("travels", "cell")],
                    {-1: "left", 1: "right"}, {1: "up", -1: "down"}, y_first=4)
_TO_WIDE = _TO_TRAIN + ["{A} goes over to {B}.", "{A} moves onto {B}."]

TEMPLATES: dict[str, dict] = {
    "train": {"relation": _REL_TRAIN, "exact": _EXACT_TRAIN, "anchor": _ANCHOR_TRAIN, "move": _MOVE_TRAIN,
              "to": _TO_TRAIN, "props": _PROPS_TRAIN, "distractor": _DISTRACT_TRAIN, "opening": _OPEN_TRAIN,
              "connective": _CONN_TRAIN},
    "heldout": {"relation": _REL_HELDOUT, "exact": _EXACT_HELDOUT, "anchor": _ANCHOR_HELDOUT, "move": _MOVE_HELDOUT,
                "to": _TO_HELDOUT, "props": _PROPS_HELDOUT, "distractor": _DISTRACT_HELDOUT,
                "opening": _OPEN_HELDOUT, "connective": _CONN_HELDOUT},
    "wide": {"relation": _REL_WIDE, "exact": _EXACT_TRAIN, "anchor": _ANCHOR_TRAIN, "move": _MOVE_WIDE, "to": _TO_WIDE,
             "props": _PROPS_TRAIN, "distractor": _DISTRACT_TRAIN, "opening": _OPEN_TRAIN, "connective": _CONN_TRAIN},
}


def get(template_set: str) -> dict:
    """The templates of one set; ValueError for an unknown set."""
    try:
        return TEMPLATES[template_set]
    except KeyError:
        raise ValueError(f"unknown template set {template_set!r}; use one of {', '.join(TEMPLATE_SETS)}") from None


def all_strings(template_set: str) -> list[str]:
    """Every template string of a set (flattened), in a fixed order."""
    out: list[str] = []

    def walk(v):
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            for k in v:
                walk(v[k])
        else:
            for x in v:
                walk(x)
    walk(get(template_set))
    return out


# -------------------------------------------------------------------------------------------------- numbers
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty")
_WORD_VALUE = {w: i for i, w in enumerate(NUMBER_WORDS)}


def number_text(n: int, rng: random.Random, style: str = "mixed") -> str:
    """``n`` as a word ('three') or digits ('3'); style 'words' | 'digits' | 'mixed' (random per number)."""
    use_word = n < len(NUMBER_WORDS) and (style == "words" or (style == "mixed" and rng.random() < 0.5))
    return NUMBER_WORDS[n] if use_word else str(n)


def parse_number(s: str) -> int:
    """Inverse of ``number_text``."""
    s = s.strip().lower()
    return _WORD_VALUE[s] if s in _WORD_VALUE else int(s)


def cap_first(s: str) -> str:
    return s[:1].upper() + s[1:]


# ----------------------------------------------------------------------------------------- template -> regex
NAME_RE = r"[A-Za-z][A-Za-z' ]*?"
_NUM_RE = r"\d+|" + "|".join(NUMBER_WORDS)
_FIELD_RE = {
    "A": rf"(?P<A>{NAME_RE})", "B": rf"(?P<B>{NAME_RE})",
    "nx": rf"(?P<nx>{_NUM_RE})", "ny": rf"(?P<ny>{_NUM_RE})", "sx": "s?", "sy": "s?",
    "x": r"(?P<x>\d+)", "y": r"(?P<y>\d+)",
    "colour": "(?P<colour>" + "|".join(COLOURS) + ")", "size": "(?P<size>" + "|".join(SIZES) + ")",
}


@lru_cache(maxsize=None)
def compile_template(tpl: str) -> re.Pattern:
    """A regex that fully matches every rendering of ``tpl`` (first letter case-insensitive)."""
    parts = []
    for i, (lit, field, _, _) in enumerate(string.Formatter().parse(tpl)):
        if lit:
            if i == 0 and lit[0].isalpha():
                parts.append(f"[{lit[0].upper()}{lit[0].lower()}]" + re.escape(lit[1:]))
            else:
                parts.append(re.escape(lit))
        if field is not None:
            parts.append(_FIELD_RE[field])
    return re.compile("".join(parts))
