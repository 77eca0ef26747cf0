"""Cross-experiment analysis for 05_analysis: findings written from the run artifacts, shared-axis figures."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from . import metrics, paths, plots, runs, views
from .formats import SENTENCE_STYLES, normalize_facts
from .profiles import largest_story


def _stat(d: Path, metric: str = "relation_acc", split: str = "test_iid") -> dict | None:
    s = runs.read_json(Path(d) / "results.json")["splits"].get(split, {}).get(metric)
    return s if isinstance(s, dict) and s.get("n") else None


def fmt(s: dict | None, n_in_parens: bool = False) -> str:
    """'61.2% [58.1, 64.3], n=1200' (or '... (n=1200)') from a stat record."""
    if not s:
        return "n/a"
    n = f" (n={s['n']})" if n_in_parens else f", n={s['n']}"
    return f"{100 * s['value']:.1f}% [{100 * s['ci_low']:.1f}, {100 * s['ci_high']:.1f}]{n}"


TRACKING_GROUPS: tuple[tuple[str, str, str], ...] = (
    ("track", "whole map each step", "04_track_splits"),
    ("track_moves", "the moves, then the whole map, each step", "04_track_moves_splits"),
    ("track_2x", "whole map each step, twice the stories for half the epochs", "04_track_2x_splits"),
    ("track_3ep", "whole map each step, 1.5 times the epochs", "04_track_3ep_splits"),
    ("track_wide", "whole map each step, 1.5 times the epochs, widened mixture", "04_track_wide_splits"),
    ("track_layers", "whole map each step, 1.5 times the epochs, LoRA on 1.5 times the layers",
     "04_track_layers_splits"),
    ("track_long", "whole map each step, longer training maps", "04_track_long_splits"),
    ("track_changes", "only the changed lines each step", "04_track_changes_splits"),
    ("track_delta", "only the changed lines, first object's frame", "04_track_changes_splits"))
"""The coords plan's groups that keep the map while reading (helpers.profiles): what each does, and its figure."""


