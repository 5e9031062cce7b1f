"""rnn-vs-window: the RNN reads any length of history with the same weights.

A window model (4 words), an Elman RNN and an LSTM, trained for the same time, are scored on
the validation text with the state reset every k tokens (k = 1..100, and never): the text is
cut into chunks of k tokens, each read from the initial state, so a token sees at most the
previous tokens of its chunk. A model that uses distant words keeps improving as k grows; the
window model can gain nothing beyond k = window + 1.

Decision rule, fixed before any run:
    With k0 = window + 1 = 5 (the window model's whole context): holds if (a) the LSTM's
    and (b) the RNN's validation perplexity with resets every 100 tokens is at least 3% lower than
    with resets every 5 tokens, and (c) the window model's changes by less than 1% between the two.
    Partly if some hold, does not hold if none does.
"""
from __future__ import annotations

import math

import torch

from nextword.experiments.base import DOES_NOT_HOLD, HOLDS, PARTLY, Table, Verdict, figure, rule_of
from nextword.experiments.neural_common import (per_run_seconds, prepare, recurrent_config,
                                                scale_of, train_config, train_run, window_config)
from nextword.neural.model import target_logprobs

NAME = "rnn-vs-window"
CLAIM = "The RNN handles any length of history with the same weights; the window model cannot."
EXPECTED = "7 min"
DEFAULT_BUDGET = 360.0
WINDOW = 4
RESETS = (1, 2, 3, 5, 10, 20, 50, 100, None)          # None: never reset
EVAL_TOKENS = {False: 8_000, True: 300}
RULE = rule_of(__doc__)


@torch.inference_mode()
def reset_perplexity(net, stream, k: int | None) -> float:
    """Perplexity of a token stream read in chunks of k tokens, each from the initial state.

        stream x0 x1 x2 ... ; chunk j reads x[jk .. jk+k-1] and predicts x[jk+1 .. jk+k]
        all chunks run side by side as columns: (k, chunks)
    """
    inputs = torch.as_tensor(stream[:-1], dtype=torch.long)
    targets = torch.as_tensor(stream[1:], dtype=torch.long)
    k = k or len(targets)
    chunks = len(targets) // k
    x = inputs[: chunks * k].view(chunks, k).t()                        # (k, chunks)
    y = targets[: chunks * k].view(chunks, k).t()
    net.eval()
    logprobs, _ = target_logprobs(net, x, y, net.initial_state(chunks))
    return math.exp(-float(logprobs.double().mean()))


def run(settings) -> dict:
    scale = scale_of(settings)
    data = prepare(settings.corpus_names()[0])
    seconds = per_run_seconds(settings, DEFAULT_BUDGET, 3)
    config = train_config(scale, settings.seed)
    stream = data.valid[: EVAL_TOKENS[settings.smoke] + 1]
    models = {"window": window_config(WINDOW, data, scale),
              "rnn": recurrent_config("rnn", data, scale),
              "lstm": recurrent_config("lstm", data, scale)}
    rows = []
    for name, model in models.items():
        run = train_run(model, config, data, scale, seconds)
        for k in RESETS:
            rows.append({"model": name, "k": k, "valid_perplexity": reset_perplexity(run.net, stream, k),
                         "train_tokens": run.tokens, "parameters": run.parameters})
    return {"corpus": data.corpus, "window": WINDOW, "seconds_per_run": seconds,
            "eval_tokens": len(stream) - 1, "rows": rows}


def verdict(numbers: dict) -> Verdict:
    at = {(r["model"], r["k"]): r["valid_perplexity"] for r in numbers["rows"]}
    k0 = numbers["window"] + 1

    def gain(model):
        return (at[(model, k0)] - at[(model, 100)]) / at[(model, k0)]

    checks = [(gain("lstm") >= 0.03, "lstm"), (gain("rnn") >= 0.03, "rnn"),
              (abs(gain("window")) < 0.01, "window")]
    reasons = tuple(f"{'yes' if ok else 'no'}: {m}: {at[(m, k0)]:.1f} (reset every {k0}) -> "
                    f"{at[(m, 100)]:.1f} (every 100), {100 * gain(m):.1f}% lower" for ok, m in checks)
    passed = sum(ok for ok, _ in checks)
    return Verdict(HOLDS if passed == 3 else DOES_NOT_HOLD if passed == 0 else PARTLY, reasons)


def tables(numbers: dict) -> list:
    ks = [r["k"] for r in numbers["rows"] if r["model"] == "window"]
    at = {(r["model"], r["k"]): r["valid_perplexity"] for r in numbers["rows"]}
    table = Table(f"Validation perplexity with the state reset every k tokens ({numbers['corpus']}, "
                  f"first {numbers['eval_tokens']:,} tokens; {numbers['seconds_per_run']:.0f} s "
                  "of training each)", ["k", "window (4)", "RNN", "LSTM"])
    for k in ks:
        table.rows.append([k if k else "never", at[("window", k)], at[("rnn", k)], at[("lstm", k)]])
    return [table]


def plots(numbers: dict) -> list:
    fig, ax = figure(f"Perplexity when only the last k tokens can be seen ({numbers['corpus']})",
                     "k: state reset every k tokens (log scale)", "validation perplexity (log scale)")
    labels = {"window": f"window ({numbers['window']} words)", "rnn": "Elman RNN", "lstm": "LSTM"}
    for name, label in labels.items():
        series = [r for r in numbers["rows"] if r["model"] == name and r["k"]]
        ax.plot([r["k"] for r in series], [r["valid_perplexity"] for r in series], "o-", label=label)
    ax.axvline(numbers["window"] + 1, color="grey", linestyle=":", label="window + 1")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.legend()
    return [("reset.png", fig)]
