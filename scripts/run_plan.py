"""Run (or reuse) the experiments of one notebook's plan without executing the notebook.

    python scripts/run_plan.py coords --profile default --groups replication fixed
    python scripts/run_plan.py outside --groups babi          # model-based outside benchmarks (05_analysis)
    python scripts/run_plan.py outside --only in-domain-hybrid  # one formulation of a plan
"""
from __future__ import annotations

import argparse
import sys

from helpers import experiments, profiles


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebook", choices=["parse", "grid", "coords", "outside"])
    ap.add_argument("--profile", default="default", choices=profiles.PROFILES)
    ap.add_argument("--model", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--groups", nargs="*", default=None, help="only these groups of the plan")
    ap.add_argument("--only", nargs="*", default=None, help="only experiments with these formulations")
    args = ap.parse_args(argv)
    if args.notebook == "outside":
        plan = profiles.outside_plan(args.profile, model=args.model, seed=args.seed)
    else:
        plan = profiles.plan(args.notebook, args.profile, model=args.model, seed=args.seed)
    unknown = set(args.groups or []) - set(plan)
    if unknown:
        ap.error(f"unknown group(s) {sorted(unknown)}; the plan has {sorted(plan)}")
    for group in args.groups or plan:
        exps = [e for e in plan[group] if args.only is None or e.formulation in args.only]
        for d in experiments.run_all(exps):
            print(f"[{group}] {d}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