def findings(run: dict[str, dict[str, list[Path]]]) -> str:
    """Markdown bullets, every number computed from the run folders, each pointing at its figure."""
    c = run["coords"]
    lo, hi = metrics.wilson(6, 10)
    out = [f"- **Ten queries measure almost nothing.** The seed's 6/10 has a 95% interval of "
           f"[{100 * lo:.0f}%, {100 * hi:.0f}%], which contains the 50% of guessing above vs below "
           f"(`figures/04_diag_a_sample_size.png`)."]
    rep = c["replication"][0]
    base = {views.label_of(d): d for d in c["baselines"]}
    out.append(f"- **Replication (coords, random targets, {views.label_of(rep)}).** Relation accuracy "
               f"{fmt(_stat(rep))}; the seed's 'is A above B' {fmt(_stat(rep, 'above_acc'))}. Baselines: " +
               "; ".join(f"{k} {fmt(_stat(d))}" for k, d in base.items()) + " (`figures/04_replication.png`).")
    r, cn = c["ambiguity"]
    out.append(f"- **Underdetermined targets.** Same model and data, random target {fmt(_stat(r))} vs canonical "
               f"target {fmt(_stat(cn))} (`figures/04_diag_b_ambiguity.png`, `04_diag_b_loss.png`).")
    if c.get("intermediate"):
        out.append(f"- **Relations first.** Writing every pairwise relation before the coordinates: "
                   f"{fmt(_stat(c['intermediate'][0]))} (`figures/04_intermediate.png`).")
    conv = c["convention"][0]
    conf = views.split_scores(conv)["confusion"]
    out.append(f"- **Mixed y convention.** Relation accuracy {fmt(_stat(conv))}; "
               f"{100 * metrics.flip_rate(conf):.0f}% of its errors are the exact opposite relation, against "
               f"{100 * metrics.flip_rate(views.split_scores(cn)['confusion']):.0f}% with one convention "
               f"(`figures/04_diag_c_convention.png`).")
    curve = sorted(c["curve"], key=lambda d: runs.read_json(d / "config.json")["n_train"])
    out.append("- **Data.** Relation accuracy by training examples: " + ", ".join(
        f"{runs.read_json(d / 'config.json')['n_train']}: {100 * _stat(d)['value']:.1f}%" for d in curve if _stat(d))
        + " (`figures/04_diag_d_learning_curve.png`).")
    g = run["grid"]["replication"][0]
    out.append(f"- **Grid shortcut.** The seed-style grid model writes valid grids {fmt(_stat(g, 'validity'))} but "
               f"places objects with relation accuracy {fmt(_stat(g))} (`figures/03_diag_e_shortcut.png`).")
    if run["grid"].get("scaled"):
        gs = run["grid"]["scaled"][0]
        out.append(f"- **Grid with a legend and one token per cell, scaled budget ({_budget_text(gs)}).** Valid grids "
                   f"{fmt(_stat(gs, 'validity'))}, relation accuracy {fmt(_stat(gs))} "
                   f"(`figures/03_confusion_fixed_vs_legend.png`).")
        for gu in run["grid"].get("rows_up", []):
            out.append(f"- **The same grid printed bottom row first ({_budget_text(gu)}).** Relation accuracy "
                       f"{fmt(_stat(gu))}; x {fmt(_stat(gu, 'x_acc'))} and y {fmt(_stat(gu, 'y_acc'))}, against x "
                       f"{fmt(_stat(gs, 'x_acc'))} and y {fmt(_stat(gs, 'y_acc'))} printed top row first "
                       f"(`figures/03_rows_up_heatmaps.png`).")
    p, pf = run["parse"]["replication"][0], run["parse"]["fixed"][0]
    out.append(f"- **Facts.** JSON facts triple F1 {fmt(_stat(p, 'triple_f1'))}; compact facts "
               f"{fmt(_stat(pf, 'triple_f1'))} (`figures/02_fixed_vs_seed.png`).")
    if run["parse"].get("scaled"):
        ps = run["parse"]["scaled"][0]
        out.append(f"- **Facts, scaled budget ({_budget_text(ps)}).** Triple F1 {fmt(_stat(ps, 'triple_f1'))}, "
                   f"exact match {fmt(_stat(ps, 'facts_exact_match'))}, relation accuracy of the solver's map "
                   f"{fmt(_stat(ps))} (`figures/02_scaled_loss.png`).")
        for pm in run["parse"]["scaled"][1:]:
            sp = runs.read_json(pm / "results.json")["splits"]
            style = runs.read_json(pm / "config.json")["style"]
            how = "one sentence at a time" if style in SENTENCE_STYLES else "whole story"
            out.append(f"- **Facts on the training mixture, {how} ({_budget_text(pm)}), every split.** Triple F1 / "
                       "relation accuracy of the solver's map: " + "; ".join(
                           f"{s}: {fmt(_stat(pm, 'triple_f1', s))} / {fmt(_stat(pm, split=s))}" for s in sp)
                       + " (`figures/02_scaled_mix_splits.png`, `figures/02_sentences_vs_story.png`).")
    f = c["fixed"][0]
    splits = runs.read_json(f / "results.json")["splits"]
    out.append(f"- **Fixed coordinates ({views.label_of(f)}).** " + "; ".join(
        f"{s}: {fmt(_stat(f, split=s))}" for s in splits) + " (`figures/04_fixed_splits.png`).")
    for sc in c.get("scaled", []):
        out.append(f"- **Scaled fix, {runs.read_json(sc / 'config.json')['formulation']} ({_budget_text(sc)}).** " +
                   "; ".join(f"{s}: {fmt(_stat(sc, split=s))}" for s in runs.read_json(sc / "results.json")["splits"])
                   + " (`figures/04_scaled_splits.png`).")
    for group, how, fig in TRACKING_GROUPS:
        for tr in c.get(group, []):
            out.append(f"- **Coordinates kept while reading, one sentence at a time, {how} ({_budget_text(tr)}).** "
                       + "; ".join(f"{s}: {fmt(_stat(tr, split=s))}"
                                   for s in runs.read_json(tr / "results.json")["splits"]) + f" (`figures/{fig}.png`).")
    for tr in tracking_runs(c):
        if (by_length := length_findings(tr)):
            out.append(by_length)
    return "\n".join(out)


def tracking_runs(coords_run: dict[str, list[Path]]) -> list[Path]:
    """The run folders of every tracking group (:data:`TRACKING_GROUPS`) of the coords plan, in that order."""
    return [d for group, _, _ in TRACKING_GROUPS for d in coords_run.get(group, [])]


def best_run(dirs: Sequence[Path], metric: str = "relation_acc", split: str = "test_iid") -> Path:
    """The run with the highest ``metric`` on ``split`` (the first on ties)."""
    scored = [(_stat(d, metric, split) or {}).get("value", -1.0) for d in dirs]
    return dirs[max(range(len(dirs)), key=lambda i: (scored[i], -i))]


def _budget_text(d: Path) -> str:
    """'3000 stories, 2 epochs, LoRA on the top 8 layers' from a run's config."""
    c = runs.read_json(Path(d) / "config.json")
    t = c["train"]
    k = t.get("lora_top_k_layers")
    return (f"{c['n_train']} stories, {t.get('epochs')} epochs, "
            + (f"LoRA on the top {k} layers" if k else "LoRA on every layer"))


