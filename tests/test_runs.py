"""Run artifacts: large JSON-lines files are stored gzip-compressed and read back the same."""
from helpers import explorer, runs


def test_large_jsonl_goes_to_a_gzip_twin_and_reads_back(tmp_path, monkeypatch):
    rows = [{"id": f"s{i}", "split": "valid_k1", "raw": "A | left | B " * 20} for i in range(50)]
    p = tmp_path / "stepgame" / "abc" / "predictions.jsonl"
    runs.write_jsonl(p, rows[:2])
    assert p.is_file() and runs.jsonl_file(p) == p
    monkeypatch.setattr(runs, "LARGE_JSONL", 1000)
    runs.write_jsonl(p, rows)
    gz = p.with_name("predictions.jsonl.gz")
    assert not p.exists() and gz.is_file() and gz.stat().st_size < sum(len(r["raw"]) for r in rows)
    assert runs.read_jsonl(p) == rows
    before = gz.read_bytes()
    runs.write_jsonl(p, rows)
    assert gz.read_bytes() == before  # reproducible bytes: rewriting does not change the committed file
    assert explorer.find_runs(tmp_path) == [p.parent] and len(explorer.load_predictions(p.parent)) == 50
    runs.write_jsonl(p, rows[:1])  # small again: back to plain text, the twin removed
    assert p.is_file() and not gz.exists() and runs.read_jsonl(p) == rows[:1]
