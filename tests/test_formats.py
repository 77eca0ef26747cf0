"""Formats: writers, round trips, readers' validity rules, and a fuzz test (readers never raise)."""
from __future__ import annotations

import copy
import json
import random
import time

import pytest

from helpers import formats
from helpers.formats import FORMATS, Parsed, make_prompt, normalize_facts, read_target, write_target


def ex_qual() -> dict:
    """Single state, qualitative: Alice above the house, Rabbit right of the house."""
    return {
        "id": "t-0", "split": "test_iid", "width": 5, "height": 4, "mode": "qualitative", "template_set": "train",
        "objects": [{"name": "Alice", "symbol": "A", "props": {}},
                    {"name": "the house", "symbol": "H", "props": {"colour": "red"}},
                    {"name": "Rabbit", "symbol": "R", "props": {}}],
        "text": "Alice is above the red house. Rabbit is right of the house.",
        "facts": {"entities": [{"name": "Alice", "props": {}}, {"name": "the house", "props": {"colour": "red"}},
                               {"name": "Rabbit", "props": {}}],
                  "relations": [["Alice", "above", "the house"], ["Rabbit", "right", "the house"]],
                  "anchors": [], "actions": []},
        "states": [{"Alice": [2, 3], "the house": [2, 0], "Rabbit": [4, 0]}],
        "canonical": [{"Alice": [1, 3], "the house": [1, 1], "Rabbit": [3, 1]}],
        "queries": [
            {"a": "Alice", "b": "the house", "state": 0, "relation": "above", "x_determined": True,
             "y_determined": True, "status": "stated", "hops": 1},
            {"a": "Rabbit", "b": "the house", "state": 0, "relation": "right", "x_determined": True,
             "y_determined": True, "status": "stated", "hops": 1},
            {"a": "Alice", "b": "Rabbit", "state": 0, "relation": "upper-left", "x_determined": True,
             "y_determined": True, "status": "entailed", "hops": 2}],
    }


def ex_multi() -> dict:
    """Exact mode, 3 states (two actions), shared cells."""
    s0 = {"Bob": [0, 1], "the box": [1, 1], "Cat": [1, 1]}
    s1 = {"Bob": [0, 2], "the box": [1, 1], "Cat": [1, 1]}
    s2 = {"Bob": [0, 2], "the box": [1, 1], "Cat": [0, 2]}
    return {
        "id": "t-1", "split": "test_actions", "width": 4, "height": 3, "mode": "exact", "template_set": "train",
        "objects": [{"name": "Bob", "symbol": "B", "props": {}},
                    {"name": "the box", "symbol": "X", "props": {}},
                    {"name": "Cat", "symbol": "C", "props": {}}],
        "text": "The box is at 1 1. Bob is 1 left of the box. Cat is on the box. Bob moves up 1. Cat moves to Bob.",
        "facts": {"entities": [{"name": "Bob", "props": {}}, {"name": "the box", "props": {}},
                               {"name": "Cat", "props": {}}],
                  "anchors": [["the box", 1, 1]],
                  "relations": [["Bob", "left", "the box", -1, 0], ["Cat", "overlap", "the box", 0, 0]],
                  "actions": [["Bob", 0, 1], ["Cat", "to", "Bob"]]},
        "states": [s0, s1, s2],
        "canonical": copy.deepcopy([s0, s1, s2]),
        "queries": [
            {"a": "Bob", "b": "the box", "state": 0, "relation": "left", "x_determined": True,
             "y_determined": True, "status": "stated", "hops": 1},
            {"a": "Bob", "b": "the box", "state": 1, "relation": "upper-left", "x_determined": True,
             "y_determined": True, "status": "entailed", "hops": 2},
            {"a": "Cat", "b": "Bob", "state": 2, "relation": "overlap", "x_determined": True,
             "y_determined": True, "status": "entailed", "hops": 1}],
    }


EXAMPLES = [ex_qual, ex_multi]


def tup(states):
    return [{n: tuple(p) for n, p in s.items()} for s in states]