def all_loss_curves(dirs: Sequence[Path], name: str) -> None:
    ft = [d for d in dirs if (Path(d) / "metrics.jsonl").exists()]
    if not ft:
        print("no fine-tuned runs")
        return
    n = len(ft)
    cols = min(4, n)
    fig, axes = plt.subplots(int(np.ceil(n / cols)), cols, figsize=(4.2 * cols, 3 * np.ceil(n / cols)),
                             squeeze=False, sharey=True)
    for ax, d in zip(axes.flat, ft):
        c = runs.read_json(Path(d) / "config.json")
        plots.loss_curves([d], [""], ax=ax)
        ax.set_title(f"{c['experiment']}/{c['formulation']}\n{c['model']}", fontsize=8)
        ax.get_legend().remove() if ax.get_legend() else None
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    plots.save(fig, name)
    plt.show()


def seed_vs_fixed(run: dict, name: str) -> None:
    dirs, labels = [], []
    for nb in ("parse", "grid", "coords"):
        for grp in ("replication", "fixed"):
            dirs.append(run[nb][grp][0])
            labels.append(f"{nb}: {'seed' if grp == 'replication' else 'fixed'}")
    views.compare(dirs, labels, name, title="relation accuracy on test_iid: seed formulation vs fixed")


def perf_records() -> list[dict]:
    """Speed-ups measured by benchmarks/*_throughput.py (each ratio measured within one run)."""
    out = []
    perf = paths.REPORTS / "perf"
    rec = {"experiment": "perf", "formulation": "engine", "split": "all", "ci_low": None, "ci_high": None}
    p = perf / "train_throughput.json"
    if p.exists():
        res = runs.read_json(p)
        c = res["comparisons"].get("interleaved_top4")
        if c:
            out.append({**rec, "model": res["args"]["model"], "metric": "train_speedup", "value": c["speedup_3_epochs"],
                        "n": c["n"], "run": "reports/perf/train_throughput.json"})
    p = perf / "infer_throughput.json"
    if p.exists():
        for r in runs.read_json(p)["results"]:
            best = max(r["rows"], key=lambda x: x["speedup"])
            out.append({**rec, "model": r["model"], "metric": "infer_speedup", "value": best["speedup"],
                        "n": best["n"], "run": "reports/perf/infer_throughput.json"})
    for p in sorted(perf.glob("train_accuracy_*.json")):
        res = runs.read_json(p)
        for pair, c in res.get("accuracy_check", {}).items():
            a = res["args"]
            label = (f"{a['model']}, {pair}, {a.get('task', 'synth')} task, {c['epochs']['engine']} epochs"
                     + (", bf16" if a.get("precision") == "bf16" else "")
                     + (f", LoRA r{a['lora_r']}" if a.get("lora_r", 16) != 16 else ""))
            for side in ("naive", "engine"):
                lo, hi = c[f"{side}_exact_match_ci"]
                out.append({**rec, "formulation": side, "model": label,
                            "metric": "final_exact_match", "value": c[f"{side}_exact_match"], "n": c["n_eval"],
                            "ci_low": lo, "ci_high": hi, "run": f"reports/perf/{p.name}"})
            sp = res.get("comparisons", {}).get(pair, {}).get("wall", {}).get(f"speedup_{c['epochs']['engine']}_epochs")
            if sp:
                out.append({**rec, "model": label, "metric": "accuracy_run_speedup", "value": sp, "n": c["n_eval"],
                            "run": f"reports/perf/{p.name}"})
            dif = accuracy_difference(c)
            if not dif["inconclusive"]:  # engine - naive final exact match, with the interval of the difference
                out.append({**rec, "model": label, "metric": "accuracy_difference", "value": dif["value"],
                            "n": dif["n"], "ci_low": dif["ci_low"], "ci_high": dif["ci_high"],
                            "run": f"reports/perf/{p.name}"})
    return out


def accuracy_difference(c: dict) -> dict:
    """Engine minus naive final exact match of one ``accuracy_check`` entry, with its 95% interval
    (:func:`helpers.metrics.diff_interval`), and whether a difference was detected (the interval excludes 0) or
    neither side learned the task (both under 5%)."""
    n = c["n_eval"]
    ke, kn = round(c["engine_exact_match"] * n), round(c["naive_exact_match"] * n)
    lo, hi = metrics.diff_interval(ke, n, kn, n)
    inconclusive = max(c["naive_exact_match"], c["engine_exact_match"]) < 0.05
    return {"value": (ke - kn) / n, "ci_low": lo, "ci_high": hi, "n": n, "inconclusive": inconclusive,
            "same": not inconclusive and lo <= 0 <= hi}


