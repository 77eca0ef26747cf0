"""Map explorer: look at single test examples of a run — text, true map, predicted map, queries, raw output.

* ``render_example_html(record)``: one prediction record (a line of ``predictions.jsonl``) as an HTML panel;
* ``explore(runs)``: live ipywidgets UI (needs a kernel): experiment / run / split dropdowns, an example slider,
  and a free-text box whose description the chosen run turns into a map (``helpers.predict.predict_texts``);
* ``static_explorer(run_dirs, n)``: kernel-free widget for the exported HTML report — a slider ``jslink``-ed to a
  ``Stack`` of pre-rendered panels, so moving the slider works in the browser with no Python behind it.
"""
from __future__ import annotations

import html
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

from . import paths, runs
from .world import in_bounds, render_grid

PALETTE = ("#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
           "#bc80bd", "#ccebc5", "#ffed6f", "#d9d9d9")
"""Cell colours, one per object in order of first mention (same colour in the true and predicted maps)."""
OK, BAD = "#1a7f37", "#cf222e"

_CSS = """<style>
.swm-ex { font-family: var(--jp-ui-font-family, sans-serif); font-size: 13px; line-height: 1.35; }
.swm-ex .swm-head { color: #555; margin-bottom: 4px; }
.swm-ex .swm-text { background: #f6f8fa; border-left: 3px solid #8c959f; padding: 6px 10px; margin: 4px 0 8px 0;
  max-width: 60em; white-space: pre-wrap; }
.swm-ex .swm-maps { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.swm-ex table.swm-grid { border-collapse: collapse; font-family: var(--jp-code-font-family, monospace); }
.swm-ex table.swm-grid td { width: 1.45em; height: 1.45em; text-align: center; border: 1px solid #d0d7de;
  padding: 0; font-weight: bold; }
.swm-ex table.swm-grid td.swm-empty { color: #c8c8c8; font-weight: normal; }
.swm-ex table.swm-grid th { font-weight: normal; color: #999; font-size: 10px; padding: 0 3px; }
.swm-ex .swm-cap { font-weight: bold; margin-bottom: 3px; }
.swm-ex .swm-note { color: #9a6700; font-size: 12px; max-width: 22em; }
.swm-ex table.swm-q { border-collapse: collapse; margin-top: 8px; }
.swm-ex table.swm-q td, .swm-ex table.swm-q th { padding: 1px 8px; border-bottom: 1px solid #eee; text-align: left; }
.swm-ex .swm-legend span { display: inline-block; padding: 0 5px; margin: 0 4px 2px 0; border-radius: 3px; }
.swm-ex pre.swm-raw { background: #f6f8fa; padding: 6px; max-height: 16em; overflow: auto; white-space: pre-wrap;
  font-size: 12px; max-width: 60em; }
</style>"""


def _esc(x: Any) -> str:
    return html.escape(str(x))


def _symbols(rec: Mapping) -> tuple[dict[str, str], dict[str, str]]:
    """name -> symbol and symbol -> colour, from the record's objects (fallback: first letters)."""
    objs = rec.get("objects") or []
    sym: dict[str, str] = {}
    for o in objs:
        if isinstance(o, Mapping):
            sym[o["name"]] = str(o.get("symbol") or o["name"][:1].upper())
        else:
            sym[str(o)] = str(o)[:1].upper()
    colours = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(dict.fromkeys(sym.values()))}
    return sym, colours


