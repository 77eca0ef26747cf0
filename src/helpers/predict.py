"""Turn stories into maps with a trained run: ``python -m helpers.predict --run runs/<exp>/<hash> --text "..."``
or ``--input stories.jsonl --output maps.jsonl``.

A run folder holds ``config.json`` (``fmt``/``format``, ``style``, ``model``, ``data`` with width/height,
``max_new_tokens``, ``constrain``) and ``model/`` (a full model + tokenizer, or a LoRA adapter whose base is
the run's ``model``). Input lines are ``{"id", "text"}`` plus optional ``objects`` (names or
``{"name", "symbol"}``) and ``width``/``height``; without ``objects`` the names are read off the model output.
Each output line adds ``objects`` ([{"name", "x", "y"}] of the last state), ``states`` (one such list per
state), ``raw``, ``valid`` and ``reason``. Stdout gets an ASCII grid (top row first) and the JSON per story.
A bad line is reported on stderr and skipped; the exit code is non-zero only when nothing was processed.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .formats import COORD_LINE, STATE_HEADER



class PredictError(ValueError):
    """A problem with the run or an input line; the message is meant for the user."""


def _err(msg: str) -> None:
    print(f"predict: {msg}", file=sys.stderr)


@dataclass
class Predictor:
    tok: Any
    model: Any
    fmt: str
    style: str = "compact"
    width: int = 10
    height: int = 10
    max_new_tokens: int = 64
    constrain: str | None = None
    batch_size: int = 32
    prefix: str = ""            # the run's prompt prefix (Experiment.prefix)
    size_known: bool = True     # our generator's runs were trained with the grid size in the prompt
    by_sentence: str = ""       # "facts": one sentence at a time, facts joined; "stepgame": relations laid out
    prompt_fmt: str = ""        # the prompt's format and style when they differ from the output's (a transfer run
    prompt_style: str = ""      # is prompted as its source was trained)


def load_run(run_dir: str | Path, device: str | None = None) -> Predictor:
    """Load the run's model and settings; raises PredictError with one readable sentence."""
    from . import models
    from . import runs
    from .experiments import sentence_reading, transfer_source
    d = Path(run_dir)
    if not (d / "config.json").exists():
        raise PredictError(f"{d} is not a run folder (no config.json); pass --run runs/<experiment>/<hash>")
    try:
        cfg = json.loads((d / "config.json").read_text())
    except ValueError as e:
        raise PredictError(f"{d / 'config.json'} is not valid JSON ({e})") from None
    src = transfer_source(cfg)
    mdir = runs.run_dir(src.experiment, src.to_dict()) / "model" if src else d / "model"
    if not mdir.is_dir():
        raise PredictError(f"run {d} has no saved model folder {mdir} (models are not committed: run the experiment "
                           f"to train it; a run of method 'rule', 'prior' or 'chance' has no model)")
    fmt = cfg.get("format") or cfg.get("fmt")
    if fmt is None:
        raise PredictError(f"{d / 'config.json'} names no format ('fmt' or 'format')")
    data = cfg.get("data") or {}
    try:
        if (mdir / "adapter_config.json").exists():
            base = cfg.get("model")
            tok, model = models.load_adapter(mdir, base=None if base in (None, "scratch") else base, device=device)
        else:
            tok, model = models.load(str(mdir), device=device)
    except models.ModelLoadError as e:
        raise PredictError(f"cannot load the model of run {d}: {e}") from None
    style = cfg.get("style", "compact")
    by_sentence = sentence_reading(style, data)
    return Predictor(tok, model, fmt, style, int(data.get("width", 10)),
                     int(data.get("height", 10)), int(cfg.get("max_new_tokens", 64)), cfg.get("constrain"),
                     int(cfg.get("eval_batch_size", 32)), src.prefix if src else cfg.get("prefix", ""),
                     cfg.get("experiment", "parse") in ("parse", "grid", "coords"), by_sentence,
                     src.fmt if src else fmt, src.style if src else style)


