"""Generator: names, templates, configs, splits, determinism, atomic files, speed."""
from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections import Counter

import jsonschema
import pytest

from helpers import generate as G
from helpers import names as N
from helpers import templates as T
from helpers.world import relation


# ----------------------------------------------------------------------------------------------------- names
def test_name_pools():
    assert len(N.NAMES) >= 200 and len(set(N.NAMES)) == len(N.NAMES)
    assert not set(N.TRAIN_NAMES) & set(N.HELDOUT_NAMES)
    assert set(N.TRAIN_NAMES) | set(N.HELDOUT_NAMES) == set(N.NAMES)
    assert len(N.HELDOUT_NAMES) >= 26
    for n in N.NAMES:
        assert not re.search(r"\d|\.|-", n)
        for w in ("left", "right", "above", "below", "north", "south", "east", "west", "corner", "cell", "step"):
            assert w not in n.lower().split()
    for a in N.NAMES:  # no name occurs as whole words inside another
        pat = re.compile(rf"(?<![a-z]){re.escape(N.core(a).lower())}(?![a-z])")
        assert not [b for b in N.NAMES if b != a and pat.search(b.lower())], a


def test_wide_pool_made_up_names_and_letters():
    syn = N.SYNTHETIC_NAMES
    assert len(syn) == len(set(syn)) == 400 and not set(syn) & set(N.NAMES)
    cores = [N.core(n).lower() for n in N.POOLS["wide"]]
    assert len(cores) == len(set(cores))  # "the Tovarek" and "a tovarek" never both
    assert set(N.TRAIN_NAMES) < set(N.POOLS["wide"]) and not set(N.HELDOUT_NAMES) & set(N.POOLS["wide"])
    for n in syn:
        assert not re.search(r"\d|\.|-", n) and len(N.core(n)) >= 4
    rng = random.Random(0)
    scenes = [N.sample_names(rng, 3, "wide") for _ in range(400)]
    letters = [s for s in scenes if all(n in N.LETTERS for n in s)]
    assert 0.15 < len(letters) / len(scenes) < 0.35 and all(len(set(s)) == 3 for s in scenes)
    assert not [s for s in scenes if any(n in N.LETTERS for n in s) and s not in letters]  # never mixed
    # a one-letter name matches only in its own case: the article "a" is not the object "A"
    assert not N.name_pattern("A").search("If K is the center of a clock face.")
    assert N.name_pattern("A").search("A is at K's 9 o'clock.") and N.name_pattern("K").search("A is at K's 9")


def test_symbols():
    assert N.assign_symbols(["Alice", "the house", "the Hatter", "Alice2"[:5] + "x"]) == ["A", "H", "T", "L"]
    syms = N.assign_symbols(list(N.NAMES[:26]))
    assert len(set(syms)) == 26 and all(s.isupper() and len(s) == 1 for s in syms)
    with pytest.raises(ValueError):
        N.assign_symbols(list(N.NAMES[:27]))


# ------------------------------------------------------------------------------------------------- templates
def test_templates_count_disjoint_and_name_free():
    tr, ho, wide = T.all_strings("train"), T.all_strings("heldout"), T.all_strings("wide")
    assert len(tr) >= 40 and len(ho) >= 40
    assert not set(tr) & set(ho) and not set(wide) & set(ho) and set(tr) < set(wide)
    # the wide set carries the StepGame reader's patterns (literal meaning), none of the held-out wording
    assert "{A} is at the 3 o'clock position relative to {B}." in T.get("wide")["relation"]["right"]
    assert not [t for t in wide if re.search(r"\b(up|down) and to the\b|lies (higher|lower)|straight (up|down)", t)]
    for rel in ("above", "below", "left", "right", "upper-left", "upper-right", "lower-left", "lower-right"):
        for ts in T.TEMPLATE_SETS:
            assert T.get(ts)["relation"][rel] and T.get(ts)["exact"][rel] and T.get(ts)["move"][rel]
    for t in tr + ho + wide:  # no template literal contains a pool name (mention order would break)
        lit = re.sub(r"\{[a-zA-Z]+\}", "#", t)
        for n in N.NAMES + N.SYNTHETIC_NAMES + N.LETTERS:
            assert not N.name_pattern(n).search(lit), (t, n)
    for s in T.get("train")["distractor"] + T.get("heldout")["distractor"]:
        for w in ("left", "right", "above", "below", "north", "south", "up", "down", "corner"):
            assert w not in re.findall(r"[a-z]+", s.lower())
    with pytest.raises(ValueError):
        T.get("nope")


def test_numbers_round_trip():
    import random
    rng = random.Random(0)
    for n in range(0, 40):
        for style in ("words", "digits", "mixed"):
            assert T.parse_number(T.number_text(n, rng, style)) == n


