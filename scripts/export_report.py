"""Export executed notebooks into ONE self-contained offline HTML report (widgets, images and maths inlined).

    python scripts/export_report.py                                   # reports/executed/default/*.ipynb -> reports/report.html
    python scripts/export_report.py nb1.ipynb nb2.ipynb --out x.html  # explicit notebooks, in this order

The notebooks must already be executed (papermill/nbclient store the widget state by default). The widget manager
and MathJax are fetched once with `npm pack` into .cache/npm (gitignored); later exports work offline.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers import paths
from helpers.report import export_html, network_references

NOTEBOOKS = ["01_data", "02_parse", "03_grid", "04_coords", "05_analysis"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", type=Path, help="executed notebooks in report order")
    ap.add_argument("--profile", default="default", help="take reports/executed/<profile>/NN_*.ipynb")
    ap.add_argument("--out", type=Path, default=None, help="output HTML (default reports/report.html)")
    ap.add_argument("--title", default="Can a small language model build a 2D map of a scene from text?")
    args = ap.parse_args(argv)
    nbs = args.notebooks or [p for n in NOTEBOOKS
                             if (p := paths.REPORTS / "executed" / args.profile / f"{n}.ipynb").is_file()]
    if not nbs:
        print(f"no executed notebooks given or found in {paths.REPORTS / 'executed' / args.profile}", file=sys.stderr)
        return 2
    out = export_html(nbs, args.out or paths.REPORTS / "report.html", title=args.title)
    refs = network_references(out.read_text(encoding="utf-8"))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {len(nbs)} notebooks)"
          + (f"; WARNING network references: {refs}" if refs else "; no network references"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