def test_prompt_short():
    assert make_prompt("Alice is above Bob.", "grid") == "Alice is above Bob.\nMap (grid):\n"
    assert make_prompt("t", "facts", "json") == "t\nMap (facts/json):\n"
    with pytest.raises(ValueError):
        make_prompt("t", "pixels")


def test_write_coords_and_grid():
    ex = ex_qual()
    assert write_target(ex, "coords") == "Alice 1 3\nthe house 1 1\nRabbit 3 1"
    assert write_target(ex, "coords", target="random") == "Alice 2 3\nthe house 2 0\nRabbit 4 0"
    assert write_target(ex, "grid") == ".A...\n.....\n.H.R.\n....."
    rel = write_target(ex, "coords", style="relations").splitlines()
    assert rel[:3] == ["Alice | above | the house", "Alice | upper-left | Rabbit", "the house | left | Rabbit"]
    assert rel[3:] == ["Alice 1 3", "the house 1 1", "Rabbit 3 1"]


def test_write_coords_stated_relations_first():
    """The 'stated' style writes the text's relations (in its order), then the map; with states, inside State1."""
    assert write_target(ex_qual(), "coords", style="stated").splitlines() == [
        "Alice | above | the house", "Rabbit | right | the house", "Alice 1 3", "the house 1 1", "Rabbit 3 1"]
    multi = write_target(ex_multi(), "coords", style="stated").splitlines()
    assert multi[:3] == ["State1:", "Bob | left | the box", "Cat | overlap | the box"]
    assert multi.count("State2:") == 1 and "|" not in "".join(multi[multi.index("State2:"):])


def test_write_coords_stated_then_pairs_then_map():
    """'stated-pairs': the text's relations as stated, then every pair in object order (a stated pair copied, the
    other inverted), then the map; ``relation_lines`` reads all the lines back with their names resolved."""
    lines = write_target(ex_qual(), "coords", style="stated-pairs").splitlines()
    assert lines == ["Alice | above | the house", "Rabbit | right | the house", "Alice | above | the house",
                     "Alice | upper-left | Rabbit", "the house | left | Rabbit", "Alice 1 3", "the house 1 1",
                     "Rabbit 3 1"]
    assert formats.relation_lines("\n".join(lines[:2] + ["house | nowhere | Bob"]), ex_qual()) == [
        ("Alice", "above", "the house"), ("Rabbit", "right", "the house"), ("the house", None, None)]


def test_write_multi_state_grid_with_shared_cells():
    g = write_target(ex_multi(), "grid")
    assert g == ("State1:\n....\nBX..\n....\nC@X\n"
                 "State2:\nB...\n.X..\n....\nC@X\n"
                 "State3:\nB...\n.X..\n....\nC@B")


def test_write_facts_compact():
    assert write_target(ex_qual(), "facts") == (
        "- Alice\n- the house | colour=red\n- Rabbit\nAlice | above | the house\nRabbit | right | the house")
    assert write_target(ex_multi(), "facts") == (
        "- Bob\n- the box\n- Cat\n@ the box 1 1\nBob | left | the box | -1 0\n"
        "Cat | overlap | the box | 0 0\nmove Bob 0 1\nmove Cat to Bob")
    js = json.loads(write_target(ex_multi(), "facts", style="json"))
    assert js["relations"][0] == {"subject": "Bob", "relation": "left", "object": "the box", "dx": -1, "dy": 0}
    assert js["actions"] == [{"object": "Bob", "dx": 0, "dy": 1}, {"object": "Cat", "to": "Bob"}]


@pytest.mark.parametrize("make", EXAMPLES)
@pytest.mark.parametrize("fmt,style", [("coords", "compact"), ("coords", "relations"), ("coords", "stated"),
                                       ("coords", "stated-pairs"), ("grid", "compact"), ("grid", "legend"),
                                       ("grid", "legend-up")])
@pytest.mark.parametrize("target", ["canonical", "random"])
def test_roundtrip_maps(make, fmt, style, target):
    ex = make()
    p = read_target(write_target(ex, fmt, target, style), fmt, ex, style)
    assert p.valid, p.reason
    assert p.states == tup(ex["canonical" if target == "canonical" else "states"])