def accuracy_check_table():
    """Final accuracy of the naive baseline vs the engine trained on the same examples x epochs
    (``benchmarks/train_throughput.py --accuracy-eval``), with the speed-up of the same run."""
    import pandas as pd
    rows = []
    for p in sorted((paths.REPORTS / "perf").glob("train_accuracy_*.json")):
        res = runs.read_json(p)
        for pair, c in res.get("accuracy_check", {}).items():
            sp = res.get("comparisons", {}).get(pair, {})
            lr = c.get("lr", {})
            dif = accuracy_difference(c)
            rows.append({"pair": pair, "epochs": c["epochs"]["engine"], "n_eval": c["n_eval"],
                         "engine precision": res["args"].get("precision", "auto"),
                         "engine LoRA rank": res["args"].get("lora_r", 16),
                         "batch naive / engine": f"{res['args'].get('batch_size')} / "
                                                 f"{res['args'].get('engine_batch_size') or res['args'].get('batch_size')}",
                         "lr naive / engine": " / ".join(str(lr.get(side) or res["args"].get("lr") or "default")
                                                         for side in ("naive", "engine")),
                         "naive exact match": fmt({"value": c["naive_exact_match"], "ci_low": c["naive_exact_match_ci"][0],
                                                   "ci_high": c["naive_exact_match_ci"][1], "n": c["n_eval"]}),
                         "engine exact match": fmt({"value": c["engine_exact_match"], "ci_low": c["engine_exact_match_ci"][0],
                                                    "ci_high": c["engine_exact_match_ci"][1], "n": c["n_eval"]}),
                         "intervals overlap": c["intervals_overlap"],
                         "engine - naive [95% CI]": f"{100 * dif['value']:+.1f} [{100 * dif['ci_low']:+.1f}, "
                                                    f"{100 * dif['ci_high']:+.1f}]",
                         "verdict": ("inconclusive: neither model learned the task at this budget" if dif["inconclusive"]
                                     else "no difference detected" if dif["same"] else
                                     "engine lower" if dif["ci_high"] < 0 else "engine higher"),
                         "wall speed-up (same run)": round(sp.get("wall", {}).get(f"speedup_{c['epochs']['engine']}_epochs",
                                                                                  float("nan")), 2),
                         "file": f"reports/perf/{p.name}"})
    return pd.DataFrame(rows)


def lr_sweep_table(task: str = "sentences", epochs: int = 3):
    """The engine's validation loss per variant and learning rate, on one task and epoch count: the sweeps
    (``reports/perf/lr_sweep/*.json``, ``--skip-naive --accuracy-eval 0``) and the engine variants of the accuracy
    checks (``train_accuracy_*.json``), with the training wall time."""
    import pandas as pd
    perf = paths.REPORTS / "perf"
    rows = []
    for p in sorted(perf.glob("lr_sweep/*.json")) + sorted(perf.glob("train_accuracy_*.json")):
        res = runs.read_json(p)
        if res["args"].get("task") != task:
            continue
        for name, v in res["variants"].items():
            if name.startswith("engine") and "error" not in v and v.get("epochs") == epochs:
                rows.append({"variant": name, "precision": v.get("precision", "auto"), "LoRA rank": v.get("lora_r", 16),
                             "batch": v.get("batch_size", res["args"].get("batch_size")), "epochs": epochs,
                             "lr": v.get("lr") or res["args"].get("lr"),
                             "final_val_loss": round(v["final_val_loss"], 4), "wall_s": round(v["wall_s"], 1),
                             "file": str(p.relative_to(paths.REPORTS.parent))})
    return (pd.DataFrame(rows).sort_values(["variant", "precision", "LoRA rank", "batch", "lr"]).reset_index(drop=True) if rows
            else pd.DataFrame())


def extra_records(probe_dirs: Sequence[Path] = ()) -> list[dict]:
    """Summary records that do not come from experiment runs: throughput benchmarks and probes."""
    from . import probe
    return perf_records() + [r for d in probe_dirs for r in probe.records(Path(d))]


def perf_figure(name: str = "05_perf") -> "object":
    """Throughput of the naive baseline vs the engine, as measured by the benchmark scripts."""
    import pandas as pd
    recs = [r for r in perf_records() if r["metric"].endswith("speedup")]
    if not recs:
        print("no benchmark results in reports/perf (run `make bench`)")
        return None
    df = pd.DataFrame(recs)[["metric", "model", "value", "n"]]
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.barh([f"{r.metric} ({r.model})" for r in df.itertuples()], df.value)
    ax.axvline(1, color="k", lw=1)
    ax.set(xlabel="speed-up over the naive baseline (x)")
    plots.save(fig, name)
    plt.show()
    return df


# ------------------------------------------------------------------------ the first token (02_parse, section 7)
def first_token_tokens(tok, names: Sequence[str], prefix: str) -> "object":
    """How a name is tokenized where it starts the prompt (no prefix) and after ``prefix``: without a prefix a
    sentence-initial name is the sequence's first token(s), without its leading space, so its pieces differ from
    the same name anywhere else (and from the model's output line ``- Name``)."""
    import pandas as pd
    rows = []
    for n in names:
        start = tok.tokenize(f"{n} is above the house.")[:4]
        after = tok.tokenize(f"{prefix}{n} is above the house.")[:5]
        out = tok.tokenize(f"- {n}")
        rows.append({"name": n, "prompt start": " ".join(start), f"after {prefix!r}": " ".join(after),
                     "output line": " ".join(out)})
    return pd.DataFrame(rows)


