"""dropout: dropout prevents overfitting; at test time the lecture scales by (1 - p).

An LSTM large for its data (hidden and embedding 256, trained on the first 10% of the training
lines so that it can overfit within minutes) is trained for the same time with dropout p = 0,
0.2, 0.5 and 0.65 on its embeddings and outputs. Curves: validation perplexity and, with
dropout off, the perplexity of as many training tokens; the gap between them. Then, on the
trained p = 0.5 network's hidden outputs, the lecture's dropout (keep with probability 1 - p,
scale by 1 - p at test time, `nextword.neural.layers.lecture_dropout`) against PyTorch's
inverted dropout (scale by 1/(1 - p) while training), the output weights divided by (1 - p)
for the lecture's network: the largest difference between their outputs, with the same mask
while training and at test time.

Decision rule, fixed before any run:
    Holds if all of: (a) without dropout the model overfits: its final validation perplexity
    is at least 5% above its own minimum during the run; (b) with the best p > 0 the final validation
    perplexity is lower than without dropout; (c) the final gap (validation perplexity / training
    perplexity) shrinks as p grows (strictly, over p = 0, 0.2, 0.5, 0.65); (d) the lecture's
    test-time scaling and PyTorch's inverted dropout give the same outputs (largest relative
    difference below 1e-5, training and test). Partly if some hold, does not hold if none does.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from nextword.experiments.base import Table, Verdict, decide, figure, relative_change, rule_of
from nextword.experiments.neural_common import (per_run_seconds, prepare, recurrent_config,
                                                scale_of, train_config, train_run)
from nextword.neural.layers import lecture_dropout

NAME = "dropout"
CLAIM = "Dropout prevents overfitting; at test time the lecture scales activations by (1 - p)."
EXPECTED = "9 min"
DEFAULT_BUDGET = 480.0
PROBABILITIES = (0.0, 0.2, 0.5, 0.65)
TRAIN_FRACTION = 0.1
SIZE = {False: 256, True: 12}
RULE = rule_of(__doc__)


def _gap(r) -> float:
    last = r["curve"][-1]
    return last["valid_ppl"] / last["train_ppl"]


def compare_scalings(net, data, p: float, tokens: int = 256) -> dict:
    """The same network two ways: PyTorch's (decoder U, inverted dropout) and the lecture's
    (decoder U / (1 - p), dropout scaled at test time). Same mask: both draw it from one seed."""
    net.eval()
    inputs = torch.as_tensor(data.valid[: tokens], dtype=torch.long)[:, None]      # (T, 1)
    with torch.no_grad():
        h, _ = net.rnn(net.embedding(inputs), net.initial_state(1))                # (T, 1, H)
        U, b = net.decoder.weight, net.decoder.bias                                 # (V, H)
        U_lecture = U / (1 - p)
        with torch.random.fork_rng():                                               # leave the global RNG as it was
            torch.manual_seed(0)
            torch_train = F.linear(F.dropout(h, p, training=True), U, b)
            torch.manual_seed(0)
            mask = F.dropout(torch.ones_like(h), p, training=True) * (1 - p)        # m ∈ {0, 1}: the same draw
        lecture_train = F.linear(mask * h, U_lecture, b)                           # y = m ⊙ x
        torch_test = F.linear(h, U, b)                                              # inverted: nothing at test
        lecture_test = F.linear(lecture_dropout(h, p, training=False), U_lecture, b)   # (1 - p) x

    def rel(a, b):
        return float((a - b).abs().max() / b.abs().max())

    return {"p": p, "tokens": tokens, "kept_share": float(mask.mean()),
            "train_max_relative_difference": rel(lecture_train, torch_train),
            "test_max_relative_difference": rel(lecture_test, torch_test)}


def run(settings) -> dict:
    scale = scale_of(settings)
    data = prepare(settings.corpus_names()[0], TRAIN_FRACTION)
    seconds = per_run_seconds(settings, DEFAULT_BUDGET, len(PROBABILITIES))
    size = SIZE[settings.smoke]
    config = train_config(scale, settings.seed)
    rows, scaling = [], None
    for p in PROBABILITIES:
        model = recurrent_config("lstm", data, scale, embedding_dim=size, hidden_dim=size, dropout=p)
        run = train_run(model, config, data, scale, seconds, fit_curve=True)
        rows.append({"p": p, **run.summary()})
        if p == 0.5:
            scaling = compare_scalings(run.net, data, p)
    return {"corpus": data.corpus, "train_fraction": TRAIN_FRACTION, "train_tokens": len(data.train),
            "size": size, "seconds_per_run": seconds, "rows": rows, "scaling": scaling}


def verdict(numbers: dict) -> Verdict:
    rows = sorted(numbers["rows"], key=lambda r: r["p"])
    none = rows[0]
    lowest = min(p["valid_ppl"] for p in none["curve"])
    rise = none["valid_perplexity"] / lowest - 1
    best = min(rows[1:], key=lambda r: r["valid_perplexity"])
    gaps = [_gap(r) for r in rows]
    s = numbers["scaling"]
    worst = max(s["train_max_relative_difference"], s["test_max_relative_difference"])
    return decide([
        (rise >= 0.05, f"p = 0: final validation perplexity {none['valid_perplexity']:.1f}, "
                       f"{100 * rise:.1f}% above its minimum {lowest:.1f}"),
        (best["valid_perplexity"] < none["valid_perplexity"],
         f"best p = {best['p']}: {best['valid_perplexity']:.1f} against {none['valid_perplexity']:.1f} "
         f"({100 * relative_change(none['valid_perplexity'], best['valid_perplexity']):.1f}% lower)"),
        (all(a > b for a, b in zip(gaps, gaps[1:])),
         "validation / training perplexity at the end: " + ", ".join(f"p={r['p']}: {g:.2f}" for r, g in zip(rows, gaps))),
        (worst < 1e-5, f"lecture scaling against inverted dropout (p = {s['p']}): largest relative "
                       f"difference {s['train_max_relative_difference']:.1e} training, "
                       f"{s['test_max_relative_difference']:.1e} test"),
    ])


def tables(numbers: dict) -> list:
    table = Table(f"LSTM {numbers['size']}×{numbers['size']} on {numbers['train_tokens']:,} training tokens "
                  f"({100 * numbers['train_fraction']:g}% of {numbers['corpus']}), "
                  f"{numbers['seconds_per_run']:.0f} s each",
                  ["p", "train ppl (end)", "valid ppl (end)", "valid ppl (best)", "valid / train",
                   "epochs"])
    for r in numbers["rows"]:
        last = r["curve"][-1]
        table.rows.append([r["p"], last.get("train_ppl"), last["valid_ppl"],
                           min(p["valid_ppl"] for p in r["curve"]), _gap(r),
                           r["tokens"] / numbers["train_tokens"]])
    return [table]


def plots(numbers: dict) -> list:
    fig, ax = figure(f"Dropout: training and validation perplexity ({numbers['corpus']}, "
                     f"{100 * numbers['train_fraction']:g}% of train)", "training time (CPU seconds)",
                     "perplexity (log scale)")
    for i, r in enumerate(numbers["rows"]):
        ax.plot([p["train_s"] for p in r["curve"]], [p["valid_ppl"] for p in r["curve"]], "o-",
                color=f"C{i}", label=f"p = {r['p']}: validation")
        ax.plot([p["train_s"] for p in r["curve"]], [p["train_ppl"] for p in r["curve"]], "--",
                color=f"C{i}", alpha=0.7, label=f"p = {r['p']}: training")
    ax.set_yscale("log")
    ax.legend(fontsize=7, ncol=2)
    return [("curves.png", fig)]