def _grid_html(layout: Mapping[str, Any] | None, sym: Mapping[str, str], colours: Mapping[str, str],
               width: int, height: int, caption: str) -> str:
    """A coloured monospace table of ``world.render_grid`` (top row = largest y), with notes on
    objects outside the grid, missing objects and shared cells."""
    notes: list[str] = []
    inside: dict[str, tuple[int, int]] = {}
    syms = dict(sym)
    for name, pos in (layout or {}).items():
        try:
            p = (int(pos[0]), int(pos[1]))
        except (TypeError, ValueError, IndexError):
            notes.append(f"{_esc(name)}: unreadable position {_esc(pos)}")
            continue
        if name not in syms:
            syms[name] = "?"
            notes.append(f"unknown object {_esc(name)} (shown as ?)")
        if in_bounds(p, width, height):
            inside[name] = p
        else:
            notes.append(f"{_esc(name)} at {p} is outside the {width}x{height} grid")
    if layout is not None:
        missing = [n for n in sym if n not in (layout or {})]
        if missing:
            notes.append("missing: " + ", ".join(_esc(n) for n in missing))
    cells: dict[tuple[int, int], list[str]] = {}
    for name, p in inside.items():
        cells.setdefault(p, []).append(name)
    for p, names in cells.items():
        if len(names) > 1:
            notes.append("same cell " + str(p) + ": " + ", ".join(_esc(n) for n in names))
    rows = render_grid(inside, syms, width, height)
    out = [f'<div><div class="swm-cap">{_esc(caption)}</div><table class="swm-grid">']
    for r, line in enumerate(rows):
        out.append(f"<tr><th>{height - 1 - r}</th>")
        for ch in line:
            if ch == ".":
                out.append('<td class="swm-empty">·</td>')
            else:
                out.append(f'<td style="background:{colours.get(ch, "#eee")}">{_esc(ch)}</td>')
        out.append("</tr>")
    out.append("<tr><th></th>" + "".join(f"<th>{x}</th>" for x in range(width)) + "</tr></table>")
    if notes:
        out.append('<div class="swm-note">' + "<br>".join(notes) + "</div>")
    out.append("</div>")
    return "".join(out)