def invented_names(dirs: Sequence[Path], labels: Sequence[str], splits: Sequence[str] = ("test_iid", "test_names")):
    """Per run and split: the share of stories whose facts name an object that is not in the story (an entity line
    matching none of its objects, article and first-letter case aside: a name copied wrongly or made up), with
    Wilson 95% intervals."""
    import pandas as pd
    from .names import core

    def key(n: str) -> str:
        return core(n.strip()).lower()
    rows = []
    for d, lab in zip(dirs, labels):
        for split in splits:
            k = n = 0
            for r in views.predictions(d, split):
                objs = {key(o["name"]) for o in r["objects"]}
                written = {key(ln[2:].split("|")[0]) for ln in r["raw"].splitlines() if ln.startswith("- ")}
                n += 1
                k += bool(written - objs)
            lo, hi = metrics.wilson(k, n)
            rows.append({"run": lab, "split": split, "stories with an invented name": k, "n": n,
                         "rate": round(k / n, 4) if n else None, "ci_low": round(lo, 4), "ci_high": round(hi, 4)})
    return pd.DataFrame(rows)


def split_findings(dirs: Sequence[Path], labels: Sequence[str]) -> str:
    """Markdown: per test split, the relation accuracy of each run in turn (from their results) and whether the last
    run meets the split's target (:mod:`helpers.targets`)."""
    from . import targets as T
    splits = list(runs.read_json(Path(dirs[-1]) / "results.json")["splits"])
    out = []
    for split in splits:
        stats = [_stat(d, split=split) for d in dirs]
        if not stats[-1]:
            continue
        chain = " -> ".join(f"{lab} {fmt(s)}" for lab, s in zip(labels, stats) if s)
        met = "met" if stats[-1]["value"] >= T.relation(split) else "missed"
        out.append(f"- `{split}`: {chain}; target {100 * T.relation(split):g}%: {met} by {labels[-1]}.")
    return "\n".join(out)


def phrasing(sentence: str, names: Sequence[str]) -> str:
    """A sentence with its object names replaced by ``X`` (names matched as :func:`helpers.names.name_pattern` does,
    longest first): the phrasing it uses."""
    from .names import name_pattern
    for n in sorted(names, key=len, reverse=True):
        sentence = name_pattern(n).sub("X", sentence)
    return sentence


def phrasing_accuracy(dirs: Sequence[Path], labels: Sequence[str], split: str = "test_templates"):
    """Per phrasing (a relation sentence with its names replaced by X) and run: the share (%) of its sentences whose
    stated relation is among the model's facts (either orientation) and their count (n). Worst first, by the first
    run."""
    import pandas as pd
    from . import sentences
    from .names import name_pattern
    rows = []
    for d, lab in zip(dirs, labels):
        for r in views.predictions(d, split):
            names = [o["name"] for o in r["objects"]]
            pred = metrics.relation_triples(r.get("facts_pred"))
            for rel in normalize_facts(r["facts_true"])["relations"]:
                sent = next((s for s in sentences.split(r["text"])
                             if name_pattern(rel[0]).search(s) and name_pattern(rel[2]).search(s)), None)
                if sent is not None:
                    rows.append({"run": lab, "phrasing": phrasing(sent, names),
                                 "ok": metrics.relation_triples({"relations": [rel[:3]]}) <= pred})
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    t = df.groupby(["phrasing", "run"], sort=False).ok.agg(["sum", "count"]).unstack("run")
    out = pd.DataFrame({col: v for lab in labels for col, v in (
        (f"{lab} %", (100 * t["sum"][lab] / t["count"][lab]).round(1)), (f"{lab} n", t["count"][lab]))})
    return out.sort_values(f"{labels[0]} %")


