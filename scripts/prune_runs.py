"""List (or delete with --delete) run folders that no profile's plan uses any more, e.g. after a config change.

    python scripts/prune_runs.py                 # show stale runs
    python scripts/prune_runs.py --delete        # remove them
"""
from __future__ import annotations

import argparse
import shutil
import sys

from helpers import paths, profiles, runs

KEEP_EXPERIMENTS = {"probe", "stepgame", "babi17", "babi19"}  # made by 05_analysis, not by the notebook plans


def planned() -> set:
    dirs = set()
    for prof in profiles.PROFILES:
        for nb in ("parse", "grid", "coords"):
            for exps in profiles.plan(nb, prof).values():
                dirs |= {runs.run_dir(e.experiment, e.to_dict()) for e in exps}
    return dirs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--delete", action="store_true")
    args = ap.parse_args(argv)
    keep = planned()
    stale = [d for d in sorted(paths.RUNS.glob("*/*")) if d.is_dir() and d.parent.name not in KEEP_EXPERIMENTS
             and d not in keep]
    for d in stale:
        print(("deleting " if args.delete else "stale ") + str(d.relative_to(paths.ROOT)))
        if args.delete:
            shutil.rmtree(d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