@pytest.mark.parametrize("make", EXAMPLES)
@pytest.mark.parametrize("style", ["compact", "json"])
def test_roundtrip_facts(make, style, monkeypatch):
    ex = make()
    monkeypatch.setattr(formats, "_solve", lambda f, w, h, o: copy.deepcopy(ex["canonical"]))
    p = read_target(write_target(ex, "facts", style=style), "facts", ex, style)
    assert p.valid, p.reason
    assert p.facts == normalize_facts(ex["facts"])
    assert p.states == tup(ex["canonical"])


def test_facts_without_solver_or_inconsistent(monkeypatch):
    ex = ex_qual()
    txt = write_target(ex, "facts")
    assert read_target(txt, "facts", ex, solve=False) == Parsed(True, "not solved", [], normalize_facts(ex["facts"]))

    def missing(*a):
        raise ImportError("no solver")
    monkeypatch.setattr(formats, "_solve", missing)
    p = read_target(txt, "facts", ex)
    assert p.valid and p.states == [] and p.facts is not None
    monkeypatch.setattr(formats, "_solve", lambda *a: None)
    assert not read_target(txt, "facts", ex).valid

    def boom(*a):
        raise RuntimeError("bad")
    monkeypatch.setattr(formats, "_solve", boom)
    assert not read_target(txt, "facts", ex).valid
    monkeypatch.setattr(formats, "_solve", lambda *a: [{"Alice": (0, 0)}])
    assert "missing" in read_target(txt, "facts", ex).reason


def test_facts_names_case_insensitive_and_unknown():
    ex = ex_qual()
    p = read_target("alice | above | THE HOUSE", "facts", ex, solve=False)
    assert p.valid and p.facts["relations"] == [["Alice", "above", "the house"]]
    p = read_target("Zed | above | the house", "facts", ex, solve=False)
    assert not p.valid and "unknown" in p.reason and p.facts is not None
    assert not read_target("Alice | north | the house", "facts", ex, solve=False).valid
    assert not read_target("Alice | above", "facts", ex, solve=False).valid
    p = read_target("move Alice 0 1", "facts", ex, solve=False)  # one action = two states, example has one
    assert not p.valid and "states" in p.reason
    assert not read_target("State1:\nAlice | above | the house", "facts", ex, solve=False).valid
    assert not read_target("Alice | above | the house | 1", "facts", ex, solve=False).valid


def test_normalize_facts_aliases_and_errors():
    f = normalize_facts({"objects": ["A", {"name": "B", "colour": "red"}],
                         "relations": [["A", "left", "B", [-1, 0]], {"subject": "B", "relation": "right", "object": "A"}],
                         "anchors": [{"object": "A", "x": 0, "y": 2}],
                         "actions": [{"object": "A", "by": [0, 1]}, {"object": "B", "to": "A"}, ("A", 1.0, 2)]})
    assert f == {"entities": [{"name": "A", "props": {}}, {"name": "B", "props": {"colour": "red"}}],
                 "relations": [["A", "left", "B", -1, 0], ["B", "right", "A"]], "anchors": [["A", 0, 2]],
                 "actions": [["A", 0, 1], ["B", "to", "A"], ["A", 1, 2]]}
    for bad in [[], {"relations": [["A", "up", "B"]]}, {"relations": [["A", "left"]]}, {"anchors": [["A", 1.5, 0]]},
                {"actions": [{"object": "A"}]}, {"entities": [{"name": ""}]}, {"relations": "x"},
                {"anchors": [["A", True, 0]]}, {"actions": [["A", float("nan"), 0]]}]:
        with pytest.raises(ValueError):
            normalize_facts(bad)