def intermediate_agreement(dirs: Sequence[Path], labels: Sequence[str], split: str = "test_iid"):
    """Where a coords run that writes relation lines before its map goes wrong (styles ``relations`` / ``stated``).
    Per run, the share of stories (Wilson 95% interval) whose relation lines are all right (each line's relation is
    the one its two objects have on the true map), whose map agrees with every one of its own lines, and whose every
    query is right, overall and among the stories with every line right. Reading the relations and combining them
    into coordinates are then told apart: a model can fail at either."""
    import pandas as pd
    from .formats import relation_lines
    from .world import relation

    def share(flags: list[bool]) -> str:
        k, n = sum(flags), len(flags)
        if not n:
            return ""
        lo, hi = metrics.wilson(k, n)
        return f"{100 * k / n:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}] ({k}/{n})"

    def holds(lay: dict, lines: list) -> bool:
        return bool(lines) and all(a in lay and b in lay and rel is not None and relation(tuple(lay[a]), tuple(lay[b]))
                                   == rel for a, rel, b in lines)
    rows = []
    for d, lab in zip(dirs, labels):
        recs = views.predictions(d, split)
        lines = [relation_lines(r["raw"], r) for r in recs]
        right = [holds(r["true"][0], ls) for r, ls in zip(recs, lines)]
        agrees = [bool(r["pred"]) and holds(r["pred"][0], ls) for r, ls in zip(recs, lines)]
        solved = [bool(r["queries"]) and all(q["correct"] for q in r["queries"]) for r in recs]
        rows.append({"run": lab, "relation lines all right": share(right),
                     "map agrees with its own lines": share(agrees), "every query right": share(solved),
                     "every query right, lines all right": share([s for s, ok in zip(solved, right) if ok])})
    return pd.DataFrame(rows).set_index("run")


