"""Keeping a map while reading (coords style "track"): reference maps per sentence, prompts, the reading loop."""
import pytest

from helpers import experiments, formats, generate, metrics, profiles, sentences, solver, tracking
from helpers.generate import DataConfig

CONFIGS = [{}, {"structure": "chain", "n_objects": 6}, {"n_actions": 2}, {"width": 20, "height": 20},
           {"mode": "exact", "props": 0.5, "n_actions": 2, "n_objects": 4}, {"template_set": "heldout"}]


def _stories(cfg_kw: dict, n: int = 30) -> list[dict]:
    return list(generate.iter_split(DataConfig(**{**profiles.SEED_DATA, **cfg_kw}), "test_iid", n, 5))


@pytest.mark.parametrize("cfg_kw", CONFIGS)
def test_final_reference_map_answers_every_query(cfg_kw):
    """The map after the last sentence is a valid map that gets every determined query right."""
    exs = _stories(cfg_kw)
    finals = [tracking.pairs(ex)[-1][1] for ex in exs]
    parsed = [formats.read_target(t, "coords", ex, style="track") for t, ex in zip(finals, exs)]
    assert all(p.valid for p in parsed), [p.reason for p in parsed if not p.valid][:3]
    s = metrics.score(exs, parsed)
    assert s["relation_acc"]["k"] == s["relation_acc"]["n"] > 0


@pytest.mark.parametrize("cfg_kw", CONFIGS[:3])
def test_each_step_only_pushes_right_or_up_and_keeps_the_facts_so_far(cfg_kw):
    """A new fact never moves a placed object left or down (state 1), and every step's map satisfies the facts of
    the sentences read so far."""
    for ex in _stories(cfg_kw, 20):
        steps = tracking.maps_after_each_sentence(ex)
        assert len(steps) == len(sentences.split(ex["text"]))
        prev: dict = {}
        for _, m in steps:
            if m == tracking.EMPTY_MAP:
                continue
            first = {}
            for line in m.splitlines():
                if line.startswith("State2"):
                    break
                if not line.startswith("State"):
                    name, x, y = line.rsplit(" ", 2)
                    first[name] = (int(x), int(y))
            assert all(first[n][0] >= p[0] and first[n][1] >= p[1] for n, p in prev.items()), (prev, first)
            prev = first
        final = formats.read_target(steps[-1][1], "coords", ex)
        assert solver.holds(ex["facts"], final.states)


def test_prompt_carries_the_map_so_far_and_the_sentence():
    ex = _stories({}, 1)[0]
    ps = tracking.pairs(ex, prefix="Text: ")
    first = sentences.split(ex["text"])[0]
    assert ps[0][0] == f"Text: Map so far:\n{tracking.EMPTY_MAP}\nNext: {first}\nMap (coords/track, 10x10):\n"
    assert ps[1][0].startswith(f"Text: Map so far:\n{ps[0][1]}\nNext: ")


def test_read_feeds_each_output_back_and_returns_the_last_map():
    """With a model that answers every step with its reference map, reading returns the reference final maps; each
    step is one call over the stories that still have a sentence."""
    exs = _stories({}, 6) + _stories({"structure": "chain", "n_objects": 6}, 4)
    ref = {p: t for ex in exs for p, t in tracking.pairs(ex)}
    calls = []

    def oracle(prompts, examples):
        calls.append(len(prompts))
        return [ref[p] for p in prompts]
    out = tracking.read(oracle, exs)
    assert out == [tracking.pairs(ex)[-1][1] for ex in exs]
    n_sent = [len(sentences.split(ex["text"])) for ex in exs]
    assert calls == [sum(n > t for n in n_sent) for t in range(max(n_sent))]


def test_garbage_output_is_fed_back_and_read_as_invalid():
    exs = _stories({}, 3)
    seen = []

    def junk(prompts, examples):
        seen.extend(prompts)
        return ["no map"] * len(prompts)
    out = tracking.read(junk, exs)
    assert out == ["no map"] * 3
    assert all("Map so far:\nno map\n" in p for p in seen[3:])  # step 2 on: the model's own output is the map
    assert not any(formats.read_target(o, "coords", ex, style="track").valid for o, ex in zip(out, exs))


def test_experiment_trains_on_one_pair_per_sentence():
    exp = profiles.plan("coords", "smoke")["track"][0]
    assert exp.style == "track" and experiments.sentence_reading(exp.style, exp.data) == "track"
    exs = _stories({}, 4)
    pairs = experiments._pairs(exs, exp)
    assert pairs == [p for ex in exs for p in tracking.pairs(ex, exp.prefix)]
    assert len(pairs) == sum(len(sentences.split(ex["text"])) for ex in exs)