# ------------------------------------------------------------------------------------------ inputs
def _objects_of(rec: dict) -> list[dict] | None:
    objs = rec.get("objects")
    if not objs:
        return None
    from .names import assign_symbols
    out = [{"name": o} if isinstance(o, str) else dict(o) for o in objs]
    if any(not isinstance(o.get("name"), str) or not o["name"].strip() for o in out):
        raise PredictError("'objects' must be a list of names or of {\"name\", \"symbol\"} objects")
    if any("symbol" not in o for o in out):
        for o, s in zip(out, assign_symbols([o["name"] for o in out])):
            o.setdefault("symbol", s)
    return out


def guess_objects(raw: str, fmt: str) -> list[dict]:
    """Object names read off a model output (used when the input does not list the objects)."""
    names: list[str] = []
    syms: list[str] = []
    for ln in (x.strip() for x in raw.splitlines()):
        if not ln or STATE_HEADER.match(ln):
            continue
        if fmt == "coords" and "|" not in ln and (m := COORD_LINE.match(ln)):
            names.append(m.group(1).strip())
        elif fmt == "facts" and ln.startswith("- "):
            names.append(ln[2:].split("|")[0].strip())
        elif fmt == "grid":
            syms += [c for c in ln if c not in ".@ \t"]
    if fmt == "grid":
        syms = list(dict.fromkeys(syms))
        return [{"name": s, "symbol": s} for s in syms]
    names = list(dict.fromkeys(n for n in names if n))
    from .names import assign_symbols
    try:
        symbols = assign_symbols(names)
    except ValueError:
        symbols = [chr(65 + i % 26) for i in range(len(names))]
    return [{"name": n, "symbol": s} for n, s in zip(names, symbols)]


def _n_states(raw: str) -> int:
    return max(1, sum(1 for ln in raw.splitlines() if STATE_HEADER.match(ln)))


# ------------------------------------------------------------------------------------------ predict
def predict_records(p: Predictor, records: list[dict]) -> list[dict]:
    """Generate and read back a map for every record (each must have a non-empty 'text'). The prompt is built as in
    the run's evaluation (prefix, grid size for our generator's runs); a sentence-by-sentence run reads each
    sentence and joins the outputs as its evaluation does (:func:`helpers.experiments.read_by_sentence`). For a
    StepGame run the agents are the given objects (else those the model names) and a StepGame ``question`` field
    sets where the map starts, as in the evaluation."""
    from . import infer, stepgame
    from .experiments import read_by_sentence
    from .formats import example_prompt
    given = [_objects_of(r) for r in records]
    examples = [{"text": r["text"], "width": int(r.get("width", p.width)), "height": int(r.get("height", p.height)),
                 "size_known": p.size_known} for r in records]
    fmt, style = p.prompt_fmt or p.fmt, p.prompt_style or p.style
    if p.by_sentence:
        if p.by_sentence == "stepgame":
            for ex, r, g in zip(examples, records, given):
                ex["stepgame"] = {"story": stepgame.story_sentences(r["text"]), "agents": [o["name"] for o in g or []],
                                  "asked": stepgame.asked_agents(r.get("question", ""))}

        def generate(prompts: list[str], _examples: list[dict]) -> list[str]:
            return infer.generate(p.tok, p.model, prompts, p.max_new_tokens, batch_size=p.batch_size)
        raws = read_by_sentence(generate, examples, p.by_sentence, fmt, style, p.prefix)
    else:
        names = None
        if p.constrain and all(g is not None for g in given):
            names = [[o["name"] for o in g] + [o["symbol"] for o in g] for g in given]
        raws = infer.generate(p.tok, p.model, [example_prompt(ex, fmt, style, p.prefix) for ex in examples],
                              p.max_new_tokens, batch_size=p.batch_size,
                              constrain=p.constrain if names is not None else None, example_names=names)
    return [read_record(p, r, g, raw) for r, g, raw in zip(records, given, raws)]