def test_coords_reader_rules():
    ex = ex_qual()
    ok = "alice 1 3\nTHE HOUSE 1 1\nRabbit 3 1\n"
    assert read_target(ok, "coords", ex).valid
    assert read_target("  Alice 1 3 \r\n\nthe house 1 1\nRabbit 3 1", "coords", ex).valid
    assert read_target("State1:\n" + ok, "coords", ex).valid
    for bad, why in [("Alice 1 3\nthe house 1 1", "missing"), (ok + "Alice 1 3", "duplicate"),
                     (ok.replace("3 1", "5 1"), "bounds"), (ok.replace("1 3", "-1 3"), "bounds"),
                     (ok + "Zed 1 1", "unknown"), ("Alice 1\nthe house 1 1\nRabbit 3 1", "unreadable"),
                     ("State1:\n" + ok + "State2:\n" + ok, "states"), ("State2:\n" + ok, "order"),
                     ("Alice 1 " + "9" * 5000 + "\nthe house 1 1\nRabbit 3 1", "")]:
        p = read_target(bad, "coords", ex)
        assert not p.valid and why in p.reason, (bad, p.reason)


def test_grid_reader_rules():
    ex = ex_qual()
    ok = ".A...\n.....\n.H.R.\n....."
    assert read_target(ok, "grid", ex).states == [{"Alice": (1, 3), "the house": (1, 1), "Rabbit": (3, 1)}]
    assert read_target(".A...\n.....\n.H...\n.....\nR@H", "grid", ex).states[0]["Rabbit"] == (1, 1)
    for bad, why in [(".A...\n.....\n.H.R.", "rows"), (".A....\n.....\n.H.R.\n.....", "cells"),
                     (".A...\n.....\n.H.RA\n.....", "more than once"), (".A...\n.....\n.H.Z.\n.....", "unknown"),
                     (".A...\n.....\n.H...\n.....", "missing"), (".A...\n.....\n.H...\n.....\nR@Q", "not in the grid"),
                     (".A...\n.....\n.H.R.\n.....\nR@H", "more than once"), (".a...\n.....\n.H.R.\n.....", "unknown")]:
        p = read_target(bad, "grid", ex)
        assert not p.valid and why in p.reason, (bad, p.reason)


def test_grid_legend_style():
    """Legend lines first (first state only), cells separated by spaces; the output's own legend binds symbols."""
    ex = ex_qual()
    assert write_target(ex, "grid", style="legend").splitlines() == [
        "A = Alice", "H = the house", "R = Rabbit", ". A . . .", ". . . . .", ". H . R .", ". . . . ."]
    multi = write_target(ex_multi(), "grid", style="legend").splitlines()
    assert multi[:4] == ["State1:", "B = Bob", "X = the box", "C = Cat"] and multi.count("B = Bob") == 1
    want = [{"Alice": (1, 3), "the house": (1, 1), "Rabbit": (3, 1)}]
    # symbols of the model's own choosing are read through its legend; no legend falls back to the example's
    assert read_target("Q = alice\nH = the house\nR = Rabbit\n. Q . . .\n. . . . .\n. H . R .\n. . . . .",
                       "grid", ex, "legend").states == want
    assert read_target(". A . . .\n. . . . .\n. H . R .\n. . . . .", "grid", ex, "legend").states == want
    for bad, why in [("A = Alice\nA = Rabbit\nH = the house\n. A . . .\n. . . . .\n. H . R .\n. . . . .", "repeats"),
                     ("A = Alice\nZ = the zebra\n. A . . .\n. . . . .\n. H . R .\n. . . . .", "unknown object"),
                     (". A . . .\n. . . . .\n. H . R . .\n. . . . .", "cells"),
                     (".A...\n.....\n.H.R.\n.....", "cells"),  # the compact rows are not the legend style
                     (". AH . . .\n. . . . .\n. . . R .\n. . . . .", "unknown symbol")]:
        p = read_target(bad, "grid", ex, "legend")
        assert not p.valid and why in p.reason, (bad, p.reason)


def test_grid_legend_up_style_prints_the_bottom_row_first():
    """The legend style's lines in the other row order: y = 0 is the first grid line, read back as y = 0."""
    ex = ex_qual()
    down = write_target(ex, "grid", style="legend").splitlines()
    up = write_target(ex, "grid", style="legend-up").splitlines()
    assert up[:3] == down[:3] and up[3:] == down[3:][::-1] == [". . . . .", ". H . R .", ". . . . .", ". A . . ."]
    assert read_target("\n".join(up), "grid", ex, "legend-up").states == [{"Alice": (1, 3), "the house": (1, 1),
                                                                          "Rabbit": (3, 1)}]
    # the same lines read in the top-first style put Alice below the house
    assert read_target("\n".join(up), "grid", ex, "legend").states[0]["Alice"] == (1, 0)


