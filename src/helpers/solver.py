"""Reference solver: what a scene's text entails, per axis, and a canonical map of it.

The text's facts (``relations``, ``anchors``, ``actions``; see ``generate``) become *difference constraints* on one
integer variable per object and state and axis:

* a qualitative relation gives ``<``, ``=`` or ``>`` per axis (``"above"`` = same x, larger y);
* an exact relation ``[a, rel, b, dx, dy]`` gives ``x_a - x_b = dx`` and ``y_a - y_b = dy`` (plus its signs);
* an anchor fixes an object against a zero node; an action makes a new variable for the moved object
  (``+dx, +dy`` from its old one, or equal to the object it runs to); unmoved objects keep their variable.

All-pairs shortest paths (Floyd-Warshall) give the tightest entailed bounds on every difference, so the sign of
``pos(a) - pos(b)`` on an axis is *entailed* when the bounds exclude the other signs. A negative cycle means the facts
contradict each other. Grid bounds are **not** used for entailment (only for the canonical layout).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from .world import Layout, relation_from_signs, signs_of

INF = float("inf")


@dataclass
class Solution:
    """Entailed per-axis bounds between every pair of (object, state) variables."""
    objects: list[str]
    n_states: int
    var: dict[tuple[str, int], int]
    dist: tuple[list[list[float]], list[list[float]]]   # per axis: dist[i][j] = max of (v_j - v_i)
    consistent: bool
    zero: int | None
    adj: list[set[int]] = field(default_factory=list)  # stated-relation graph over variables (for hops)
    stated_pairs: set[frozenset[int]] = field(default_factory=set)

    def bounds(self, a: str, b: str, state: int = 0, axis: int = 0) -> tuple[float, float]:
        """(lowest, highest) entailed value of ``pos(a) - pos(b)`` on ``axis`` (0 = x, 1 = y) in ``state``."""
        i, j = self.var[(a, state)], self.var[(b, state)]
        d = self.dist[axis]
        return -d[i][j], d[j][i]

    def axis_sign(self, a: str, b: str, state: int = 0, axis: int = 0) -> int | None:
        """-1 / 0 / +1 when the text entails the sign of ``pos(a) - pos(b)`` on ``axis``; None when it does not."""
        lo, hi = self.bounds(a, b, state, axis)
        if hi < 0:
            return -1
        if lo > 0:
            return 1
        if lo == 0 and hi == 0:
            return 0
        return None

    def entailed_signs(self, a: str, b: str, state: int = 0) -> tuple[int | None, int | None]:
        """Entailed (x sign, y sign) of a relative to b; None on an axis the text leaves open."""
        return self.axis_sign(a, b, state, 0), self.axis_sign(a, b, state, 1)

    def entailed_relation(self, a: str, b: str, state: int = 0) -> str | None:
        """The 9-label relation of a to b when the text entails both axes, else None (see ``entailed_signs``)."""
        sx, sy = self.entailed_signs(a, b, state)
        return None if sx is None or sy is None else relation_from_signs(sx, sy)

    def hops(self, a: str, b: str, state: int = 0) -> int | None:
        """Shortest path length between a and b (in ``state``) in the graph of stated facts; None if unconnected."""
        s, t = self.var[(a, state)], self.var[(b, state)]
        if s == t:
            return 0
        seen = {s: 0}
        q = deque([s])
        while q:
            u = q.popleft()
            for w in self.adj[u]:
                if w not in seen:
                    seen[w] = seen[u] + 1
                    if w == t:
                        return seen[w]
                    q.append(w)
        return None

    def stated(self, a: str, b: str, state: int = 0) -> bool:
        """True when one sentence states the relation between a and b as they are in ``state``."""
        return frozenset((self.var[(a, state)], self.var[(b, state)])) in self.stated_pairs


def _names(facts: Mapping[str, Any], objects: Sequence[str] | None) -> list[str]:
    if objects is not None:
        return [o if isinstance(o, str) else o["name"] for o in objects]
    return [e if isinstance(e, str) else e["name"] for e in facts.get("entities", [])]


def _build(facts: Mapping[str, Any], objects: Sequence[str] | None, width: int, height: int, bounded: bool):
    """Variables, per-axis constraint matrices (before closure), hops graph and stated pairs."""
    names = _names(facts, objects)
    if len(set(names)) != len(names):
        raise ValueError("duplicate object names")
    actions = list(facts.get("actions", []) or [])
    n_states = len(actions) + 1
    var: dict[tuple[str, int], int] = {}
    nv = 0
    for n in names:
        var[(n, 0)] = nv
        nv += 1
    moves = []  # (state t -> t+1, name, new var, kind, payload)
    for t, act in enumerate(actions):
        for n in names:
            var[(n, t + 1)] = var[(n, t)]
        name = act[0]
        if (name, t) not in var:
            raise ValueError(f"action on unknown object {name!r}")
        var[(name, t + 1)] = nv
        moves.append((t, name, nv, act))
        nv += 1
    anchors = list(facts.get("anchors", []) or [])
    zero = None
    if anchors or bounded:
        zero = nv
        nv += 1
    D = ([[INF] * nv for _ in range(nv)], [[INF] * nv for _ in range(nv)])
    for ax in (0, 1):
        for i in range(nv):
            D[ax][i][i] = 0

    def add(ax: int, i: int, j: int, w: float) -> None:  # v_j - v_i <= w
        if w < D[ax][i][j]:
            D[ax][i][j] = w

    def eq(ax: int, u: int, v: int, c: int) -> None:  # v_u - v_v = c
        add(ax, v, u, c)
        add(ax, u, v, -c)

    def sgn(ax: int, u: int, v: int, s: int) -> None:  # sign(v_u - v_v) = s
        if s < 0:
            add(ax, v, u, -1)
        elif s > 0:
            add(ax, u, v, -1)
        else:
            eq(ax, u, v, 0)

    adj: list[set[int]] = [set() for _ in range(nv)]
    stated: set[frozenset[int]] = set()

    def link(u: int, v: int, is_stated: bool) -> None:
        adj[u].add(v)
        adj[v].add(u)
        if is_stated:
            stated.add(frozenset((u, v)))

    for r in facts.get("relations", []) or []:
        a, rel, b = r[0], r[1], r[2]
        u, v = var[(a, 0)], var[(b, 0)]
        if u == v:
            raise ValueError("relation of an object to itself")
        sx, sy = signs_of(rel)
        sgn(0, u, v, sx)
        sgn(1, u, v, sy)
        if len(r) >= 5:
            eq(0, u, v, int(r[3]))
            eq(1, u, v, int(r[4]))
        link(u, v, True)
    for an in anchors:
        u = var[(an[0], 0)]
        eq(0, u, zero, int(an[1]))
        eq(1, u, zero, int(an[2]))
        link(u, zero, False)
    for t, name, new, act in moves:
        old = var[(name, t)]
        if len(act) >= 3 and act[1] == "to":
            other = var[(act[2], t + 1)]
            if other == new:
                raise ValueError("an object cannot run to itself")
            eq(0, new, other, 0)
            eq(1, new, other, 0)
            link(new, other, True)
        else:
            eq(0, new, old, int(act[1]))
            eq(1, new, old, int(act[2]))
            link(new, old, False)
    if bounded:
        for v in range(nv):
            if v != zero:
                add(0, zero, v, width - 1)
                add(0, v, zero, 0)
                add(1, zero, v, height - 1)
                add(1, v, zero, 0)
    return names, n_states, var, D, zero, adj, stated


def _closure(d: list[list[float]]) -> bool:
    """Floyd-Warshall in place; False when there is a negative cycle (contradiction)."""
    n = len(d)
    for k in range(n):
        dk = d[k]
        for i in range(n):
            di = d[i]
            dik = di[k]
            if dik == INF:
                continue
            for j in range(n):
                c = dik + dk[j]
                if c < di[j]:
                    di[j] = c
    return all(d[i][i] >= 0 for i in range(n))


def solve(facts: Mapping[str, Any], width: int = 10, height: int = 10, objects: Sequence[str] | None = None,
          bounded: bool = False) -> Solution:
    """Entailment for ``facts`` (objects default to ``facts['entities']``). ``bounded`` adds the grid bounds.
    Raises ValueError / KeyError on malformed facts; ``consistent`` is False when they contradict each other."""
    names, n_states, var, D, zero, adj, stated = _build(facts, objects, width, height, bounded)
    ok = _closure(D[0]) & _closure(D[1])
    return Solution(names, n_states, var, D, ok, zero, adj, stated)


def _add_incremental(d: list[list[float]], p: int, q: int, w: float) -> None:
    """Add v_q - v_p <= w to a closed matrix and keep it closed."""
    n = len(d)
    dq = d[q]
    for i in range(n):
        base = d[i][p] + w
        if base == INF:
            continue
        di = d[i]
        for j in range(n):
            c = base + dq[j]
            if c < di[j]:
                di[j] = c


def canonical_layout(facts: Mapping[str, Any], objects: Sequence[str] | None, width: int, height: int,
                     order_open: bool = True) -> list[Layout]:
    """A deterministic map per state that satisfies the facts and the grid: per axis the least (compact, from 0)
    solution after ordering every pair the text leaves open by first mention (earlier object: smaller x, larger y),
    when that order is possible, else the reverse. Equal where the text says same row/column; in exact mode
    (everything determined) it is the true layout. ``order_open=False``: the least solution itself (pairs the text
    leaves open may share a row, column or cell); adding a fact then only ever moves objects right or up.
    Raises ValueError when the facts are inconsistent."""
    sol = solve(facts, width, height, objects, bounded=True)
    if not sol.consistent:
        raise ValueError("the facts contradict each other or do not fit in the grid")
    names, var, z = sol.objects, sol.var, sol.zero
    for ax in ((0, 1) if order_open else ()):
        d = sol.dist[ax]
        for s in range(sol.n_states):
            for i in range(len(names)):
                u = var[(names[i], s)]
                for j in range(i + 1, len(names)):
                    v = var[(names[j], s)]
                    if u == v:
                        continue
                    lo, hi = -d[u][v], d[v][u]  # bounds on v_u - v_v
                    if hi < 0 or lo > 0 or (lo == 0 and hi == 0):
                        continue
                    want_less = ax == 0  # x: earlier object left; y: earlier object higher
                    if want_less and lo <= -1:
                        _add_incremental(d, v, u, -1)    # v_u - v_v <= -1
                    elif not want_less and hi >= 1:
                        _add_incremental(d, u, v, -1)    # v_v - v_u <= -1
                    elif lo <= -1:
                        _add_incremental(d, v, u, -1)
                    else:
                        _add_incremental(d, u, v, -1)
    dx, dy = sol.dist
    out: list[Layout] = []
    for s in range(sol.n_states):
        out.append({n: (int(-dx[var[(n, s)]][z]), int(-dy[var[(n, s)]][z])) for n in names})
    return out


def layout_from_facts(facts: Any, width: int, height: int, objects: Sequence[str] | None = None) -> list[Layout] | None:
    """Turn (possibly model-predicted) facts into a map per state with ``canonical_layout``; None when the facts are
    malformed, name unknown objects, contradict each other or do not fit in the grid. Never raises."""
    try:
        if not isinstance(facts, Mapping):
            return None
        return canonical_layout(facts, objects, width, height)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, OverflowError):
        return None


def holds(facts: Mapping[str, Any], states: Sequence[Mapping[str, Iterable[int]]]) -> bool:
    """True when a map (one layout per state) satisfies every stated fact (relations, anchors, actions)."""
    from .world import relation
    st = [{k: tuple(v) for k, v in s.items()} for s in states]
    for r in facts.get("relations", []) or []:
        a, b = st[0][r[0]], st[0][r[2]]
        if relation(a, b) != r[1]:
            return False
        if len(r) >= 5 and (a[0] - b[0], a[1] - b[1]) != (r[3], r[4]):
            return False
    for n, x, y in facts.get("anchors", []) or []:
        if st[0][n] != (x, y):
            return False
    actions = facts.get("actions", []) or []
    if len(st) != len(actions) + 1:
        return False
    for t, act in enumerate(actions):
        name = act[0]
        for n in st[t]:
            if n != name and st[t + 1][n] != st[t][n]:
                return False
        if act[1] == "to":
            if st[t + 1][name] != st[t + 1][act[2]]:
                return False
        elif (st[t + 1][name][0] - st[t][name][0], st[t + 1][name][1] - st[t][name][1]) != (act[1], act[2]):
            return False
    return True
