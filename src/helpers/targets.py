"""The report's targets (from the issues), in one place; every notebook, table and README line reads them here.

* relation accuracy of the map: 99% on the seed's setting (``test_iid``), 97% on actions (final state), 95% on each
  other generalisation split;
* parse triple F1 99%; grid validity 99.5%;
* StepGame 95% at every k; bAbI task 17 99%;
* the engine: training at least 4x the naive baseline's wall speed for the same examples x epochs and the same final
  accuracy (95% intervals overlapping); batched inference at least 3x the naive maps/s.
"""
from __future__ import annotations

RELATION = {"test_iid": 0.99, "test_actions": 0.97}
RELATION_DEFAULT = 0.95
TRIPLE_F1 = 0.99
GRID_VALIDITY = 0.995
STEPGAME_PER_K = 0.95
BABI17 = 0.99
TRAIN_SPEEDUP = 4.0
INFER_SPEEDUP = 3.0


def relation(split: str) -> float:
    """The relation-accuracy target of one test split."""
    return RELATION.get(split, RELATION_DEFAULT)