@pytest.mark.parametrize("profile", ["smoke", "default"])
def test_the_rows_up_grid_run_changes_only_the_row_order(profile):
    from helpers import profiles
    g = profiles.plan("grid", profile)
    a, b = g["scaled"][0].to_dict(), g["rows_up"][0].to_dict()
    assert {k for k in a if a[k] != b[k]} == {"formulation", "style"} and (a["style"], b["style"]) == ("legend",
                                                                                                       "legend-up")


def test_names_ignore_a_leading_article_when_unambiguous():
    ex = {"objects": [{"name": n, "symbol": n[-1].upper(), "props": {}} for n in ("bedroom", "the Jack", "a swan", "the swan")],
          "width": 4, "height": 1, "states": [{}], "canonical": [{}]}
    text = "the bedroom 0 0\nJack 1 0\na swan 2 0\nthe swan 3 0"
    got = read_target(text, "coords", ex)
    assert got.valid and got.states[0] == {"bedroom": (0, 0), "the Jack": (1, 0), "a swan": (2, 0), "the swan": (3, 0)}
    p = read_target("bedroom 0 0\nthe Jack 1 0\nswan 2 0\nthe swan 3 0", "coords", ex)
    assert not p.valid and "unknown object 'swan'" in p.reason  # "swan" could be either swan


def test_reader_non_string_and_bad_args():
    assert not read_target(None, "grid", ex_qual()).valid  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        read_target("x", "nope", ex_qual())


def _mutations(rng: random.Random, valid: list[str]) -> str:
    alphabet = "ABCHRXbox .|@-0123456789\n:State{}[]\",é∑🙂\t\r"
    kind = rng.randrange(8)
    if kind == 0:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 80)))
    s = rng.choice(valid)
    lines = s.split("\n")
    if kind == 1:
        return s[: rng.randrange(len(s) + 1)]
    if kind == 2 and len(lines) > 1:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines)
    if kind == 3:
        lines.insert(rng.randrange(len(lines) + 1), "".join(rng.choice(alphabet) for _ in range(rng.randrange(12))))
        return "\n".join(lines)
    if kind == 4:
        i = rng.randrange(len(s) + 1)
        return s[:i] + rng.choice(alphabet) + s[i + 1:]
    if kind == 5:
        return s.replace(rng.choice("0123456789"), rng.choice(["-1", "99999999999", "1e9", "", "x"]))
    if kind == 6:
        return "\n".join(rng.sample(lines, len(lines))) + rng.choice(["", "\n", "\nState9:"])
    return rng.choice(["[" * 5000, "{" * 3000, "null", "[]", "{}", '{"states": 1}', '{"relations": [[1,2,3]]}',
                       '{"entities": [{"name": 1}]}', '{"actions": [{"object": "Bob", "dx": 1e400, "dy": 0}]}',
                       '{"relations": [["Bob", "left", "Cat", NaN, 0]]}', '{"anchors": [["Bob", 1e9, 1]]}',
                       "\x00" * 10, "\u202e" + s, s * 3])