# --------------------------------------------------------------------------------------------------- configs
@pytest.mark.parametrize("kw", [
    dict(n_objects=5, width=2, height=2), dict(n_objects=27, width=10, height=10), dict(n_objects=1),
    dict(n_objects=60, name_pool="heldout", width=10, height=10), dict(template_set="paraphrase"),
    dict(mode="fuzzy"), dict(structure="star"), dict(axis_convention="down"), dict(max_hops=0),
    dict(n_actions=-1), dict(props=2.0), dict(width=0),
])
def test_impossible_configs_raise_one_sentence(kw):
    with pytest.raises(ValueError) as e:
        G.DataConfig(**kw)
    msg = str(e.value)
    assert msg.count(". ") == 0 and len(msg) < 200


def test_make_dataset_validates_before_writing(tmp_path):
    cfg = G.DataConfig()
    for bad in [dict(splits={"tset_iid": 3}), dict(splits={"train": -1}),
                dict(splits={"train": 3}, overrides={"test_grid": {"width": 20}}),
                dict(splits={"train": 3}, overrides={"train": {"n_objects": 200}}),
                dict(splits={"train": 3}, overrides={"train": {"colour": 1}})]:
        with pytest.raises(ValueError):
            G.make_dataset("bad", cfg, bad["splits"], seed=0, out_dir=tmp_path, overrides=bad.get("overrides"))
    assert not (tmp_path / "bad").exists()
    with pytest.raises(ValueError):
        G.standard_splits(cfg, {"test_nonsense": 3})


# ------------------------------------------------------------------------------------------------ examples
def test_example_fields_and_queries():
    cfg = G.DataConfig(n_objects=4, structure="chain", n_actions=1, distractors=2, narrative=True, props=0.5)
    schema = G.SCHEMA
    for i in range(200):
        ex = G.make_example(cfg, G.example_rng(0, "t", i), f"t-{i}", "t")
        jsonschema.validate(json.loads(json.dumps(ex)), schema)
        names = [o["name"] for o in ex["objects"]]
        assert names == N.mention_order(ex["text"], names)
        assert [e["name"] for e in ex["facts"]["entities"]] == names
        assert len(ex["states"]) == 2 == len(ex["canonical"])
        assert len(ex["queries"]) == 2 * 4 * 3
        cells = [tuple(p) for p in ex["states"][0].values()]
        assert len(set(cells)) == len(cells)                      # distinct cells in the initial state
        assert len({o["symbol"] for o in ex["objects"]}) == 4
        assert ex["text"][0].isupper() and ex["text"].endswith(".")
        assert ex["y_flipped"] is False
        for q in ex["queries"]:
            assert q["relation"] == relation(tuple(ex["states"][q["state"]][q["a"]]),
                                             tuple(ex["states"][q["state"]][q["b"]]))


def test_mixed_axis_flips_half_the_targets():
    base, mixed = G.DataConfig(), G.DataConfig(axis_convention="mixed")
    flips = 0
    for i in range(400):
        a = G.make_example(base, G.example_rng(1, "m", i))
        b = G.make_example(mixed, G.example_rng(1, "m", i))
        assert a["text"] == b["text"] and a["queries"] == b["queries"]
        if b["y_flipped"]:
            flips += 1
            for key in ("states", "canonical"):
                assert b[key] == [{n: [x, 9 - y] for n, (x, y) in s.items()} for s in a[key]]
        else:
            assert a["states"] == b["states"]
    assert 150 < flips < 250


def test_structures_and_hops():
    hops = Counter()
    for i in range(300):
        ex = G.make_example(G.DataConfig(structure="chain", n_objects=6), G.example_rng(2, "c", i))
        assert len(ex["facts"]["relations"]) == 5
        hops.update(q["hops"] for q in ex["queries"] if q["x_determined"] or q["y_determined"])
        ex = G.make_example(G.DataConfig(structure="tree", n_objects=6, max_hops=1), G.example_rng(2, "t", i))
        assert len(ex["facts"]["relations"]) == 5 and max(q["hops"] for q in ex["queries"]) <= 2
    assert max(hops) == 5 and hops[1] > hops[2] > hops[4] > 0


def test_exact_mode_pins_one_layout():
    for i in range(200):
        ex = G.make_example(G.DataConfig(mode="exact", n_objects=4, structure="tree"), G.example_rng(3, "e", i))
        assert ex["canonical"] == ex["states"] and len(ex["facts"]["anchors"]) == 1
        assert all(q["x_determined"] and q["y_determined"] for q in ex["queries"])
        assert all(len(r) == 5 for r in ex["facts"]["relations"])