def line_orientation(d: Path, split: str = "test_iid"):
    """A coords run's pairwise relation lines (every pair in object order: style ``relations``, or the lines after
    the stated ones in ``stated-pairs``) scored one by one, split by how the text states that pair: in the line's
    order (the relation can be copied), in the other order (it must be inverted: "B is below A" ->
    ``A | above | B``) or not at all (it must be derived). Share right with its Wilson 95% interval and count."""
    import pandas as pd
    from .formats import relation_lines
    from .world import relation
    style = runs.read_json(Path(d) / "config.json").get("style")
    seen: dict[str, list[bool]] = {"stated in the line's order": [], "stated in the other order": [],
                                   "not stated": []}
    for r in views.predictions(d, split):
        order = {}
        stated = normalize_facts(r["facts_true"])["relations"]
        for a, _, b, *_ in stated:
            order[(a, b)], order[(b, a)] = "stated in the line's order", "stated in the other order"
        true = r["true"][0]
        lines = relation_lines(r["raw"], r)
        if style == "stated-pairs":  # the pairwise lines: the last n(n-1)/2
            lines = lines[-(len(true) * (len(true) - 1) // 2):]
        for a, rel, b in lines:
            if a in true and b in true:
                seen[order.get((a, b), "not stated")].append(relation(tuple(true[a]), tuple(true[b])) == rel)
    rows = []
    for how, ok in seen.items():
        if ok:
            lo, hi = metrics.wilson(sum(ok), len(ok))
            rows.append({"pair in the text": how, "lines right %": round(100 * sum(ok) / len(ok), 1),
                         "ci_low": round(100 * lo, 1), "ci_high": round(100 * hi, 1), "n": len(ok)})
    return pd.DataFrame(rows)


def sample_and_verify(greedy: Path, verified: Path, split: str = "test_iid"):
    """A greedy run beside its sample-and-verify re-scoring (``Experiment.verify``): validity and relation accuracy
    of each, and how each story's output was chosen (``verify.json``: greedy accepted, a sample accepted, none)."""
    import pandas as pd
    rows = [{"decoding": how, "run": views.label_of(d),
             **{m: fmt(_stat(d, m, split)) for m in ("validity", "relation_acc")}}
            for d, how in ((greedy, "greedy"), (verified, "sample-and-verify"))]
    ids = {r["id"] for r in views.predictions(verified, split)}
    tries = [t for i, t in runs.read_json(Path(verified) / "verify.json").items() if i in ids]
    for key, n in (("stories: greedy kept", sum(t == 0 for t in tries)),
                   ("stories: a sample kept", sum(t > 0 for t in tries)), ("stories: none valid", sum(t < 0 for t in tries))):
        rows[0][key], rows[1][key] = "", n
    return pd.DataFrame(rows)


def axis_accuracy(dirs: Sequence[Path], split: str = "test_iid"):
    """Per run: the x and the y half of the relations scored apart (``x_acc``, ``y_acc``), with intervals."""
    import pandas as pd
    rows = [{"run": views.label_of(d), **{f"{a} accuracy": fmt(_stat(d, f"{a}_acc", split)) for a in "xy"}}
            for d in dirs]
    return pd.DataFrame(rows).set_index("run")


def map_extent(d: Path, split: str = "test_iid"):
    """How many columns (x) and rows (y) the true and the predicted map of each valid story span (first state), and
    each axis's accuracy on the queries whose axis the text determines (Wilson 95% interval, n = queries). A reader
    that writes a fixed-shaped pattern spans the same extent whatever the text says."""
    import pandas as pd
    spans: dict[tuple[str, str, int], int] = {}
    ok: dict[str, list[bool]] = {"x": [], "y": []}
    for r in views.predictions(d, split):
        if not r["valid"]:
            continue
        for which, lay in (("true", r["true"][0]), ("predicted", r["pred"][0])):
            for i, axis in enumerate("xy"):
                k = 1 + max(p[i] for p in lay.values()) - min(p[i] for p in lay.values())
                spans[(axis, which, k)] = spans.get((axis, which, k), 0) + 1
        for q in r["queries"]:
            for axis in "xy":
                if q.get(f"{axis}_determined") and q.get(f"{axis}_ok") is not None:
                    ok[axis].append(bool(q[f"{axis}_ok"]))
    rows = []
    for axis, name in (("x", "columns (x)"), ("y", "rows (y)")):
        ks = sorted({k for a, _, k in spans if a == axis})
        rows.append({"axis": name, **{f"maps spanning {k}: true / predicted":
                                      f"{spans.get((axis, 'true', k), 0)} / {spans.get((axis, 'predicted', k), 0)}"
                                      for k in ks},
                     "axis accuracy": fmt(metrics.stat(sum(ok[axis]), len(ok[axis]))) if ok[axis] else "n/a"})
    return pd.DataFrame(rows).set_index("axis").fillna("0 / 0")


# ------------------------------------------------------------------------ the tracked map (04_coords)
STEP_KINDS = ("first", "place", "place+push", "push", "unchanged", "action")


def _share_right(rows: Sequence[dict]) -> str:
    """'x% [lo, hi], n=...' of the teacher-forced steps in ``rows`` whose map is right; 'n/a' for no rows."""
    return fmt(metrics.stat(sum(r["right"] for r in rows), len(rows))) if rows else "n/a"


def tracking_steps(rows_by_split: dict[str, Sequence[dict]]) -> "object":
    """Teacher-forced step accuracy of a tracking run (:func:`helpers.tracking.step_outcomes` rows, per split) per
    kind of step: the share of steps whose map is exactly the reference one (Wilson 95% interval, n = steps)."""
    import pandas as pd
    table = {}
    for split, rows in rows_by_split.items():
        for kind in STEP_KINDS + ("all",):
            rs = [r for r in rows if kind in ("all", r["kind"])]
            table.setdefault(kind, {})[split] = _share_right(rs) if rs else ""
    df = pd.DataFrame.from_dict(table, orient="index")[list(rows_by_split)].rename_axis("step")
    return df[(df != "").any(axis=1)]  # kinds no split has (e.g. actions in stories without any) are left out


PUSH_KINDS = ("place+push", "push")
"""The teacher-forced steps that move placed objects (:func:`helpers.tracking.step_kind`)."""
STEP_GROUPS = (("places or copies", ("first", "place", "unchanged")), ("moves placed objects", PUSH_KINDS))
"""Teacher-forced steps grouped by whether the map so far stays where it is (``action`` steps are left out)."""


def largest_trained_map(run_dir: Path) -> int:
    """The most objects a story of the run's training mixture places (its ``data``, each ``mix`` part's override)."""
    cfg = runs.read_json(Path(run_dir) / "config.json")
    return largest_story(cfg["data"], cfg.get("mix"))


def length_findings(run_dir: Path, splits: Sequence[str] = ("test_objects", "test_hops")) -> str:
    """One Markdown bullet: a tracking run's stored teacher-forced steps on the long ``splits``
    (``steps_<split>.jsonl``, written by :func:`helpers.tracking.diagnose`) on maps no longer than its longest
    training map, and on longer ones; '' when a split's steps are not stored, or when the run's steps write only
    the changed lines (:data:`helpers.tracking.CHANGE_STYLES`: a target's length is not the map's)."""
    from . import tracking
    files = [runs.jsonl_file(Path(run_dir) / f"steps_{s}.jsonl") for s in splits]
    cfg = runs.read_json(Path(run_dir) / "config.json")
    if not all(files) or cfg.get("style") in tracking.CHANGE_STYLES:
        return ""
    longest = largest_story(cfg["data"], cfg.get("mix"))
    rows = [r for f in files for r in runs.read_jsonl(f)]
    parts = []
    for group, kinds in STEP_GROUPS:
        rs = [r for r in rows if r["kind"] in kinds]
        within = [tracking.map_size(r["target"]) <= longest for r in rs]
        parts.append(f"{group}: {_share_right([r for r, w in zip(rs, within) if w])} on maps of at most {longest} "
                     f"objects, {_share_right([r for r, w in zip(rs, within) if not w])} on longer ones")
    return (f"- **Map length, `{views.label_of(run_dir)}`** (teacher-forced steps of {' and '.join(splits)}): "
            + "; ".join(parts) + " (04, *Longer maps, or harder moves?*).")


def steps_by_map_size(rows_by_split: dict[str, Sequence[dict]]) -> "object":
    """Teacher-forced step accuracy of a whole-map tracking run by the number of objects on the reference map after
    the step (:func:`helpers.tracking.map_size`), for steps that leave the placed objects where they are and for
    steps that move them (:data:`STEP_GROUPS`): does the reader fail on longer maps, or on the moves?"""
    import pandas as pd
    from . import tracking
    table: dict = {}
    for split, rows in rows_by_split.items():
        sizes = [tracking.map_size(r["target"]) for r in rows]
        for n in sorted(set(sizes)):
            for group, kinds in STEP_GROUPS:
                rs = [r for r, m in zip(rows, sizes) if r["kind"] in kinds and m == n]
                table.setdefault((n, group), {})[split] = _share_right(rs) if rs else ""
    df = pd.DataFrame.from_dict(table, orient="index")[list(rows_by_split)].fillna("")
    df.index = pd.MultiIndex.from_tuples(df.index, names=["objects on the map", "step"])
    return df[(df != "").any(axis=1)].sort_index()


def tracking_findings(track: Path, other: Path, steps: dict[str, Sequence[dict]]) -> str:
    """Markdown bullets on a tracking run, every number computed: its relation accuracy beside another run's,
    and its teacher-forced steps that only place objects vs those that must move placed ones."""
    def rate(rows: Sequence[dict], kinds: Sequence[str]) -> str:
        return _share_right([r for r in rows if r["kind"] in kinds])
    out = [f"- **Kept while reading** (`{views.label_of(track)}`): relation accuracy on test_iid {fmt(_stat(track))}, "
           f"against {fmt(_stat(other))} for `{views.label_of(other)}`."]
    for split, rows in steps.items():
        out.append(f"- **{split}, each step alone:** the first placement {rate(rows, ['first'])}; placing an object "
                   f"without moving the others, or changing nothing, {rate(rows, ['place', 'unchanged'])}; moving "
                   f"placed objects to make room {rate(rows, PUSH_KINDS)}; final maps valid "
                   f"{fmt(_stat(track, 'validity', split))}.")
    return "\n".join(out)


def wrong_steps(rows: Sequence[dict], kinds: Sequence[str], n: int = 6) -> "object":
    """The first ``n`` teacher-forced steps of ``kinds`` that the model got wrong: sentence, reference, output."""
    import pandas as pd
    bad = [r for r in rows if r["kind"] in kinds and not r["right"]][:n]
    return pd.DataFrame([{"kind": r["kind"], "sentence": r["sentence"], "reference": r["target"].replace("\n", "; "),
                          "output": r["output"].replace("\n", "; ")} for r in bad])


def push_shapes(rows_by_split: dict[str, Sequence[dict]]) -> "object":
    """For a whole-map tracking run's teacher-forced steps (targets are maps, rows in story and step order): the
    steps that move placed objects, split by :func:`helpers.tracking.push_shape` (all moved by one vector, or
    reordered), with the share the model got right."""
    import pandas as pd
    from . import tracking
    table: dict = {}
    for split, rows in rows_by_split.items():
        before, shapes = {}, {"translate": [], "reorder": []}
        for r in rows:
            b = before.get(r["id"], tracking.EMPTY_MAP) if r["step"] else tracking.EMPTY_MAP
            after = tracking.map_only(r["target"])
            if r["kind"] in PUSH_KINDS:
                shapes[tracking.push_shape(b, after)].append(r)
            before[r["id"]] = after
        for shape, rs in shapes.items():
            table.setdefault(f"{shape}: share of push steps", {})[split] = fmt(
                metrics.stat(len(rs), sum(map(len, shapes.values())))) if rs else "n/a"
            table.setdefault(f"{shape}: right", {})[split] = _share_right(rs)
    return pd.DataFrame.from_dict(table, orient="index")[list(rows_by_split)].rename_axis("steps that move objects")


def moves_agreement(rows_by_split: dict[str, Sequence[dict]]) -> "object":
    """For a ``track-moves`` run's teacher-forced steps (rows with ``moves_right``), per split: how often the moves
    line is right, and how often the map is right when the moves line is right and when it is wrong (does the map
    follow the moves the model wrote?), and on the steps that must move placed objects, how often the moves line
    says that nothing moves."""
    import pandas as pd
    from .tracking import NO_MOVES
    out = []
    for split, rows in rows_by_split.items():
        rs = [r for r in rows if "moves_right" in r]
        ok = [r for r in rs if r["moves_right"]]
        bad = [r for r in rs if not r["moves_right"]]
        push = [r for r in rs if r["kind"] in PUSH_KINDS]
        none = sum(r["output"].split("\n", 1)[0].strip() == NO_MOVES for r in push)
        out.append({"split": split, "moves line right": fmt(metrics.stat(len(ok), len(rs))) if rs else "n/a",
                    "map right | moves right": _share_right(ok), "map right | moves wrong": _share_right(bad),
                    "push steps: moves line says none": fmt(metrics.stat(none, len(push))) if push else "n/a"})
    return pd.DataFrame(out)