def render_example_html(rec: Mapping[str, Any], title: str | None = None) -> str:
    """One prediction record (schema: docs/design.md, predictions.jsonl) as a self-contained HTML panel:
    the text, true and predicted maps side by side per state, the queried relations marked right (✓) or
    wrong (✗), and the raw model output. Missing fields (e.g. free-text predictions without a truth) are skipped."""
    sym, colours = _symbols(rec)
    width, height = int(rec.get("width") or 10), int(rec.get("height") or 10)
    true = rec.get("true") or []
    pred = rec.get("pred") or []
    valid = rec.get("valid", bool(pred))
    queries = rec.get("queries") or []
    n_ok = sum(1 for q in queries if q.get("correct") is True)
    n_scored = sum(1 for q in queries if q.get("correct") is not None)
    head = [f"<b>{_esc(title)}</b>" if title else "",
            f"id <code>{_esc(rec['id'])}</code>" if rec.get("id") else "",
            f"split <code>{_esc(rec['split'])}</code>" if rec.get("split") else "",
            f'<span style="color:{OK}">valid output</span>' if valid else
            f'<span style="color:{BAD}">invalid output: {_esc(rec.get("reason", ""))}</span>',
            f"queries right: <b>{n_ok}/{n_scored}</b>" if n_scored else ""]
    parts = [_CSS, '<div class="swm-ex">', '<div class="swm-head">' + " · ".join(h for h in head if h) + "</div>"]
    if rec.get("text"):
        parts.append(f'<div class="swm-text">{_esc(rec["text"])}</div>')
    if sym:
        parts.append('<div class="swm-legend">' + "".join(
            f'<span style="background:{colours[s]}"><b>{_esc(s)}</b> {_esc(n)}</span>' for n, s in sym.items())
            + "</div>")
    n_states = max(len(true), len(pred), 1)
    for k in range(n_states):
        suffix = f" (state {k})" if n_states > 1 else ""
        maps = []
        if true:
            maps.append(_grid_html(true[k] if k < len(true) else None, sym, colours, width, height,
                                   "true map" + suffix))
        if pred and k < len(pred):
            maps.append(_grid_html(pred[k], sym, colours, width, height, "predicted map" + suffix))
        elif not valid or not pred:
            maps.append(f'<div><div class="swm-cap">predicted map{suffix}</div>'
                        f'<div class="swm-note">no map ({_esc(rec.get("reason") or "nothing parsed")})</div></div>')
        parts.append('<div class="swm-maps">' + "".join(maps) + "</div>")
    if queries:
        rows = ['<table class="swm-q"><tr><th></th><th>query</th><th>true</th><th>predicted</th></tr>']
        for q in queries:
            c = q.get("correct")
            mark = (f'<span style="color:{OK}">✓</span>' if c is True else
                    f'<span style="color:{BAD}">✗</span>' if c is False else "–")
            cls = "swm-right" if c is True else "swm-wrong" if c is False else "swm-unscored"
            st = f" [state {q['state']}]" if n_states > 1 and "state" in q else ""
            rows.append(f'<tr class="{cls}"><td>{mark}</td><td>{_esc(q.get("a"))} ? {_esc(q.get("b"))}{st}</td>'
                        f'<td>{_esc(q.get("relation", ""))}</td><td>{_esc(q.get("pred_relation") or "—")}</td></tr>')
        rows.append("</table>")
        parts.append("".join(rows))
    if rec.get("raw") is not None:
        parts.append(f'<details open><summary>raw model output</summary><pre class="swm-raw">{_esc(rec["raw"])}'
                     "</pre></details>")
    parts.append("</div>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------------- run files

def _read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


@lru_cache(maxsize=32)
def _predictions_cached(path: str, mtime: float) -> tuple[dict, ...]:
    return tuple(runs.read_jsonl(Path(path)))


def load_predictions(run_dir: Path, split: str | None = None) -> list[dict]:
    """Records of ``run_dir/predictions.jsonl`` (or its ``.gz`` twin; optionally one split); [] when absent."""
    p = runs.jsonl_file(Path(run_dir) / "predictions.jsonl")
    if p is None:
        return []
    rows = _predictions_cached(str(p), p.stat().st_mtime)
    return [r for r in rows if split is None or r.get("split") == split]


def find_runs(root: Path | None = None) -> list[Path]:
    """Run folders under ``root`` (default paths.RUNS) that have a predictions.jsonl (or its ``.gz`` twin)."""
    base = Path(root or paths.RUNS)
    return sorted({p.parent for pat in ("*/*/predictions.jsonl", "*/*/predictions.jsonl.gz") for p in base.glob(pat)})


def run_label(run_dir: Path) -> str:
    """Short description of a run from its config.json: formulation/format, model and hash."""
    c = _read_json(Path(run_dir) / "config.json")
    bits = [str(c[k]) for k in ("formulation", "format", "model") if c.get(k)]
    return f"{Path(run_dir).name[:10]}  " + " · ".join(dict.fromkeys(bits))


def experiment_of(run_dir: Path) -> str:
    return str(_read_json(Path(run_dir) / "config.json").get("experiment") or Path(run_dir).parent.name)


def _splits(rows: Sequence[dict]) -> list[str]:
    return list(dict.fromkeys(r.get("split", "?") for r in rows))


# ---------------------------------------------------------------------------------------------------- live UI

def explore(runs: Sequence[Path] | None = None):
    """Interactive explorer for a live kernel: choose experiment, run, split and example; or type a description
    and let the chosen run draw its map (``helpers.predict.predict_texts``; errors are shown in the widget)."""
    import ipywidgets as w

    dirs = [Path(d) for d in runs] if runs is not None else find_runs()
    by_exp: dict[str, list[Path]] = {}
    for d in dirs:
        by_exp.setdefault(experiment_of(d), []).append(d)
    if not by_exp:
        return w.HTML(f"<i>No runs with predictions.jsonl found under {_esc(paths.RUNS)}.</i>")

    exp_dd = w.Dropdown(options=list(by_exp), description="experiment", layout=w.Layout(width="28em"))
    run_dd = w.Dropdown(description="run", layout=w.Layout(width="40em"))
    split_dd = w.Dropdown(description="split", layout=w.Layout(width="20em"))
    only_wrong = w.Checkbox(value=False, description="only examples with a wrong query", indent=False)
    idx = w.IntSlider(min=0, max=0, value=0, description="example #", continuous_update=False,
                      layout=w.Layout(width="40em"))
    view = w.HTML()
    text_in = w.Textarea(placeholder="Type a scene description, e.g. 'Alice is left of Bob. Bob is above the house.'",
                         layout=w.Layout(width="60em", height="5em"))
    go = w.Button(description="Predict map", button_style="primary", icon="map")
    free_out = w.HTML()
    state: dict[str, list[dict]] = {"rows": []}

    def on_exp(_=None):
        opts = [(run_label(d), d) for d in by_exp[exp_dd.value]]
        run_dd.options = opts
        if run_dd.index is None:
            run_dd.index = 0  # fires on_run
        else:
            on_run()

    def on_run(_=None):
        rows = load_predictions(run_dd.value) if run_dd.value is not None else []
        opts = _splits(rows) or ["(no predictions)"]
        split_dd.options = opts
        if split_dd.index is None:
            split_dd.index = 0  # fires on_split
        else:
            on_split()

    def on_split(_=None):
        rows = load_predictions(run_dd.value, split_dd.value) if run_dd.value is not None else []
        if only_wrong.value:
            rows = [r for r in rows if not r.get("valid", True)
                    or any(q.get("correct") is False for q in r.get("queries", []))]
        state["rows"] = rows
        idx.max = max(len(rows) - 1, 0)
        idx.value = min(idx.value, idx.max)
        show()

    def show(_=None):
        rows = state["rows"]
        if not rows:
            view.value = "<i>no examples</i>"
            return
        view.value = render_example_html(rows[idx.value], title=f"example #{idx.value} (of {len(rows)})")

    def on_predict(_=None):
        text = text_in.value.strip()
        if not text:
            free_out.value = "<i>type a description first</i>"
            return
        free_out.value = "<i>predicting…</i>"
        try:
            from .predict import predict_texts
            rec = predict_texts(run_dd.value, [text])[0]
            free_out.value = render_example_html({"text": text, **rec}, title="your description")
        except Exception as e:  # shown to the reader instead of a traceback
            free_out.value = (f'<div style="color:{BAD}"><b>Could not predict with this run:</b> '
                              f"{_esc(type(e).__name__)}: {_esc(e)}</div>")

    exp_dd.observe(on_exp, "value")
    run_dd.observe(on_run, "value")
    split_dd.observe(on_split, "value")
    only_wrong.observe(on_split, "value")
    idx.observe(show, "value")
    go.on_click(on_predict)
    on_exp()
    return w.VBox([exp_dd, run_dd, w.HBox([split_dd, only_wrong]), idx, view,
                   w.HTML("<hr><b>Try your own description</b> (the selected run predicts the map)"),
                   text_in, go, free_out])


# ---------------------------------------------------------------------------------------------------- static UI

def pick_examples(rows: Sequence[dict], n: int) -> list[dict]:
    """Up to ``n`` records, taken round-robin over the splits (file order within a split) so every split shows."""
    by_split: dict[str, list[dict]] = {}
    for r in rows:
        by_split.setdefault(r.get("split", "?"), []).append(r)
    out: list[dict] = []
    i = 0
    while len(out) < n and any(i < len(v) for v in by_split.values()):
        for v in by_split.values():
            if i < len(v) and len(out) < n:
                out.append(v[i])
        i += 1
    return out


def static_panel(run_dir: Path, n: int = 20, split: str | None = None):
    """Slider jslink-ed to a Stack of ``n`` pre-rendered examples of one run (works without a kernel)."""
    import ipywidgets as w

    recs = pick_examples(load_predictions(run_dir, split), n)
    if not recs:
        return w.HTML(f"<i>{_esc(run_dir)}: no predictions</i>")
    pages = [w.HTML(render_example_html(r, title=f"example #{i} (of {len(recs)})")) for i, r in enumerate(recs)]
    stack = w.Stack(pages, selected_index=0)
    slider = w.IntSlider(value=0, min=0, max=len(pages) - 1, description="example #",
                         layout=w.Layout(width="40em"))
    link = w.jslink((slider, "value"), (stack, "selected_index"))
    head = w.HTML(f"<b>{_esc(experiment_of(run_dir))}</b> — {_esc(run_label(run_dir))}")
    box = w.VBox([head, slider, stack])
    box.swm_link = link  # the browser-side link (its state is saved with the notebook)
    return box


def static_explorer(run_dirs: Sequence[Path], n: int = 20, split: str | None = None):
    """Kernel-free explorer for the exported report: one tab per run, each a slider ``jslink``-ed to a ``Stack``
    of ``n`` pre-rendered examples (text, true and predicted map, queries right/wrong, raw output)."""
    import ipywidgets as w

    dirs = [Path(d) for d in run_dirs]
    panels = [static_panel(d, n, split) for d in dirs]
    if len(panels) == 1:
        return panels[0]
    tabs = w.Tab(panels)
    for i, d in enumerate(dirs):
        tabs.set_title(i, f"{experiment_of(d)} {d.name[:6]}")
    return tabs
