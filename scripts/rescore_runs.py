"""Score finished runs again from their stored raw outputs (after a reader or metric fix; no model is loaded).

    python scripts/rescore_runs.py runs/stepgame/<hash> ...
"""
from __future__ import annotations

import sys

from helpers import experiments


def main(argv: list[str]) -> int:
    for d in argv:
        res = experiments.rescore(d)
        print(d, {s: round(v["relation_acc"]["value"], 3) for s, v in res["splits"].items() if "relation_acc" in v})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