def test_read_by_sentence_and_predict_use_the_tracking_loop():
    """The evaluation and the predict command share experiments.read_by_sentence; for "track" it is tracking.read."""
    exs = _stories({}, 3)
    ref = {p: t for ex in exs for p, t in tracking.pairs(ex)}
    oracle = lambda prompts, examples: [ref[p] for p in prompts]  # noqa: E731
    assert experiments.read_by_sentence(oracle, exs, "track", "coords", "track") == tracking.read(oracle, exs)


def test_step_kinds_and_teacher_forced_outcomes():
    assert tracking.step_kind(tracking.EMPTY_MAP, "A 0 0\nB 1 0") == "first"
    assert tracking.step_kind("A 0 0\nB 1 0", "A 0 0\nB 1 0\nC 2 0") == "place"
    assert tracking.step_kind("A 0 0\nB 1 0", "A 0 0\nB 2 0\nC 1 0") == "place+push"
    assert tracking.step_kind("A 0 0\nB 1 0", "A 0 0\nB 1 1") == "push"
    assert tracking.step_kind("A 0 0\nB 1 0", "A 0 0\nB 1 0") == "unchanged"
    assert tracking.step_kind("A 0 0\nB 1 0", "State1:\nA 0 0\nB 1 0\nState2:\nA 1 0\nB 1 0") == "action"
    exs = _stories({"n_actions": 1}, 8)
    ref = {p: t for ex in exs for p, t in tracking.pairs(ex)}
    rows = tracking.step_outcomes(lambda prompts, _: [ref[p] + "\n" for p in prompts], exs)
    assert len(rows) == len(ref) and all(r["right"] for r in rows)
    assert {"first", "action"} <= {r["kind"] for r in rows}
    rows = tracking.step_outcomes(lambda prompts, _: ["A 0 0"] * len(prompts), exs)
    assert not any(r["right"] for r in rows)
    from helpers import analysis
    table = analysis.tracking_steps({"test_iid": rows})
    assert table.index[-1] == "all" and table.loc["all", "test_iid"].endswith(f"n={len(rows)}")
    assert table.loc["all", "test_iid"].startswith("0.0%")


def test_moves_line_names_what_a_step_moves():
    assert tracking.moves_line(tracking.EMPTY_MAP, "A 0 0\nB 1 0") == "moves: none"
    assert tracking.moves_line("A 0 0\nB 1 0", "A 0 0\nB 2 0\nC 1 0") == "moves: B +1 +0"
    assert tracking.moves_line("A 0 0\nB 1 0", "A 0 1\nB 1 0") == "moves: A +0 +1"
    assert tracking.map_only("moves: B +1 +0\nA 0 0\nB 2 0\n") == "A 0 0\nB 2 0"


def test_track_moves_targets_and_reading_keep_the_same_maps():
    exs = _stories({}, 8) + _stories({"n_actions": 1}, 4)
    plain = [t for ex in exs for _, t in tracking.pairs(ex)]
    moves = tracking.pairs(exs[0], style="track-moves")
    assert all(t.startswith("moves: ") for _, t in moves) and "coords/track-moves" in moves[0][0]
    assert [tracking.map_only(t) for ex in exs for _, t in tracking.pairs(ex, style="track-moves")] == plain
    ref = {p: t for ex in exs for p, t in tracking.pairs(ex, style="track-moves")}
    out = tracking.read(lambda prompts, _: [ref[p] for p in prompts], exs, style="track-moves")
    assert out == [tracking.pairs(ex)[-1][1] for ex in exs]  # the moves lines are dropped before feeding back
    rows = tracking.step_outcomes(lambda prompts, _: [ref[p] for p in prompts], exs, style="track-moves")
    assert all(r["right"] and r["moves_right"] for r in rows)
    from helpers import analysis
    t = analysis.moves_agreement({"test_iid": rows})
    assert t.loc[0, "moves line right"].startswith("100.0%") and t.loc[0, "map right | moves wrong"] == "n/a"
    assert t.loc[0, "push steps: moves line says none"].startswith("0.0%")
    lazy = tracking.step_outcomes(lambda prompts, _: [f"{tracking.NO_MOVES}\n" + tracking.map_only(ref[p]) for p in prompts],
                                  exs, style="track-moves")
    pushes = [r for r in lazy if r["kind"] in ("push", "place+push")]
    assert pushes and analysis.moves_agreement({"test_iid": lazy}).loc[0, "push steps: moves line says none"] \
        .startswith(f"100.0% [") and all(r["right"] and not r["moves_right"] for r in pushes)


