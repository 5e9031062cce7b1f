"""What every experiment shares: its settings, the corpora, verdicts, tables and figures."""
from __future__ import annotations

import math
import os
import platform
import sys
from dataclasses import dataclass, field
from functools import lru_cache

from nextword.errors import NextwordError

HOLDS, PARTLY, DOES_NOT_HOLD = "holds", "partly", "does not hold"
SPLIT_CORPORA = ("ptb", "wikitext-2", "default")      # corpora with train/valid/test splits
SMOKE_CORPUS = "smoke"                                 # a slice of the embedded default corpus
SMOKE_SENTENCES = {"train": 300, "valid": 40, "test": 40}


@dataclass(frozen=True)
class Settings:
    """How to run an experiment. `budget`: seconds of training for the whole experiment
    (split among its runs; evaluation not counted); None: the experiment's DEFAULT_BUDGET.
    `corpora`: names with train/valid/test splits; None: the experiment's default."""

    corpora: tuple | None = None
    budget: float | None = None
    smoke: bool = False
    seed: int = 0

    def corpus_names(self, default: tuple = ("ptb",)) -> tuple:
        if self.smoke:
            return (SMOKE_CORPUS,)
        names = tuple(self.corpora) if self.corpora else tuple(default)
        for name in names:
            if name not in SPLIT_CORPORA:
                raise NextwordError(f"--corpus {name}: choose a corpus with train/valid/test "
                                    f"splits: {', '.join(SPLIT_CORPORA)}")
        return names

    def seconds(self, default: float | None) -> float:
        return float(self.budget if self.budget is not None else (default or 0.0))


@dataclass(frozen=True)
class Verdict:
    outcome: str                    # holds / partly / does not hold
    reasons: tuple = ()

    def __post_init__(self):
        if self.outcome not in (HOLDS, PARTLY, DOES_NOT_HOLD):
            raise ValueError(f"not a verdict: {self.outcome!r}")

    def as_dict(self) -> dict:
        return {"outcome": self.outcome, "reasons": list(self.reasons)}


def decide(checks: list[tuple[bool, str]]) -> Verdict:
    """holds if every check passes, does not hold if none does, partly otherwise; each reason
    is prefixed by whether its check passed."""
    passed = sum(ok for ok, _ in checks)
    outcome = HOLDS if passed == len(checks) else DOES_NOT_HOLD if passed == 0 else PARTLY
    return Verdict(outcome, tuple(f"{'yes' if ok else 'no'}: {why}" for ok, why in checks))


@dataclass
class Table:
    title: str
    headers: list
    rows: list = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"**{self.title}**", "", "| " + " | ".join(map(str, self.headers)) + " |",
                 "|" + "---|" * len(self.headers)]
        lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in self.rows]
        return "\n".join(lines)


def fmt(value) -> str:
    """Numbers as people read them in a table: 4 significant digits, thousands separated."""
    if isinstance(value, bool) or value is None:
        return "–" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isinf(value) or math.isnan(value):
            return "∞" if value == math.inf else str(value)
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
            return f"{value:.3g}"
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.1f}"
    return str(value)


# ---- corpora -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Splits:
    name: str
    train: list
    valid: list
    test: list


@lru_cache(maxsize=4)
def load_splits(name: str) -> Splits:
    """Train/valid/test token lists of a corpus; `smoke` is a slice of the embedded corpus."""
    from nextword.text.corpora import load_corpus

    if name == SMOKE_CORPUS:
        parts = {split: list(load_corpus(f"default:{split}"))[:count]
                 for split, count in SMOKE_SENTENCES.items()}
        return Splits(name, parts["train"], parts["valid"], parts["test"])
    return Splits(name, *(list(load_corpus(f"{name}:{split}")) for split in ("train", "valid", "test")))


def num_tokens(sentences: list) -> int:
    """Words plus one </s> per sentence: the tokens a model predicts."""
    return sum(len(s) + 1 for s in sentences)


# ---- provenance ----------------------------------------------------------------------------
def machine() -> dict:
    """What ran the experiment: enough to judge a timing or redo the run."""
    import numpy

    info = {
        "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(), "python": platform.python_version(), "numpy": numpy.__version__,
    }
    try:
        info["load_average_1min"] = round(os.getloadavg()[0], 2)
    except OSError:
        pass
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
    try:
        from importlib.metadata import version

        info["nextword"] = version("nextword")
    except Exception:          # running from a source tree that was never installed
        info["nextword"] = "source"
    return info


# ---- figures -------------------------------------------------------------------------------
def figure(title: str, xlabel: str, ylabel: str, size=(6.4, 4.2)):
    """A matplotlib Figure and its axes, made without pyplot: no backend is switched and no
    global figure list grows, so a caller's own matplotlib state is left alone."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=90, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    return fig, ax


def rule_of(docstring: str) -> str:
    """The decision rule an experiment's docstring states under "Decision rule, fixed before any
    run:", as one line (the docstring is where a reader finds it; runs and --list quote it)."""
    return " ".join(docstring.split("Decision rule, fixed before any run:", 1)[1].split())


def relative_change(old: float, new: float) -> float:
    """(old - new) / old: the share by which `new` is lower than `old`."""
    return (old - new) / old if old else math.nan
