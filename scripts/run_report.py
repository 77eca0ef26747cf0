"""Execute the numbered notebooks top to bottom with papermill, then export one offline HTML report.

    python scripts/run_report.py --profile default     # what `make report` runs
    python scripts/run_report.py --profile smoke --out /tmp/smoke   # the smoke run used by the tests
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from helpers import paths, runs

NOTEBOOKS = ["01_data", "02_parse", "03_grid", "04_coords", "05_analysis"]


def sync_notebooks() -> None:
    """Make each .ipynb match its jupytext py:percent source (the .py is what we edit and review)."""
    import jupytext
    for name in NOTEBOOKS:
        src = paths.NOTEBOOKS / f"{name}.py"
        nb = jupytext.read(src)
        jupytext.write(nb, paths.NOTEBOOKS / f"{name}.ipynb")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="default", choices=["smoke", "default", "full"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default=None, help="override the model of the fine-tuned runs (HF id or local dir)")
    ap.add_argument("--out", type=Path, default=None, help="folder for executed notebooks and report.html")
    ap.add_argument("--only", nargs="*", default=None, help="run only these notebooks (e.g. 01_data)")
    ap.add_argument("--no-html", action="store_true")
    args = ap.parse_args(argv)

    import papermill as pm

    out = args.out or paths.REPORTS
    executed = out / "executed" / args.profile
    executed.mkdir(parents=True, exist_ok=True)
    sync_notebooks()
    params = {"PROFILE": args.profile, "SEED": args.seed}
    if args.model:
        params["MODEL"] = args.model
    timings = {}
    for name in args.only or NOTEBOOKS:
        t0 = time.perf_counter()
        print(f"[report] executing {name} (profile={args.profile})", flush=True)
        pm.execute_notebook(str(paths.NOTEBOOKS / f"{name}.ipynb"), str(executed / f"{name}.ipynb"),
                            parameters=params, cwd=str(paths.NOTEBOOKS), progress_bar=False,
                            kernel_name="python3", log_output=True, store_widget_state=True)
        timings[name] = round(time.perf_counter() - t0, 1)
        print(f"[report] {name} done in {timings[name]:.0f} s", flush=True)
    runs.write_json(out / f"timings_{args.profile}.json",
                    {"profile": args.profile, "notebooks_s": timings,
                     "total_s": round(sum(timings.values()), 1),
                     "git_commit": runs.git_commit(), "machine": runs.machine_info()})
    if not args.no_html:
        from helpers.report import export_html
        html = out / ("report.html" if args.profile != "smoke" or args.out else "report-smoke.html")
        export_html([executed / f"{n}.ipynb" for n in args.only or NOTEBOOKS], html,
                    title=f"Can a small language model build a 2D map from text? (profile: {args.profile})")
        print(f"[report] wrote {html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
