"""Offline HTML report: combining notebooks, inlining the widget manager, rendering with no network."""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers import paths, report

FIXTURE = Path(__file__).parent / "fixtures" / "widget_sample.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
PNG_1PX = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def _nb(tmp: Path, name: str, title: str, model_id: str) -> Path:
    """A small 'executed' notebook (outputs written by hand) with one widget view and its saved state."""
    (tmp / "fig.png").write_bytes(PNG_1PX)
    nb = nbformat.v4.new_notebook()
    view = {"version_major": 2, "version_minor": 0, "model_id": model_id}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nintro ![a figure](fig.png)\n\n## Part one\n\n```\n# not a heading\n```"),
                nbformat.v4.new_code_cell("slider", outputs=[nbformat.v4.new_output(
                    "execute_result", data={"application/vnd.jupyter.widget-view+json": view,
                                            "text/plain": "IntSlider()"}, execution_count=1)])]
    nb.metadata["widgets"] = {report.WIDGET_STATE_MIME: {"version_major": 2, "version_minor": 0, "state": {
        model_id: {"model_name": "IntSliderModel", "model_module": "@jupyter-widgets/controls",
                   "model_module_version": "2.0.0", "state": {"value": 3}}}}}
    p = tmp / name
    nbformat.write(nb, p)
    return p


def test_combine_notebooks(tmp_path):
    a = _nb(tmp_path, "01_a.ipynb", "First notebook", "m1")
    b = _nb(tmp_path, "02_b.ipynb", "Second notebook", "m2")
    nb = report.combine_notebooks([a, b], title="T")
    toc = nb.cells[0].source
    assert toc.index("First notebook") < toc.index("Second notebook")
    assert 'href="#nb-01_a"' in toc and 'href="#nb-02_b-1"' in toc and "not a heading" not in toc
    state = nb.metadata["widgets"][report.WIDGET_STATE_MIME]["state"]
    assert set(state) == {"m1", "m2"}
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "data:image/png;base64," in md and "(fig.png)" not in md
    assert len({c["id"] for c in nb.cells}) == len(nb.cells)
    nbformat.validate(nb)


def test_missing_npm_message(tmp_path, monkeypatch):
    monkeypatch.setattr(report.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="npm` is not installed and there is no cached copy"):
        report.ensure_widget_js(cache=tmp_path)


def test_cached_copy_needs_no_npm(tmp_path, monkeypatch):
    name, version = report.HTML_MANAGER
    d = tmp_path / "npm" / f"{name.replace('@', '').replace('/', '__')}-{version}" / "dist"
    d.mkdir(parents=True)
    (d / "embed.js").write_text("// cached")
    monkeypatch.setattr(report.shutil, "which", lambda name: None)
    assert report.ensure_widget_js(cache=tmp_path) == d / "embed.js"


def test_script_safe():
    assert "</script" not in report._script_safe("var s = '</script>'; var t = '</SCRIPT>';")


def _have_js() -> bool:
    try:
        report.ensure_widget_js()
        report.ensure_mathjax_js()
        return True
    except RuntimeError:
        return False


