"""Strip benchmark story text from predictions.jsonl of outside-benchmark runs written before it was redacted.

    python scripts/redact_outside.py runs/stepgame/<hash> ...
"""
from __future__ import annotations

import sys
from pathlib import Path

from helpers import runs


def main(argv: list[str]) -> int:
    for d in map(Path, argv):
        cfg = runs.read_json(d / "config.json")
        p = d / "predictions.jsonl"
        rows = runs.read_jsonl(p)
        for r in rows:
            r["text"] = f"[{cfg['experiment']} story {r['id']}: text not stored; see ../shared/benchmarks]"
            r["facts_true"] = None
        runs.write_jsonl(p, rows)
        print(f"redacted {len(rows)} rows in {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