@pytest.mark.parametrize("style", tracking.CHANGE_STYLES)
@pytest.mark.parametrize("cfg_kw", CONFIGS)
def test_relative_styles_read_back_the_least_maps(style, cfg_kw):
    """Fed its own reference steps, a relative-frame model's final map (translated into the grid) is exactly the
    least map of the plain style, and every teacher-forced step counts as right."""
    exs = _stories(cfg_kw, 20)
    ref = {p: t for ex in exs for p, t in tracking.pairs(ex, style=style)}
    out = tracking.read(lambda prompts, _: [ref[p] for p in prompts], exs, style=style)
    least = [tracking.pairs(ex)[-1][1] for ex in exs]
    assert [tracking._positions(o) for o in out] == [tracking._positions(m) for m in least]
    rows = tracking.step_outcomes(lambda prompts, _: [ref[p] for p in prompts], exs, style=style)
    assert rows and all(r["right"] for r in rows)


def test_relative_frame_keeps_the_first_object_at_the_origin():
    for ex in _stories({"structure": "chain", "n_objects": 6}, 10):
        steps = [m for _, m in tracking.maps_after_each_sentence(ex, relative=True)]
        first = steps[0].splitlines()
        origin = next(n for n, x, y in (ln.rsplit(" ", 2) for ln in first) if (x, y) == ("0", "0"))
        assert all(f"{origin} 0 0" in m.splitlines() for m in steps)
    assert any("-" in m for ex in _stories({}, 10) for _, m in tracking.maps_after_each_sentence(ex, True))


def test_delta_lists_only_the_changes_and_merges_back():
    assert tracking.delta_text("A 0 0\nB 1 0", "A 0 0\nB 1 0") == tracking.NO_CHANGE
    assert tracking.delta_text("A 0 0\nB 1 0", "A 0 0\nB 2 0\nC 1 0") == "B 2 0\nC 1 0"
    assert tracking.apply_delta("A 0 0\nB 1 0", "B 2 0\nC 1 0") == "A 0 0\nB 2 0\nC 1 0"
    two = "State1:\nA 0 0\nB 1 0\nState2:\nA 0 3\nB 1 0"
    assert tracking.delta_text("A 0 0\nB 1 0", two) == "State2:\nA 0 3"
    assert tracking.apply_delta("A 0 0\nB 1 0", "State2:\nA 0 3") == two
    assert tracking.apply_delta("A 0 0", tracking.NO_CHANGE) == "A 0 0"
    assert tracking.apply_delta("A 0 0", "junk\nB -1 2") == "A 0 0\nB -1 2"  # unreadable lines are dropped
    assert tracking.to_grid("A 0 0\nB -1 2") == "A 1 0\nB 0 2" and tracking.to_grid("A 0 0") == "A 0 0"


def test_push_shapes_tell_translations_from_reorders():
    assert tracking.push_shape("A 0 0\nB 1 0", "A 1 0\nB 2 0\nC 0 0") == "translate"
    assert tracking.push_shape("A 0 0\nB 1 0", "A 0 0\nB 2 0\nC 1 0") == "reorder"
    rows = [{"id": "s", "step": 0, "kind": "first", "target": "A 0 0\nB 1 0", "right": True},
            {"id": "s", "step": 1, "kind": "place+push", "target": "A 1 0\nB 2 0\nC 0 0", "right": False},
            {"id": "s", "step": 2, "kind": "push", "target": "A 1 0\nB 3 0\nC 0 0", "right": True}]
    from helpers import analysis
    t = analysis.push_shapes({"test_iid": rows})
    assert t.loc["translate: right", "test_iid"].startswith("0.0%")
    assert t.loc["reorder: right", "test_iid"].startswith("100.0%")
    assert t.loc["translate: share of push steps", "test_iid"].startswith("50.0%")


def test_wrong_steps_lists_only_wrong_rows_of_the_kinds_asked():
    from helpers import analysis
    rows = [{"kind": "place", "right": False, "sentence": "s1", "target": "A 0 0\nB 1 0", "output": "A 0 0"},
            {"kind": "place", "right": True, "sentence": "s2", "target": "x", "output": "x"},
            {"kind": "push", "right": False, "sentence": "s3", "target": "y", "output": "z"}]
    t = analysis.wrong_steps(rows, ["place"])
    assert list(t["sentence"]) == ["s1"] and t.loc[0, "reference"] == "A 0 0; B 1 0"


def _changed(a, b) -> dict:
    """The config fields (one level into ``train``) in which two experiments differ, besides their names."""
    da, db = a.to_dict(), b.to_dict()
    out = {k: (da[k], db[k]) for k in da if k not in ("formulation", "train") and da[k] != db[k]}
    out.update({f"train.{k}": (da["train"].get(k), db["train"].get(k))
                for k in set(da["train"]) | set(db["train"]) if da["train"].get(k) != db["train"].get(k)})
    return out


