"""ngram-size: the model grows with the corpus.

Modified Kneser–Ney 5-gram models of the first 1%, 3%, 10%, 30% and 100% of the training lines
of PTB and WikiText-2, without pruning and with count cut-offs (n-grams of order >= 3 seen once
dropped, KenLM's --prune 0 0 1 1 1): stored n-grams and bytes against training tokens, test
perplexity, and the growth law stored = a · N^b fitted by least squares in log-log space.

Decision rule, fixed before any run:
    Holds if, on every corpus, (a) the stored n-grams grow strictly with the training tokens
    without pruning, (b) the fitted exponent b of stored = a · N^b is at least 0.5 without pruning
    (growth close to proportional, not a saturating curve), and (c) with count cut-offs the model
    still grows strictly. Partly if some hold, does not hold if none does.
"""
from __future__ import annotations

import numpy as np

from nextword.evaluate import evaluate
from nextword.experiments.base import (Table, Verdict, decide, figure, load_splits, num_tokens,
                                       rule_of)
from nextword.experiments.ngram_common import array_bytes, count, fit, stored_ngrams
from nextword.ngram.kneser_ney import ModifiedKneserNey
from nextword.text.vocabulary import Vocabulary

NAME = "ngram-size"
CLAIM = "The n-gram model grows with the corpus."
EXPECTED = "15 s"
DEFAULT_BUDGET = None
ORDER = 5
FRACTIONS = (0.01, 0.03, 0.1, 0.3, 1.0)
PRUNE = (0, 0, 1, 1, 1)
RULE = rule_of(__doc__)


def run(settings) -> dict:
    rows = []
    for corpus in settings.corpus_names(("ptb", "wikitext-2")):
        splits = load_splits(corpus)
        for fraction in FRACTIONS:
            train = splits.train[: max(1, round(len(splits.train) * fraction))]
            vocab = Vocabulary.build(train)
            counts = count(train, vocab, ORDER)
            for pruned in (False, True):
                model = fit(counts, vocab, ORDER, ModifiedKneserNey(discount_fallback=True),
                            prune=PRUNE if pruned else None)
                rows.append({"corpus": corpus, "fraction": fraction, "pruned": pruned,
                             "train_tokens": num_tokens(train), "vocabulary": len(vocab),
                             "stored_ngrams": stored_ngrams(model), "bytes": array_bytes(model),
                             "test_perplexity": evaluate(model, splits.test).perplexity,
                             "test_perplexity_excluding_oov":
                                 evaluate(model, splits.test).perplexity_excluding_oov})
    return {"order": ORDER, "prune": list(PRUNE), "rows": rows, "laws": _laws(rows)}


def _laws(rows: list) -> list:
    """stored = a · N^b by least squares on (ln N, ln stored), per corpus and pruning."""
    laws = []
    for key in sorted({(r["corpus"], r["pruned"]) for r in rows}):
        series = [r for r in rows if (r["corpus"], r["pruned"]) == key]
        x = np.log([r["train_tokens"] for r in series])
        y = np.log([r["stored_ngrams"] for r in series])
        b, ln_a = np.polyfit(x, y, 1)
        laws.append({"corpus": key[0], "pruned": key[1], "a": float(np.exp(ln_a)), "b": float(b)})
    return laws


def verdict(numbers: dict) -> Verdict:
    rows, laws = numbers["rows"], numbers["laws"]

    def grows(corpus, pruned):
        s = sorted((r for r in rows if r["corpus"] == corpus and r["pruned"] == pruned),
                   key=lambda r: r["train_tokens"])
        return all(a["stored_ngrams"] < b["stored_ngrams"] for a, b in zip(s, s[1:]))

    corpora = sorted({r["corpus"] for r in rows})
    law = {(l["corpus"], l["pruned"]): l["b"] for l in laws}
    return decide([
        (all(grows(c, False) for c in corpora), "unpruned: stored n-grams grow with every step in "
                                                "corpus size on " + ", ".join(corpora)),
        (all(law[(c, False)] >= 0.5 for c in corpora),
         "fitted exponent b without pruning: " + ", ".join(f"{c}: {law[(c, False)]:.2f}" for c in corpora)),
        (all(grows(c, True) for c in corpora),
         "with cut-offs: still growing; exponent " + ", ".join(f"{c}: {law[(c, True)]:.2f}" for c in corpora)),
    ])


def tables(numbers: dict) -> list:
    table = Table(f"Modified Kneser–Ney {numbers['order']}-gram size against training tokens",
                  ["corpus", "share of train", "tokens", "vocabulary", "pruned", "stored n-grams",
                   "MB", "test ppl", "test ppl excl. OOV"])
    for r in numbers["rows"]:
        table.rows.append([r["corpus"], f"{100 * r['fraction']:g}%", r["train_tokens"], r["vocabulary"],
                           "yes" if r["pruned"] else "no", r["stored_ngrams"], r["bytes"] / 1e6,
                           r["test_perplexity"], r["test_perplexity_excluding_oov"]])
    laws = Table("Fitted growth law stored n-grams = a · N^b (N = training tokens)",
                 ["corpus", "pruned", "a", "b"])
    for l in numbers["laws"]:
        laws.rows.append([l["corpus"], "yes" if l["pruned"] else "no", l["a"], l["b"]])
    return [table, laws]


def plots(numbers: dict) -> list:
    fig, ax = figure(f"N-gram model size against corpus size ({numbers['order']}-gram, modified KN)",
                     "training tokens N (log scale)", "stored n-grams (log scale)")
    for i, law in enumerate(numbers["laws"]):
        series = sorted((r for r in numbers["rows"] if r["corpus"] == law["corpus"]
                         and r["pruned"] == law["pruned"]), key=lambda r: r["train_tokens"])
        x = np.array([r["train_tokens"] for r in series], dtype=float)
        label = f"{law['corpus']}{', pruned' if law['pruned'] else ''}"
        ax.plot(x, [r["stored_ngrams"] for r in series], "o" if not law["pruned"] else "s",
                color=f"C{i}", label=f"{label}: b = {law['b']:.2f}")
        ax.plot(x, law["a"] * x ** law["b"], "-", color=f"C{i}", alpha=0.6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.legend(title="points: measured; lines: a·N^b")
    return [("size.png", fig)]
