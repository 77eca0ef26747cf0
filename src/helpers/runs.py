"""Run artifacts: one folder per (experiment, config) with config, logs, results, predictions and provenance.

``runs/<experiment>/<hash>/`` where ``hash`` is a short digest of the config. A folder whose
``results.json`` exists is complete and is reused instead of retrained (``force=True`` redoes it).
Every file is written atomically (temporary file, then ``os.replace``), so an interrupted run never
leaves a file that looks complete.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

from . import paths


def config_hash(config: dict) -> str:
    """Short, stable digest of a JSON-serialisable config."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:10]


def run_dir(experiment: str, config: dict, root: Path | None = None) -> Path:
    return (root or paths.RUNS) / experiment / config_hash(config)


def is_complete(d: Path) -> bool:
    return (d / "results.json").exists()


def write_json(path: Path, obj: Any) -> None:
    """Atomic JSON write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=False, default=_jsonable)
        f.write("\n")
    os.replace(tmp, path)


LARGE_JSONL = 4_000_000
"""Bytes of JSON lines above which :func:`write_jsonl` writes ``<path>.gz`` (gzip) instead of ``<path>``."""


def _gz(path: Path) -> Path:
    return path.with_name(path.name + ".gz")


def jsonl_file(path: Path) -> Path | None:
    """The file that holds the JSON lines of ``path``: ``path`` itself or its gzip twin ``<path>.gz``; None if
    neither exists."""
    path = Path(path)
    return next((p for p in (path, _gz(path)) if p.is_file()), None)


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    """Atomic JSON-lines write. Over :data:`LARGE_JSONL` bytes the lines go to ``<path>.gz`` (gzip, reproducible
    bytes) so that large artifacts stay small in git; the other one of the two files is removed, and
    :func:`read_jsonl` reads either."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data, out = "".join(json.dumps(r, default=_jsonable) + "\n" for r in rows).encode(), path
    if len(data) > LARGE_JSONL:
        data, out = gzip.compress(data, mtime=0), _gz(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{out.name}.")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, out)
    (_gz(path) if out == path else path).unlink(missing_ok=True)


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


def read_jsonl(path: Path) -> list[dict]:
    """The records of ``path`` (or of its gzip twin, see :func:`write_jsonl`); [] when neither exists."""
    p = jsonl_file(path)
    if p is None:
        return []
    text = gzip.decompress(p.read_bytes()).decode() if p.suffix == ".gz" else p.read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _jsonable(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "__dataclass_fields__"):
        from dataclasses import asdict
        return asdict(o)
    if isinstance(o, Path):
        return str(o)
    return str(o)


def git_commit() -> str:
    """Current commit (with '-dirty' when the tree has changes), or 'unknown' outside git."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=paths.ROOT, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "src"],
                               cwd=paths.ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        return (sha or "unknown") + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine_info() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        import torch
        info["torch"] = torch.__version__
        info["threads"] = torch.get_num_threads()
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        pass
    return info


class Timer:
    """Collects named wall-clock timings: ``with timer("train"): ...``."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - t0, 3)


def finish(d: Path, config: dict, splits: dict[str, dict], timings: dict[str, float], extra: dict | None = None) -> dict:
    """Write ``results.json`` (marks the run complete) with provenance."""
    results = {"config": config, "git_commit": git_commit(), "machine": machine_info(),
               "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "timings": timings, "splits": splits}
    if extra:
        results.update(extra)
    write_json(d / "results.json", results)
    return results


def start(experiment: str, config: dict, force: bool = False, root: Path | None = None) -> tuple[Path, bool]:
    """Create the run folder and write its config; returns (folder, already_complete)."""
    d = run_dir(experiment, config, root)
    if is_complete(d) and not force:
        return d, True
    if force and d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True, exist_ok=True)
    write_json(d / "config.json", config)
    return d, False


def list_runs(experiment: str | None = None, root: Path | None = None) -> list[Path]:
    """Complete run folders, optionally of one experiment."""
    base = root or paths.RUNS
    pattern = f"{experiment}/*/results.json" if experiment else "*/*/results.json"
    return sorted(p.parent for p in base.glob(pattern))
