"""window-size: the fixed-window model has no sparsity, but its window is too small and its W
grows with the window (no sharing of weights between positions).

Bengio's window model with windows of 1..8 words, each trained for the same time; then an
Elman RNN and an LSTM whose hidden size is chosen so that their parameter count matches the
window-4 model's, trained for the same time. Recorded: validation perplexity (on the first
4,000 validation tokens), parameters in total and in W (the hidden layer that reads the
window), tokens trained.

Decision rule, fixed before any run:
    Holds if all of: (a) W's parameters grow linearly with the window (the same increase
    per added word); (b) validation perplexity improves by more than 10% from window 1 to the best
    window (a short window is too small); (c) the better of the RNN and the LSTM, at the parameter
    count of the window-4 model and the same training time, reaches a lower validation perplexity
    than the best window model. Partly if some hold, does not hold if none does.
"""
from __future__ import annotations

from nextword.experiments.base import Table, Verdict, decide, figure, relative_change, rule_of
from nextword.experiments.neural_common import (per_run_seconds, prepare, recurrent_config,
                                                scale_of, train_config, train_run, window_config)

NAME = "window-size"
CLAIM = ("The fixed-window model has no sparsity problem, but a window is always too small, its "
         "W grows with the window, and no weights are shared between positions.")
EXPECTED = "11 min"
DEFAULT_BUDGET = 600.0
WINDOWS = (1, 2, 3, 4, 5, 6, 8)
SMOKE_WINDOWS = (1, 4)
MATCHED_WINDOW = 4
RULE = rule_of(__doc__)


def run(settings) -> dict:
    scale = scale_of(settings)
    data = prepare(settings.corpus_names()[0])
    windows = SMOKE_WINDOWS if settings.smoke else WINDOWS
    seconds = per_run_seconds(settings, DEFAULT_BUDGET, len(windows) + 2)
    config = train_config(scale, settings.seed)
    rows = []
    for window in windows:
        model = window_config(window, data, scale)
        run = train_run(model, config, data, scale, seconds)
        w_params = sum(p.numel() for p in run.net.hidden.parameters())
        rows.append({"model": "window", "window": window, "w_parameters": w_params,
                     **run.summary()})
    target = next(r["parameters"] for r in rows if r["window"] == MATCHED_WINDOW)
    for cell in ("rnn", "lstm"):
        hidden = _matching_hidden(cell, data, scale, target)
        run = train_run(recurrent_config(cell, data, scale, hidden_dim=hidden), config, data,
                        scale, seconds)
        rows.append({"model": cell, "window": None, "hidden_dim": hidden, **run.summary()})
    return {"corpus": data.corpus, "seconds_per_run": seconds, "embedding_dim": scale.embedding_dim,
            "hidden_dim": scale.hidden_dim, "matched_window": MATCHED_WINDOW, "rows": rows}


def _matching_hidden(cell: str, data, scale, target: int) -> int:
    """The hidden size whose recurrent model has the parameter count closest to `target`."""
    from nextword.neural.recurrent import build_net

    candidates = sorted({max(4, round(scale.hidden_dim * f)) for f in (0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3)})
    count = {h: build_net(recurrent_config(cell, data, scale, hidden_dim=h)).num_parameters()
             for h in candidates}
    return min(candidates, key=lambda h: abs(count[h] - target))


def verdict(numbers: dict) -> Verdict:
    windows = sorted((r for r in numbers["rows"] if r["model"] == "window"), key=lambda r: r["window"])
    steps = [(b["w_parameters"] - a["w_parameters"]) / (b["window"] - a["window"])
             for a, b in zip(windows, windows[1:])]
    best = min(windows, key=lambda r: r["valid_perplexity"])
    gain = relative_change(windows[0]["valid_perplexity"], best["valid_perplexity"])
    recurrent = [r for r in numbers["rows"] if r["model"] != "window"]
    rec = min(recurrent, key=lambda r: r["valid_perplexity"])
    return decide([
        (len(set(steps)) == 1, f"W gains {steps[0]:,.0f} parameters per word of window "
                               f"({windows[0]['w_parameters']:,} at window 1, "
                               f"{windows[-1]['w_parameters']:,} at window {windows[-1]['window']})"),
        (gain > 0.10, f"validation perplexity {windows[0]['valid_perplexity']:.1f} at window 1, "
                      f"best {best['valid_perplexity']:.1f} at window {best['window']} "
                      f"({100 * gain:.1f}% lower)"),
        (rec["valid_perplexity"] < best["valid_perplexity"],
         f"{rec['model']} (hidden {rec['hidden_dim']}, {rec['parameters']:,} parameters) "
         f"{rec['valid_perplexity']:.1f} against the best window model {best['valid_perplexity']:.1f} "
         f"({best['parameters']:,} parameters)"),
    ])


def tables(numbers: dict) -> list:
    table = Table(f"Window model against RNN and LSTM ({numbers['corpus']}, "
                  f"{numbers['seconds_per_run']:.0f} s of training each)",
                  ["model", "window", "parameters", "of which W", "tokens trained",
                   "tokens/s", "valid ppl"])
    for r in numbers["rows"]:
        label = r["model"] if r["model"] == "window" else f"{r['model']} (hidden {r['hidden_dim']})"
        table.rows.append([label, r["window"], r["parameters"], r.get("w_parameters"), r["tokens"],
                           r["tokens_per_second"], r["valid_perplexity"]])
    return [table]


def plots(numbers: dict) -> list:
    windows = sorted((r for r in numbers["rows"] if r["model"] == "window"), key=lambda r: r["window"])
    fig, ax = figure(f"Fixed-window model: window size ({numbers['corpus']}, equal time)",
                     "window (words of context)", "validation perplexity")
    ax.plot([r["window"] for r in windows], [r["valid_perplexity"] for r in windows], "o-",
            label="window model")
    for i, r in enumerate(r for r in numbers["rows"] if r["model"] != "window"):
        ax.axhline(r["valid_perplexity"], color=f"C{i + 1}", linestyle="--",
                   label=f"{r['model']}, {r['parameters'] / 1e6:.2f} M parameters")
    twin = ax.twinx()
    twin.plot([r["window"] for r in windows], [r["w_parameters"] / 1e3 for r in windows], "s:",
              color="grey", label="parameters of W (thousands)")
    twin.set_ylabel("parameters of W (thousands)")
    ax.legend(loc="upper right", fontsize=8)
    twin.legend(loc="lower left", fontsize=8)
    return [("window.png", fig)]
