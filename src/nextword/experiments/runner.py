"""Run one experiment and write what it found: results.json, results.md and its PNG plots."""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from nextword.experiments import get_experiment
from nextword.experiments.base import Settings, Verdict, machine
from nextword.fileio import atomic_path, write_text_atomic

RESULTS_JSON, RESULTS_MD = "results.json", "results.md"


@dataclass(frozen=True)
class Outcome:
    name: str
    verdict: Verdict
    files: list
    elapsed_s: float


def run_experiment(name: str, settings: Settings, output: str | Path) -> Outcome:
    """Run experiment `name`, decide its verdict by the rule stated in advance, write its files."""
    module = get_experiment(name)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    start = time.monotonic()
    numbers = module.run(settings)
    elapsed = time.monotonic() - start
    verdict = module.verdict(numbers)
    files = []
    for filename, fig in module.plots(numbers):
        with atomic_path(output / filename) as tmp:
            fig.savefig(tmp, format="png")
        files.append(output / filename)
    record = {
        "experiment": name, "claim": module.CLAIM, "rule": module.RULE,
        "settings": {**asdict(settings), "budget_s": settings.seconds(module.DEFAULT_BUDGET)},
        "seed": settings.seed, "started_utc": started.isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 2), "machine": machine(),
        "verdict": verdict.as_dict(), "numbers": numbers,
        "plots": [f.name for f in files],
    }
    write_text_atomic(output / RESULTS_JSON, json.dumps(_jsonable(record), indent=1, sort_keys=True) + "\n")
    write_text_atomic(output / RESULTS_MD, markdown(module, record))
    return Outcome(name, verdict, [output / RESULTS_JSON, output / RESULTS_MD, *files], elapsed)


def markdown(module, record: dict) -> str:
    m = record["machine"]
    parts = [
        f"# {record['experiment']}", "",
        f"**Claim.** {module.CLAIM}", "",
        f"**Decision rule (fixed in advance).** {' '.join(module.RULE.split())}", "",
        *(table.markdown() + "\n" for table in module.tables(record["numbers"])),
        f"**Verdict: {record['verdict']['outcome']}.**", "",
        *(f"- {reason}" for reason in record["verdict"]["reasons"]), "",
        *(f"![{name}]({name})" for name in record["plots"]), "",
        f"Run {record['started_utc']}, {record['elapsed_s']:.0f} s wall-clock, seed {record['seed']}, "
        f"{_budget(module, record['settings'])}; "
        f"{m['platform']}, {m['cpus']} CPUs, Python {m['python']}, NumPy {m['numpy']}"
        + (f", torch {m['torch']} ({m['torch_threads']} threads)" if "torch" in m else "") + ".",
        "",
    ]
    return "\n".join(parts)


def _budget(module, settings: dict) -> str:
    if settings["smoke"]:
        return "smoke mode (a few steps per run)"
    if module.DEFAULT_BUDGET is None:
        return "no training"
    return f"training budget {settings['budget_s']:.0f} CPU seconds"


def _jsonable(value):
    """JSON has no infinity: write it (and NaN) as strings rather than invalid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):     # NumPy scalars
        return _jsonable(value.item())
    return value
