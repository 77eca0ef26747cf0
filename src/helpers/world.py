"""The one definition of the world: coordinate convention, relation labels, layouts.

Convention (used by every format, metric and figure in this project):
  * a cell is ``(x, y)`` with integer ``0 <= x < width`` and ``0 <= y < height``;
  * **x grows to the right, y grows upward**, the origin ``(0, 0)`` is the bottom-left cell;
  * a grid is printed with the *top* row (largest y) first, so "above" is higher on the page.

Relations are the 9 StepGame labels, derived only from the signs of ``dx`` and ``dy``
where ``(dx, dy) = position(A) - position(B)`` is "the relation of A to B".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

RELATIONS: tuple[str, ...] = (
    "upper-left", "above", "upper-right",
    "left", "overlap", "right",
    "lower-left", "below", "lower-right",
)
"""The 9 relation labels, in the reading order of a 3x3 compass (used for confusion tables)."""

_BY_SIGNS: dict[tuple[int, int], str] = {
    (-1, 1): "upper-left", (0, 1): "above", (1, 1): "upper-right",
    (-1, 0): "left", (0, 0): "overlap", (1, 0): "right",
    (-1, -1): "lower-left", (0, -1): "below", (1, -1): "lower-right",
}
_SIGNS_BY_REL: dict[str, tuple[int, int]] = {v: k for k, v in _BY_SIGNS.items()}

Pos = tuple[int, int]


def sign(v: int | float) -> int:
    """-1, 0 or +1."""
    return int(v > 0) - int(v < 0)


def relation_from_signs(sx: int, sy: int) -> str:
    """Label for the per-axis signs of (A - B)."""
    return _BY_SIGNS[(sign(sx), sign(sy))]


def signs_of(rel: str) -> tuple[int, int]:
    """Per-axis signs (sx, sy) of a relation label; raises ValueError for an unknown label."""
    try:
        return _SIGNS_BY_REL[rel]
    except KeyError:
        raise ValueError(f"unknown relation {rel!r}; expected one of {', '.join(RELATIONS)}") from None


def relation(a: Pos, b: Pos) -> str:
    """Relation of the object at ``a`` to the object at ``b`` (e.g. 'above' when a is directly higher)."""
    return relation_from_signs(a[0] - b[0], a[1] - b[1])


def inverse(rel: str) -> str:
    """The relation of B to A given the relation of A to B."""
    sx, sy = signs_of(rel)
    return relation_from_signs(-sx, -sy)


AXIS_WORDS: tuple[tuple[str, str, str], tuple[str, str, str]] = (("left", "same", "right"), ("down", "same", "up"))
"""Per-axis words for the signs -1, 0, +1 of x and of y (the facts style ``axes`` writes a relation as two words)."""


def axis_words(rel: str) -> str:
    """A relation as its x word and y word, e.g. 'lower-left' -> 'left down', 'above' -> 'same up'."""
    sx, sy = signs_of(rel)
    return f"{AXIS_WORDS[0][sx + 1]} {AXIS_WORDS[1][sy + 1]}"


def relation_of_axis_words(words: str) -> str:
    """Inverse of :func:`axis_words`; raises ValueError for anything else."""
    parts = words.split()
    if len(parts) != 2 or parts[0] not in AXIS_WORDS[0] or parts[1] not in AXIS_WORDS[1]:
        raise ValueError(f"not an x word and a y word: {words[:40]!r}")
    return relation_from_signs(AXIS_WORDS[0].index(parts[0]) - 1, AXIS_WORDS[1].index(parts[1]) - 1)


@dataclass(frozen=True)
class Obj:
    """A named object; ``symbol`` is its single letter in the grid format."""
    name: str
    symbol: str
    props: Mapping[str, str] = field(default_factory=dict)


Layout = dict[str, Pos]
"""Object name -> (x, y) cell."""


def in_bounds(p: Pos, width: int, height: int) -> bool:
    return 0 <= p[0] < width and 0 <= p[1] < height


def render_grid(layout: Mapping[str, Pos], symbols: Mapping[str, str], width: int, height: int,
                empty: str = ".") -> list[str]:
    """Rows of the grid, top row (y = height-1) first. Where objects share a cell the first one wins."""
    rows = [[empty] * width for _ in range(height)]
    for name, (x, y) in layout.items():
        r = height - 1 - y
        if rows[r][x] == empty:
            rows[r][x] = symbols[name]
    return ["".join(r) for r in rows]


def cell_of_row_col(row: int, col: int, height: int) -> Pos:
    """(x, y) of the character at printed ``row`` (0 = top line) and column ``col``."""
    return col, height - 1 - row
