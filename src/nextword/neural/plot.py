"""The training curve: training and validation perplexity against epochs, as a PNG."""
from __future__ import annotations

from pathlib import Path

from nextword.fileio import atomic_path

PLOT_FILE = "perplexity.png"


def write_plot(path: Path, history: list, title: str) -> None:
    """Written atomically. matplotlib's Figure, not pyplot: no global backend or figure state
    is touched, so a caller's own matplotlib setup is left as it was."""
    from nextword.model import import_optional

    Figure = import_optional("matplotlib.figure").Figure
    epochs = [r["epoch"] for r in history]
    fig = Figure(figsize=(6, 4), layout="constrained")         # renders with Agg for .png
    ax = fig.subplots()
    ax.plot(epochs, [r["train_perplexity"] for r in history], "o-", label="training (running)")
    ax.plot(epochs, [r["valid_perplexity"] for r in history], "s-", label="validation")
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel("perplexity")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