def read_record(p: Predictor, rec: dict, objects: list[dict] | None, raw: str) -> dict:
    from .formats import read_target
    objs = objects if objects is not None else guess_objects(raw, p.fmt)
    w, h = int(rec.get("width", p.width)), int(rec.get("height", p.height))
    example = {"id": rec.get("id"), "text": rec["text"], "width": w, "height": h, "objects": objs,
               "states": [{}] * _n_states(raw)}
    parsed = read_target(raw, p.fmt, example, style=p.style) if objs else None
    valid = bool(parsed and parsed.valid and parsed.states)
    states = [[{"name": n, "x": int(x), "y": int(y)} for n, (x, y) in s.items()] for s in parsed.states] if valid else []
    reason = ("no objects found in the output" if parsed is None else
              parsed.reason or ("" if valid else "no layout"))
    return {**{k: v for k, v in rec.items() if k != "objects"}, "width": w, "height": h,
            "objects": states[-1] if states else [], "states": states, "raw": raw, "valid": valid,
            "reason": reason, "symbols": {o["name"]: o["symbol"] for o in objs}}


def ascii_grid(out: dict) -> str:
    """The last state's map, top row first (or a note when the output was invalid)."""
    from .world import render_grid
    if not out["valid"]:
        return f"(no valid map: {out['reason']})"
    lay = {o["name"]: (o["x"], o["y"]) for o in out["objects"]}
    rows = render_grid(lay, out["symbols"], out["width"], out["height"])
    legend = ", ".join(f"{out['symbols'][n]}={n}" for n in lay)
    return "\n".join(rows) + f"\n{legend}"


def _read_lines(lines: Iterable[str]) -> tuple[list[dict], int]:
    """Valid records and the number of bad lines (each reported on stderr)."""
    good, bad = [], 0
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            _err(f"line {n}: not valid JSON ({e.msg}); skipped")
            bad += 1
            continue
        if not isinstance(rec, dict):
            _err(f"line {n}: expected a JSON object with 'id' and 'text'; skipped")
            bad += 1
            continue
        text = rec.get("text")
        if not isinstance(text, str) or not text.strip():
            _err(f"line {n} (id {rec.get('id')!r}): empty or missing 'text'; skipped")
            bad += 1
            continue
        try:
            _objects_of(rec)
        except (PredictError, ValueError) as e:
            _err(f"line {n} (id {rec.get('id')!r}): {e}; skipped")
            bad += 1
            continue
        rec.setdefault("id", f"line-{n}")
        good.append(rec)
    return good, bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.predict", description=__doc__.split("\n")[0])
    ap.add_argument("--run", required=True, help="run folder: runs/<experiment>/<hash>")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="one story")
    src.add_argument("--input", help="JSONL file of {\"id\", \"text\"[, \"objects\"]} ('-' = stdin)")
    ap.add_argument("--output", help="JSONL file for the maps (default: only stdout)")
    ap.add_argument("--objects", help="comma-separated object names for --text")
    ap.add_argument("--device", default=None)
    ap.add_argument("--quiet", action="store_true", help="no grids/JSON on stdout")
    a = ap.parse_args(argv)

    if a.text is not None:
        lines = [json.dumps({"id": "text", "text": a.text,
                             **({"objects": [s.strip() for s in a.objects.split(",") if s.strip()]} if a.objects else {})})]
    elif a.input == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            lines = Path(a.input).read_text().splitlines()
        except OSError as e:
            _err(f"cannot read {a.input}: {e.strerror}")
            return 2
    records, bad = _read_lines(lines)
    if not records:
        _err("nothing to process" + (f" ({bad} bad line(s))" if bad else ""))
        return 1
    try:
        p = load_run(a.run, device=a.device)
    except PredictError as e:
        _err(str(e))
        return 2
    outs = predict_records(p, records)
    if not a.quiet:
        for o in outs:
            print(f"# {o['id']}")
            print(ascii_grid(o))
            print(json.dumps({k: v for k, v in o.items() if k != "symbols"}, ensure_ascii=False))
    if a.output:
        out = Path(a.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text("".join(json.dumps({k: v for k, v in o.items() if k != "symbols"}, ensure_ascii=False) + "\n"
                               for o in outs))
        tmp.replace(out)
    n_valid = sum(o["valid"] for o in outs)
    _err(f"{len(outs)} stories processed ({n_valid} valid maps), {bad} bad line(s) skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