def _chromium(html: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium with every network path closed (no DNS, dead proxy, no background traffic)."""
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp / 'profile'}",
           "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--virtual-time-budget=20000",
           *args, html.resolve().as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def _dom(html: Path, tmp: Path):
    from bs4 import BeautifulSoup
    proc = _chromium(html, tmp, "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return BeautifulSoup(proc.stdout, "html.parser")


def _execute(src: Path, dst: Path, cwd: Path) -> nbformat.NotebookNode:
    import papermill as pm
    pm.execute_notebook(str(src), str(dst), kernel_name="python3", progress_bar=False, cwd=str(cwd),
                        store_widget_state=True)
    return nbformat.read(dst, as_version=4)


needs_browser = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")


@pytest.mark.slow
@needs_browser
def test_export_renders_widgets_offline(tmp_path):
    if not _have_js():
        pytest.skip("widget JavaScript not cached and npm unavailable")
    executed = _execute(FIXTURE, tmp_path / "sample.ipynb", tmp_path)
    state = executed.metadata["widgets"][report.WIDGET_STATE_MIME]["state"]
    assert any(m["model_name"] == "IntSliderModel" for m in state.values())
    second = _nb(tmp_path, "02_b.ipynb", "Second notebook", "m-second")
    out = report.export_html([tmp_path / "sample.ipynb", second], tmp_path / "report.html", title="Test report")
    text = out.read_text()
    assert report.network_references(text) == []
    assert "cdn.jsdelivr.net/npm/@jupyter-widgets" not in text and "require.min.js" not in text

    soup = _dom(out, tmp_path)
    sliders = soup.select(".widget-slider")
    assert len(sliders) == 2, "both notebooks' sliders rendered from the merged widget state"
    assert [s.select_one(".widget-readout").get_text() for s in sliders] == ["7", "3"]
    assert any(i.get("src", "").startswith("data:image/png;base64,") for i in soup.select("img"))
    assert soup.select("mjx-container"), "maths typeset by the inlined MathJax"
    assert [a["href"] for a in soup.select(".swm-toc a")][:2] == ["#nb-sample", "#nb-sample-1"]

    shot = tmp_path / "shot.png"
    proc = _chromium(out, tmp_path, f"--screenshot={shot}", "--window-size=1100,900")
    assert proc.returncode == 0 and shot.stat().st_size > 5000
    keep = paths.CACHE / "test_screenshots"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, keep / "report_widgets.png")


_PROBE = """<script>
setTimeout(function () {
  var out = document.createElement('pre'); out.id = 'swm-probe'; document.body.appendChild(out);
  function heads() { return Array.from(document.querySelectorAll('.swm-ex .swm-head b'))
      .filter(function (e) { return e.offsetParent !== null; }).map(function (e) { return e.textContent; }); }
  var before = heads(), h = document.querySelector('.noUi-handle');
  if (!h) { out.textContent = JSON.stringify({error: 'no slider handle', before: before}); return; }
  h.focus();
  for (var i = 0; i < 2; i++)
    h.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', keyCode: 39, which: 39, bubbles: true}));
  setTimeout(function () { out.textContent = JSON.stringify({before: before, after: heads()}); }, 1500);
}, 3000);
</script>"""


@pytest.mark.slow
@needs_browser
def test_static_explorer_slider_works_offline(tmp_path):
    """The jslink-ed slider switches the Stack page in the exported HTML with no kernel and no network."""
    if not _have_js():
        pytest.skip("widget JavaScript not cached and npm unavailable")
    sys.path.insert(0, str(Path(__file__).parent))
    from test_explorer import make_run
    runs = [make_run(tmp_path / "runs", "exp_grid", "abc123"), make_run(tmp_path / "runs", "exp_coords", "def456")]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Explorer"),
                nbformat.v4.new_code_cell("from helpers.explorer import static_explorer\n"
                                          f"static_explorer({[str(r) for r in runs]!r}, n=20)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "ex.ipynb")
    _execute(tmp_path / "ex.ipynb", tmp_path / "ex_out.ipynb", tmp_path)
    out = report.export_html([tmp_path / "ex_out.ipynb"], tmp_path / "ex.html")
    text = out.read_text()
    i = text.rfind("</body>")
    probe = tmp_path / "ex_probe.html"
    probe.write_text(text[:i] + _PROBE + text[i:])
    soup = _dom(probe, tmp_path)
    assert soup.select(".jupyter-widget-tab, .widget-tab"), "tabs rendered"
    assert soup.select("table.swm-grid"), "pre-rendered example panel visible"
    result = json.loads(soup.select_one("#swm-probe").get_text())
    assert result["before"][0] == "example #0 (of 20)", result
    assert result["after"][0] == "example #2 (of 20)", result


def test_phrasing_accuracy_counts_each_sentence_of_each_run(tmp_path):
    from helpers import analysis, runs
    facts = {"entities": [], "relations": [["Alice", "lower-left", "the Red King"], ["Bob", "above", "Alice"]],
             "anchors": [], "actions": []}
    row = {"split": "test_templates", "objects": [{"name": "Alice"}, {"name": "the Red King"}, {"name": "Bob"}],
           "text": "Alice is down and to the left of the Red King. Bob is straight up from Alice.", "facts_true": facts}
    good, bad = tmp_path / "good", tmp_path / "bad"
    for d, pred in ((good, facts), (bad, {**facts, "relations": [["the Red King", "right", "Alice"],
                                                                   ["Alice", "below", "Bob"]]})):
        d.mkdir()
        runs.write_jsonl(d / "predictions.jsonl", [{**row, "facts_pred": pred}])
    t = analysis.phrasing_accuracy([good, bad], ["good", "bad"])
    assert list(t.index) == ["X is down and to the left of X.", "X is straight up from X."]
    assert list(t["good %"]) == [100.0, 100.0] and list(t["bad %"]) == [0.0, 100.0] and list(t["bad n"]) == [1, 1]


def test_intermediate_agreement_tells_reading_from_combining(tmp_path):
    """Lines right but a map that contradicts them, and lines wrong but a map that follows them, land in different
    columns; pairwise lines are split by how the text states each pair."""
    from helpers import analysis, runs
    objs = [{"name": "A", "symbol": "A"}, {"name": "B", "symbol": "B"}]
    true = [{"A": [0, 1], "B": [0, 0]}]  # A above B
    facts = {"entities": [], "relations": [["B", "below", "A"]], "anchors": [], "actions": []}
    base = {"split": "test_iid", "objects": objs, "width": 3, "height": 3, "true": true, "facts_true": facts}
    reader = {**base, "raw": "A | above | B\nA 0 0\nB 0 1", "pred": [{"A": [0, 0], "B": [0, 1]}],
              "queries": [{"correct": False}]}
    combiner = {**base, "raw": "A | below | B\nA 0 0\nB 0 1", "pred": [{"A": [0, 0], "B": [0, 1]}],
                "queries": [{"correct": False}]}
    dirs = []
    for name, row in (("reader", reader), ("combiner", combiner)):
        d = tmp_path / name
        d.mkdir()
        runs.write_jsonl(d / "predictions.jsonl", [row])
        runs.write_json(d / "config.json", {"style": "relations", "formulation": name, "model": "m"})
        dirs.append(d)
    t = analysis.intermediate_agreement(dirs, ["reader", "combiner"])
    assert t.loc["reader", "relation lines all right"].startswith("100.0%")
    assert t.loc["reader", "map agrees with its own lines"].startswith("0.0%")
    assert t.loc["combiner", "relation lines all right"].startswith("0.0%")
    assert t.loc["combiner", "map agrees with its own lines"].startswith("100.0%")
    o = analysis.line_orientation(dirs[0]).set_index("pair in the text")
    assert o.loc["stated in the other order", "lines right %"] == 100.0 and o.loc["stated in the other order", "n"] == 1


def test_map_extent_counts_spans_per_axis_and_scores_only_determined_axes(tmp_path):
    """A predicted map squashed to one row against a true map three rows tall: the row spans differ, the column spans
    agree, and a query whose y the text leaves open does not count for y."""
    from helpers import analysis, runs
    true = [{"A": [0, 0], "B": [1, 1], "C": [2, 2]}]
    pred = [{"A": [0, 0], "B": [1, 0], "C": [2, 0]}]
    queries = [{"x_determined": True, "y_determined": True, "x_ok": True, "y_ok": False},
               {"x_determined": True, "y_determined": False, "x_ok": True, "y_ok": None}]
    row = {"split": "test_iid", "valid": True, "true": true, "pred": pred, "queries": queries}
    runs.write_jsonl(tmp_path / "predictions.jsonl", [row, {**row, "valid": False, "pred": [{}]}])
    t = analysis.map_extent(tmp_path)
    assert t.loc["columns (x)", "maps spanning 3: true / predicted"] == "1 / 1"
    assert t.loc["rows (y)", "maps spanning 3: true / predicted"] == "1 / 0"
    assert t.loc["rows (y)", "maps spanning 1: true / predicted"] == "0 / 1"
    x, y = t.loc["columns (x)", "axis accuracy"], t.loc["rows (y)", "axis accuracy"]
    assert x.startswith("100.0%") and x.endswith("n=2") and y.startswith("0.0%") and y.endswith("n=1")


def test_engine_comparisons_name_a_changed_lora_rank(tmp_path, monkeypatch):
    """Two accuracy checks that differ only in the engine's LoRA rank get separate labels and table rows."""
    from helpers import analysis, runs
    monkeypatch.setattr(paths, "REPORTS", tmp_path)
    check = {"naive_exact_match": 0.98, "naive_exact_match_ci": [0.95, 0.99], "engine_exact_match": 0.96,
             "engine_exact_match_ci": [0.92, 0.98], "intervals_overlap": True, "n_eval": 200,
             "epochs": {"naive": 3, "engine": 3}, "lr": {"naive": 0.002, "engine": 0.005}}
    for name, rank in (("r16", None), ("r64", 64)):
        args = {"model": "smollm2-135m", "task": "sentences", "precision": "bf16", "batch_size": 8, "lr": 0.002,
                **({"lora_r": rank} if rank else {})}
        runs.write_json(tmp_path / "perf" / f"train_accuracy_{name}.json",
                        {"args": args, "accuracy_check": {"engine_top8_vs_naive": check},
                         "comparisons": {"engine_top8_vs_naive": {"wall": {"speedup_3_epochs": 4.1}}}})
    labels = {r["model"] for r in analysis.perf_records() if r["metric"] == "accuracy_difference"}
    assert labels == {"smollm2-135m, engine_top8_vs_naive, sentences task, 3 epochs, bf16",
                      "smollm2-135m, engine_top8_vs_naive, sentences task, 3 epochs, bf16, LoRA r64"}
    assert list(analysis.accuracy_check_table()["engine LoRA rank"]) == [16, 64]