def test_fuzz_readers_never_raise(monkeypatch):
    rng = random.Random(0)
    exs = [ex_qual(), ex_multi()]
    calls = {"n": 0}

    def fake_solver(f, w, h, o):  # fast stand-in that also misbehaves
        calls["n"] += 1
        r = calls["n"] % 4
        if r == 0:
            raise ValueError("solver says no")
        if r == 1:
            return None
        return [{"Alice": (0, 0)}] if r == 2 else [{"x": ("a", 1)}]
    monkeypatch.setattr(formats, "_solve", fake_solver)
    combos = [(f, s) for f in FORMATS for s in formats.STYLES[f]]
    valid_texts = {(id(ex), f, s): [write_target(ex, f, t, s) for t in ("canonical", "random")]
                   for ex in exs for f, s in combos}
    t0 = time.perf_counter()
    n = 0
    n_valid = 0
    for i in range(30000):
        ex = exs[i % 2]
        f, s = combos[i % len(combos)]
        text = _mutations(rng, valid_texts[(id(ex), f, s)])
        p = read_target(text, f, ex, s)
        assert isinstance(p, Parsed) and isinstance(p.valid, bool) and isinstance(p.reason, str)
        if p.valid and f != "facts":
            assert len(p.states) == len(ex["states"])
            for st in p.states:
                assert set(st) == {o["name"] for o in ex["objects"]}
                assert all(0 <= x < ex["width"] and 0 <= y < ex["height"] for x, y in st.values())
        n += 1
        n_valid += p.valid
        json.dumps(p.facts)  # facts are always JSON-serialisable
    assert n == 30000 and 0 < n_valid < n
    assert time.perf_counter() - t0 < 10


@pytest.mark.parametrize("cfg_kw", [
    {}, {"mode": "exact", "n_actions": 2, "props": 0.5, "n_objects": 4},
    {"structure": "chain", "n_objects": 5, "n_actions": 1}, {"axis_convention": "mixed", "width": 6, "height": 4}])
def test_roundtrip_generated_examples_with_real_solver(cfg_kw):
    """Every format round-trips on generated examples; facts go through the real solver to the canonical map."""
    from helpers.generate import DataConfig, make_example
    cfg = DataConfig(**cfg_kw)
    rng = random.Random(7)
    for i in range(15):
        ex = json.loads(json.dumps(make_example(cfg, rng, f"t-{i}", "test_iid")))  # as stored on disk
        for fmt in FORMATS:
            for style in formats.STYLES[fmt]:
                for target in ("canonical", "random"):
                    p = read_target(write_target(ex, fmt, target, style), fmt, ex, style)
                    assert p.valid, (fmt, style, p.reason)
                    if fmt == "facts":
                        assert p.facts == normalize_facts(ex["facts"])
                        if not ex.get("y_flipped"):  # targets are flipped maps; the solver is not
                            assert p.states == tup(ex["canonical"])
                    else:
                        assert p.states == tup(ex["canonical" if target == "canonical" else "states"])


def test_coords_bounds_apply_only_when_the_size_is_stated():
    from helpers.formats import read_target
    ex = {"objects": [{"name": "A", "symbol": "A", "props": {}}, {"name": "B", "symbol": "B", "props": {}}],
          "width": 2, "height": 2, "states": [{"A": [0, 0], "B": [1, 1]}], "canonical": [{"A": [0, 0], "B": [1, 1]}]}
    assert not read_target("A 0 0\nB 5 1", "coords", ex).valid
    got = read_target("A 0 0\nB 5 1", "coords", {**ex, "size_known": False})
    assert got.valid and got.states[0]["B"] == (5, 1)


def test_axes_style_writes_each_axis_and_reads_back_the_relation():
    from helpers import world
    for rel in world.RELATIONS:
        assert world.relation_of_axis_words(world.axis_words(rel)) == rel
    assert world.axis_words("lower-left") == "left down" and world.axis_words("above") == "same up"
    ex = {"facts": {"entities": [{"name": "Alice", "props": {}}, {"name": "the house", "props": {}}],
                    "relations": [["Alice", "lower-left", "the house"]], "anchors": [], "actions": []},
          "objects": [{"name": "Alice", "symbol": "A"}, {"name": "the house", "symbol": "H"}],
          "width": 10, "height": 10, "states": [{}]}
    text = formats.write_target(ex, "facts", style="axes")
    assert "Alice | left down | the house" in text.splitlines()
    got = formats.read_target(text, "facts", ex, style="axes")
    assert got.valid and got.facts["relations"] == [["Alice", "lower-left", "the house"]]
    bad = formats.read_target(text.replace("left down", "lower-left"), "facts", ex, style="axes")
    assert not bad.valid and "x word" in bad.reason
