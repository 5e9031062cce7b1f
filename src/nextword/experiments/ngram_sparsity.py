"""ngram-sparsity: how often a test n-gram, or its context, never occurred in training.

The lecture's problems 1 and 2 of the n-gram model: an n-gram never seen in training gets
probability 0 under maximum likelihood; a context never seen leaves P(w | h) = 0/0 undefined.
For n = 1..6 we count, over the predicted positions of the test text that have n-1 words of
history inside their sentence (<s> counts as a word of history), the share whose n-gram and
the share whose (n-1)-word context never occur in the training text; then score the test text
with MLE (unseen contexts backing off, so that only problem 1 is left), add-δ (δ = 0.25) and
interpolated Kneser–Ney (backoff), and report each perplexity and the share of test tokens
that MLE gives probability 0.

Decision rule, fixed before any run:
    Holds if (a) for every n >= 2 a positive share of the test n-grams never occurs in
    training and MLE (unseen contexts backing off) gives a positive share of the test tokens
    probability 0, so its test perplexity is infinite; (b) the share of unseen contexts is positive for every n >= 3 and grows
    with n; (c) add-δ (0.25) and Kneser–Ney backoff both give a finite test perplexity at every n.
    Partly if some of (a)-(c) hold, does not hold if none does.
"""
from __future__ import annotations

import math

import numpy as np

from nextword.evaluate import evaluate
from nextword.experiments.base import (Table, Verdict, decide, figure, load_splits, num_tokens,
                                       rule_of)
from nextword.experiments.ngram_common import count, fit, match_rows
from nextword.ngram.counts import PaddedStream
from nextword.ngram.estimators import MLE, AddDelta
from nextword.ngram.kneser_ney import KneserNey
from nextword.text.vocabulary import Vocabulary

NAME = "ngram-sparsity"
CLAIM = ("An unseen n-gram gets probability 0 (problem 1); an unseen context leaves P "
         "undefined (problem 2).")
EXPECTED = "10 s"
DEFAULT_BUDGET = None
ORDERS = (1, 2, 3, 4, 5, 6)
DELTA = 0.25
RULE = rule_of(__doc__)


def run(settings) -> dict:
    corpus = settings.corpus_names()[0]
    splits = load_splits(corpus)
    vocab = Vocabulary.build(splits.train)
    counts = count(splits.train, vocab, max(ORDERS))
    stream = PaddedStream.from_tokens(splits.test, vocab.index)
    m = match_rows(counts, stream, max(ORDERS))
    predicted = np.ones(len(stream), dtype=bool)
    predicted[stream.starts] = False                              # <s> is never predicted
    rows = []
    for n in ORDERS:
        has_history = predicted & (m[n] != -2)                     # n-1 words back inside the sentence
        unseen_ngram = has_history & (m[n] == -1)
        context = np.concatenate([[0], m[n - 1][:-1]]) if n > 1 else np.zeros(len(stream))
        unseen_context = has_history & (context == -1) if n > 1 else np.zeros(len(stream), bool)
        mle = fit(counts, vocab, n, MLE())
        logprobs = np.concatenate(list(mle.sentence_logprobs(vocab.encode(s) for s in splits.test)))
        rows.append({
            "n": n, "positions": int(has_history.sum()),
            "unseen_ngram_share": float(unseen_ngram.sum() / has_history.sum()),
            "unseen_context_share": float(unseen_context.sum() / has_history.sum()),
            "unseen_ngram_seen_context_share": float((unseen_ngram & ~unseen_context).sum()
                                                     / has_history.sum()),
            "mle_zero_prob_share": float(np.isneginf(logprobs).mean()),
            "mle_perplexity": evaluate(mle, splits.test).perplexity,
            "add_delta_perplexity": evaluate(fit(counts, vocab, n, AddDelta(DELTA)), splits.test).perplexity,
            "kneser_ney_perplexity": evaluate(fit(counts, vocab, n, KneserNey(discount_fallback=True)),
                                              splits.test).perplexity,
        })
    return {"corpus": corpus, "delta": DELTA, "train_tokens": num_tokens(splits.train),
            "test_tokens": int(predicted.sum()), "vocabulary": len(vocab), "orders": rows}


def verdict(numbers: dict) -> Verdict:
    rows = {r["n"]: r for r in numbers["orders"]}
    high = [r for n, r in rows.items() if n >= 2]
    a = all(r["unseen_ngram_share"] > 0 and r["mle_perplexity"] == math.inf
            and r["mle_zero_prob_share"] > 0 for r in high)
    contexts = [rows[n]["unseen_context_share"] for n in sorted(rows) if n >= 3]
    b = all(c > 0 for c in contexts) and all(x < y for x, y in zip(contexts, contexts[1:]))
    c = all(math.isfinite(r["add_delta_perplexity"]) and math.isfinite(r["kneser_ney_perplexity"])
            for r in rows.values())
    shares = ", ".join(f"n={n}: {100 * r['unseen_ngram_share']:.1f}%" for n, r in rows.items())
    ctx = ", ".join(f"n={n}: {100 * rows[n]['unseen_context_share']:.1f}%" for n in sorted(rows) if n >= 2)
    best_kn = min(rows.values(), key=lambda r: r["kneser_ney_perplexity"])
    return decide([
        (a, f"unseen test n-grams {shares}; MLE perplexity infinite for every n >= 2"),
        (b, f"unseen contexts {ctx}, growing with n"),
        (c, f"add-δ and Kneser–Ney finite at every n (best KN: n={best_kn['n']}, "
            f"{best_kn['kneser_ney_perplexity']:.1f})"),
    ])


def tables(numbers: dict) -> list:
    table = Table(f"Test n-grams of {numbers['corpus']} never seen in training, and perplexity",
                  ["n", "positions", "unseen n-gram %", "unseen context %", "MLE P=0 %",
                   "MLE ppl", f"add-δ ({numbers['delta']}) ppl", "Kneser–Ney ppl"])
    for r in numbers["orders"]:
        table.rows.append([r["n"], r["positions"], 100 * r["unseen_ngram_share"],
                           100 * r["unseen_context_share"], 100 * r["mle_zero_prob_share"],
                           r["mle_perplexity"], r["add_delta_perplexity"], r["kneser_ney_perplexity"]])
    return [table]


def plots(numbers: dict) -> list:
    rows = numbers["orders"]
    n = [r["n"] for r in rows]
    fig, ax = figure(f"Sparsity of n-grams ({numbers['corpus']} test against train)",
                     "order n", "share of test positions (%)")
    ax.plot(n, [100 * r["unseen_ngram_share"] for r in rows], "o-", label="n-gram never seen")
    ax.plot(n, [100 * r["unseen_context_share"] for r in rows], "s-", label="context never seen")
    ax.plot(n, [100 * r["mle_zero_prob_share"] for r in rows], "^--", label="P = 0 under MLE")
    ax.set_ylim(0, 100)
    ax.legend()
    fig2, ax2 = figure(f"Test perplexity by order ({numbers['corpus']})", "order n",
                       "test perplexity (log scale)")
    ax2.plot(n, [r["add_delta_perplexity"] for r in rows], "o-", label=f"add-δ, δ = {numbers['delta']}")
    ax2.plot(n, [r["kneser_ney_perplexity"] for r in rows], "s-", label="Kneser–Ney (backoff)")
    ax2.set_yscale("log")
    ax2.legend(title="MLE: infinite for n >= 2")
    return [("sparsity.png", fig), ("perplexity.png", fig2)]