# --------------------------------------------------------------------------------------------------- datasets
def test_standard_splits_change_one_thing():
    base = G.DataConfig()
    sp = G.standard_splits(base)
    assert set(sp) == set(G.SPLITS)
    assert sp["train"] == sp["val"] == sp["test_iid"] == base
    assert sp["test_names"].name_pool == "heldout" and sp["test_templates"].template_set == "heldout"
    assert sp["test_objects"].n_objects == 5 and (sp["test_grid"].width, sp["test_grid"].height) == (20, 20)
    assert sp["test_hops"].structure == "chain" and sp["test_hops"].n_objects == 6
    assert sp["test_actions"].n_actions == 2
    assert G.standard_splits(G.DataConfig(axis_convention="mixed"))["test_iid"].axis_convention == "up"
    assert list(G.standard_splits(base, {"train": 1, "test_grid": 2})) == ["train", "test_grid"]


def test_make_dataset_is_deterministic_and_atomic(tmp_path):
    base = G.DataConfig(n_objects=3)
    specs = G.standard_splits(base)
    sizes = {s: 15 for s in specs}
    p1 = G.make_dataset("d", specs, sizes, seed=7, out_dir=tmp_path / "a")
    p2 = G.make_dataset("d", specs, sizes, seed=7, out_dir=tmp_path / "b")
    p3 = G.make_dataset("d", specs, sizes, seed=8, out_dir=tmp_path / "c")
    for f in sorted(p1.iterdir()):
        assert f.read_bytes() == (p2 / f.name).read_bytes(), f.name
    assert (p1 / "train.jsonl").read_bytes() != (p3 / "train.jsonl").read_bytes()
    assert not list(p1.glob("*.tmp"))
    card = G.read_card("d", root=tmp_path / "a")
    for s, info in card["files"].items():
        data = (p1 / info["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == info["sha256"] and info["count"] == 15 == data.count(b"\n")
    assert card["seed"] == 7 and card["configs"]["test_grid"]["width"] == 20
    schema = json.loads((p1 / "schema.json").read_text())
    data = {s: G.load_split("d", s, root=tmp_path / "a") for s in sizes}
    for s, exs in data.items():
        assert [e["id"] for e in exs] == [f"{s}-{i:06d}" for i in range(15)]
        for e in exs[:3]:
            jsonschema.validate(e, schema)
    assert all(len(e["states"]) == 3 for e in data["test_actions"])
    assert all(e["width"] == 20 for e in data["test_grid"])
    assert all(o["name"] in N.HELDOUT_NAMES for e in data["test_names"] for o in e["objects"])
    assert all(len(e["objects"]) == 5 for e in data["test_objects"])
    assert all(e["template_set"] == "heldout" for e in data["test_templates"])
    # example i does not depend on the split size; overrides apply per split
    p4 = G.make_dataset("d", base, {"train": 5, "val": 2}, seed=7, out_dir=tmp_path / "d",
                        overrides={"val": {"n_objects": 4}})
    assert G.load_split("d", "train", root=tmp_path / "d") == data["train"][:5]
    assert all(len(e["objects"]) == 4 for e in G.load_split("d", "val", root=tmp_path / "d"))
    assert p4.name == "d"


def test_interrupted_generation_leaves_no_complete_looking_file(tmp_path, monkeypatch):
    G.make_dataset("i", G.DataConfig(), {"train": 5}, seed=0, out_dir=tmp_path)
    calls = {"n": 0}
    real = G.make_example

    def boom(*a, **k):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt
        return real(*a, **k)
    monkeypatch.setattr(G, "make_example", boom)
    with pytest.raises(KeyboardInterrupt):
        G.make_dataset("i", G.DataConfig(), {"train": 10}, seed=1, out_dir=tmp_path)
    with pytest.raises(FileNotFoundError):
        G.read_card("i", root=tmp_path)                         # the card is gone: dataset marked incomplete
    assert len(G.load_split("i", "train", root=tmp_path)) == 5  # old complete file untouched, no partial file renamed


def test_load_split_missing_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="make_dataset"):
        G.load_split("nothing", "train", root=tmp_path)


def test_speed_100k_well_under_a_minute():
    cfg = G.DataConfig()
    n = 3000
    t = time.process_time()  # CPU seconds of this process: other jobs sharing the cores do not make it fail
    for ex in G.iter_split(cfg, "train", n, 0):
        json.dumps(ex, separators=(",", ":"))
    per = (time.process_time() - t) / n
    print(f"\n{per * 1e6:.0f} us/example -> 100k examples in {per * 1e5:.0f} s")
    assert per * 100_000 < 45
