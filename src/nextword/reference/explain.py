"""`nextword explain bptt`: the lecture's sum over steps, measured on a small random RNN.

For the loss at the last step t = T of a random sequence it lists, for every i = 1..t, the size
of ∂J(t)/∂W_h |_(i) (how much the use of W_h at step i contributes) and how far the sum kept
by truncation to k = t - i + 1 steps is from the full ∂J(t)/∂W_h. The checks are recomputed
each time: analytic gradients against central finite differences, the contributions summed
against backward(), and truncated backward() against the restricted sums.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from nextword.errors import NextwordError
from nextword.fileio import atomic_path
from nextword.reference.rnn import (
    RNNConfig, backward, forward, gradient_check, init_params, relative_error, wh_contributions,
)


@dataclass(frozen=True)
class ExplainConfig:
    steps: int = 20                 # T: length of the random sequence
    hidden_dim: int = 16
    embedding_dim: int = 8
    vocab_size: int = 20            # |V| outputs (the inputs add one id, as <s> does)
    seed: int = 0
    max_check_entries: int = 1000   # finite differences on at most this many entries per parameter

    def __post_init__(self):
        for name, value in asdict(self).items():
            if name != "seed" and value < 1:
                raise NextwordError(f"{name.replace('_', '-')} must be >= 1, got {value}")


@dataclass(frozen=True)
class ContributionRow:
    i: int                          # the step at which W_h was used
    distance: int                   # t - i
    norm: float                     # ‖∂J(t)/∂W_h |_(i)‖ (Frobenius)
    ratio: float                    # norm / ‖∂J(t)/∂W_h‖
    truncation_error: float         # ‖Σ_{j=i..t} c_j - ∂J(t)/∂W_h‖ / ‖∂J(t)/∂W_h‖: keep k = t-i+1


@dataclass(frozen=True)
class BPTTReport:
    config: ExplainConfig
    t: int
    full_norm: float                                  # ‖∂J(t)/∂W_h‖
    rows: list[ContributionRow]
    gradient_check: dict[str, float]                  # per parameter, vs finite differences
    sum_check: float                                  # (1/T) Σ_t Σ_i c(t, i) vs backward()
    truncation_check: float                           # max over k of backward(k) vs restricted sums
    checked_entries: dict[str, int] = field(default_factory=dict)

    @property
    def gradient_check_max(self) -> float:
        return max(self.gradient_check.values())

    def as_dict(self) -> dict:
        out = asdict(self)
        out["gradient_check_max"] = self.gradient_check_max
        return out


def explain_bptt(config: ExplainConfig = ExplainConfig()) -> BPTTReport:
    """Build a seeded random model and sequence, decompose ∂J(T)/∂W_h, run the checks."""
    rng = np.random.default_rng(config.seed)
    sizes = RNNConfig(config.vocab_size + 1, config.vocab_size, config.embedding_dim, config.hidden_dim)
    params = init_params(sizes, rng)
    T = config.steps
    inputs = rng.integers(0, sizes.input_size, size=T)
    targets = rng.integers(0, sizes.output_size, size=T)
    _, cache = forward(params, inputs, targets)

    # every J(t) split over the steps i where W_h was used: all_terms[t-1] is (t, H, H)
    all_terms = [wh_contributions(params, cache, t) for t in range(1, T + 1)]

    # the table: the last step's loss
    terms = all_terms[-1]                                               # (T, H, H)
    full = terms.sum(axis=0)                                            # ∂J(T)/∂W_h
    full_norm = float(np.linalg.norm(full))
    rows = []
    for i in range(1, T + 1):
        kept = terms[i - 1:].sum(axis=0)                                # i..T: truncation k = T-i+1
        norm = float(np.linalg.norm(terms[i - 1]))
        rows.append(ContributionRow(i, T - i, norm, norm / full_norm,
                                    float(np.linalg.norm(kept - full) / full_norm)))

    # the checks, computed now
    summed = sum(terms_t.sum(axis=0) for terms_t in all_terms) / T       # (1/T) Σ_t Σ_i
    sum_check = relative_error(summed, backward(params, cache)["W_h"])
    truncation_check = 0.0
    for k in range(1, T + 1):
        restricted = sum(terms_t[max(0, t - k):].sum(axis=0)
                         for t, terms_t in enumerate(all_terms, start=1)) / T
        truncated = backward(params, cache, truncation=k)["W_h"]
        truncation_check = max(truncation_check, relative_error(restricted, truncated))
    check = gradient_check(params, inputs, targets, max_entries=config.max_check_entries,
                           rng=np.random.default_rng([config.seed, 2]))
    checked = {name: min(p.size, config.max_check_entries) for name, p in params.items()}
    return BPTTReport(config, T, full_norm, rows, check, sum_check, truncation_check, checked)


def plot_bptt(report: BPTTReport, path: str | Path) -> None:
    """Two panels: contribution size against distance t - i, and truncation error against k;
    written atomically as a PNG."""
    from nextword.model import import_optional

    Figure = import_optional("matplotlib.figure").Figure   # no pyplot: no global backend or state
    from matplotlib.ticker import MaxNLocator

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise NextwordError(f"{path}: the plot is written as PNG; name a file ending in .png")
    fig = Figure(figsize=(10, 4), layout="constrained")      # renders with Agg for .png
    left, right = fig.subplots(1, 2)
    shown = [row for row in report.rows if row.norm > 0]      # i = 1 is 0 when h(0) = 0: no log
    left.semilogy([row.distance for row in shown], [row.norm for row in shown], "o-",
                  color="tab:blue")
    left.set_xlabel("distance t − i (steps back in time)")
    left.set_ylabel("‖∂J(t)/∂W_h |_(i)‖  (Frobenius)")
    left.set_title(f"Contribution of step i to ∂J(t)/∂W_h, t = {report.t}")
    left.grid(True, which="both", alpha=0.3)
    k = [row.distance + 1 for row in report.rows]
    kept = [(k_, row.truncation_error) for k_, row in zip(k, report.rows) if row.truncation_error > 0]
    right.semilogy([k_ for k_, _ in kept], [error for _, error in kept], "s-", color="tab:red")
    right.set_xlabel("truncation length k (steps kept)")
    right.set_ylabel("relative error of truncated ∂J(t)/∂W_h")
    right.set_title("Truncated BPTT: error of the last-k-steps sum")
    right.grid(True, which="both", alpha=0.3)
    for axes in (left, right):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    c = report.config
    fig.suptitle(f"Random Elman RNN: H = {c.hidden_dim}, d = {c.embedding_dim}, |V| = "
                 f"{c.vocab_size}, seed {c.seed}; gradient check {report.gradient_check_max:.1e}, "
                 f"sum check {report.sum_check:.1e}", fontsize=10)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=110)
    except OSError as error:
        raise NextwordError(f"{path}: cannot write the plot ({error.strerror})") from None