@pytest.mark.parametrize("profile", ["smoke", "default"])
def test_each_tracking_ablation_changes_one_thing(profile):
    """04 compares each whole-map variant with its reference run: only the named budget or mixture may differ."""
    g = profiles.plan("coords", profile)
    track, three, two, wide = g["track"][0], g["track_3ep"][0], g["track_2x"][0], g["track_wide"][0]
    e = track.train["epochs"]
    assert _changed(track, three) == {"train.epochs": (e, max(e + 1, 3 * e // 2))}
    halved = {"train.epochs": (e, e // 2)} if e > 1 else {}
    assert _changed(track, two) == {"n_train": (track.n_train, 2 * track.n_train), **halved}
    assert set(_changed(three, wide)) == {"mix"} and wide.mix == profiles.WIDE_MIX
    more, k = g["track_layers"][0], three.train["lora_top_k_layers"]
    assert _changed(three, more) == {"train.lora_top_k_layers": (k, max(k + 1, 3 * k // 2))}
    long = g["track_long"][0]
    assert set(_changed(track, long)) == {"mix"} and long.mix == profiles.TRACK_LONG_MIX


def test_the_long_mixture_trains_one_object_longer_maps():
    longest = profiles.largest_story(profiles.SEED_DATA, profiles.TRACK_MIX)
    assert profiles.largest_story(profiles.SEED_DATA, profiles.TRACK_LONG_MIX) == longest + 1 == 5
    assert sum(w for w, _ in profiles.TRACK_LONG_MIX) == pytest.approx(1)


def test_map_size_counts_each_object_once():
    assert tracking.map_size(tracking.EMPTY_MAP) == 0
    assert tracking.map_size("a 0 0\nb 1 0") == 2
    assert tracking.map_size("moves: a +1 +0\nState1:\na 0 0\nb 1 0\nState2:\na 2 0\nb 1 0") == 2


def test_steps_by_map_size_splits_steps_by_objects_and_by_moving(tmp_path):
    from helpers import analysis, runs
    rows = [{"kind": "first", "target": "a 0 0\nb 1 0", "right": True},
            {"kind": "place", "target": "a 0 0\nb 1 0\nc 2 0", "right": False},
            {"kind": "push", "target": "a 0 0\nb 2 0\nc 1 0", "right": True},
            {"kind": "unchanged", "target": "a 0 0\nb 2 0\nc 1 0", "right": True}]
    df = analysis.steps_by_map_size({"test_iid": rows})
    assert list(df.index) == [(2, "places or copies"), (3, "moves placed objects"), (3, "places or copies")]
    assert df.loc[(3, "places or copies"), "test_iid"].startswith("50.0%")
    assert df.loc[(3, "moves placed objects"), "test_iid"].endswith("n=1")
    runs.write_json(tmp_path / "config.json", {"data": {"n_objects": 3}, "mix": [[0.5, {}], [0.5, {"n_objects": 5}]]})
    assert analysis.largest_trained_map(tmp_path) == 5
    runs.write_json(tmp_path / "config.json", {"data": {"n_objects": 3}, "mix": None})
    assert analysis.largest_trained_map(tmp_path) == 3


def test_length_findings_split_stored_steps_at_the_longest_training_map(tmp_path):
    from helpers import analysis, runs
    runs.write_json(tmp_path / "config.json", {"formulation": "t", "model": "m", "data": {"n_objects": 2}, "mix": None})
    assert analysis.length_findings(tmp_path) == ""  # no stored steps: nothing to say, and no model is loaded
    three = "a 0 0\nb 1 0\nc 2 0"
    runs.write_jsonl(tmp_path / "steps_test_objects.jsonl", [
        {"kind": "place", "target": "a 0 0\nb 1 0", "right": True},
        {"kind": "place", "target": three, "right": False},
        {"kind": "push", "target": three, "right": True}])
    runs.write_jsonl(tmp_path / "steps_test_hops.jsonl", [{"kind": "unchanged", "target": three, "right": True}])
    text = analysis.length_findings(tmp_path)
    assert "places or copies: 100.0% [20.7, 100.0], n=1 on maps of at most 2 objects, 50.0%" in text
    assert "moves placed objects: n/a on maps of at most 2 objects, 100.0%" in text
    runs.write_json(tmp_path / "config.json", {"formulation": "t", "model": "m", "data": {"n_objects": 2},
                                               "mix": None, "style": "track-changes"})
    assert analysis.length_findings(tmp_path) == ""  # its targets are changed lines, not maps
