"""ngram-order: a larger n gives more coherent text, but a sparser and larger model.

For n = 1..7 and four estimators (Katz: MLE with backoff; add-δ; Kneser–Ney; modified
Kneser–Ney) we fit the training text and record valid/test perplexity, the stored n-grams and
the bytes of the stored arrays; the share of test n-grams never seen in training; and, for the
modified Kneser–Ney model of each order, 60 sampled sentences whose coherence is judged by a
small LSTM trained on the same text (perplexity of the samples under it: lower = more like
real text), with the share of the samples' 4-grams copied from the training text.

Decision rule, fixed before any run:
    Holds if all of: (a) larger: the stored n-grams and bytes grow strictly with n for every
    estimator; (b) sparser: the share of test n-grams never seen in training grows strictly with n;
    (c) more coherent: the LSTM judge's perplexity of the samples falls strictly from n = 1 to 2 to 3;
    (d) the return of a larger n diminishes: modified Kneser–Ney's test perplexity improves by less
    than 2% from n = 5 to n = 6. Partly if some hold, does not hold if none does.
"""
from __future__ import annotations

import numpy as np

from nextword.evaluate import evaluate
from nextword.experiments.base import (Table, Verdict, decide, figure, load_splits, relative_change,
                                       rule_of)
from nextword.experiments.ngram_common import array_bytes, count, fit, match_rows, stored_ngrams
from nextword.generate import SamplingConfig, generate
from nextword.ngram.counts import PaddedStream
from nextword.ngram.estimators import make_estimator
from nextword.text.vocabulary import Vocabulary

NAME = "ngram-order"
CLAIM = "A larger n gives more coherent text, but the model is sparser and larger (problems 3, 4)."
EXPECTED = "2 min"                     # 1.5 min of it training the LSTM judge
DEFAULT_BUDGET = 90.0                 # seconds of training for the LSTM that judges the samples
ORDERS = (1, 2, 3, 4, 5, 6, 7)
ESTIMATORS = {"katz": {}, "add-delta": {"delta": 0.25}, "kneser-ney": {"discount_fallback": True},
              "modified-kneser-ney": {"discount_fallback": True}}
SAMPLED_WITH = "modified-kneser-ney"
SAMPLES = {False: 60, True: 6}        # sentences per order: full run, smoke
RULE = rule_of(__doc__)


def run(settings) -> dict:
    corpus = settings.corpus_names()[0]
    splits = load_splits(corpus)
    vocab = Vocabulary.build(splits.train)
    counts = count(splits.train, vocab, max(ORDERS))
    m = match_rows(counts, PaddedStream.from_tokens(splits.test, vocab.index), max(ORDERS))
    judge = _train_judge(settings)
    rows = []
    for name, params in ESTIMATORS.items():
        estimator = make_estimator(name, **params)
        for n in ORDERS:
            model = fit(counts, vocab, n, estimator)
            row = {"estimator": name, "n": n,
                   "valid_perplexity": evaluate(model, splits.valid).perplexity,
                   "test_perplexity": evaluate(model, splits.test).perplexity,
                   "stored_ngrams": stored_ngrams(model), "bytes": array_bytes(model)}
            if name == SAMPLED_WITH:
                row.update(_samples(model, judge, counts, settings.seed + n, SAMPLES[settings.smoke]))
                history = m[n] != -2
                row["unseen_test_ngram_share"] = float((m[n][history] == -1).mean())
            rows.append(row)
    return {"corpus": corpus, "samples_per_order": SAMPLES[settings.smoke], "sampled_with": SAMPLED_WITH,
            "judge": judge["about"], "rows": rows}


def _train_judge(settings) -> dict:
    """A small LSTM trained on the same text: the judge of the samples' coherence."""
    from nextword.experiments.neural_common import (prepare, recurrent_config, scale_of,
                                                    train_config, train_run)
    from nextword.neural.model import NeuralLM

    scale = scale_of(settings)
    data = prepare(settings.corpus_names()[0])
    run = train_run(recurrent_config("lstm", data, scale), train_config(scale, settings.seed),
                    data, scale, settings.seconds(DEFAULT_BUDGET))
    about = {"model": "lstm", "train_seconds": run.train_seconds, "tokens": run.tokens,
             "valid_perplexity_slice": run.valid_perplexity, "parameters": run.parameters}
    return {"lm": NeuralLM(run.net, data.vocab, per_sentence=True), "about": about}


def _samples(model, judge, counts, seed, number) -> dict:
    sentences = generate(model, number, seed=seed, config=SamplingConfig(max_length=60))
    sentences = [s for s in sentences if s] or [["<unk>"]]
    stream = PaddedStream.from_tokens(sentences, model.vocab.index)
    m4 = match_rows(counts, stream, 4)[4]
    found = m4[m4 != -2]
    return {"sample_judge_perplexity": evaluate(judge["lm"], sentences).perplexity,
            "sample_mean_length": float(np.mean([len(s) for s in sentences])),
            "sample_4grams_from_training": float((found >= 0).mean()) if len(found) else float("nan"),
            "example": " ".join(sentences[0][:30])}


def verdict(numbers: dict) -> Verdict:
    rows = numbers["rows"]
    by = {}
    for r in rows:
        by.setdefault(r["estimator"], []).append(r)
    for series in by.values():
        series.sort(key=lambda r: r["n"])
    larger = all(all(a["stored_ngrams"] < b["stored_ngrams"] and a["bytes"] < b["bytes"]
                     for a, b in zip(s, s[1:])) for s in by.values())
    sampled = by[numbers["sampled_with"]]
    unseen = [r["unseen_test_ngram_share"] for r in sampled]
    sparser = all(a < b for a, b in zip(unseen, unseen[1:]))
    judge = {r["n"]: r["sample_judge_perplexity"] for r in sampled}
    coherent = judge[1] > judge[2] > judge[3]
    test = {r["n"]: r["test_perplexity"] for r in sampled}
    gain = relative_change(test[5], test[6])
    top = sampled[-1]
    return decide([
        (larger, f"stored n-grams from {sampled[0]['stored_ngrams']:,} (n=1) to "
                 f"{top['stored_ngrams']:,} (n={top['n']}), {top['bytes'] / 1e6:.1f} MB at n={top['n']}"),
        (sparser, "unseen test n-grams " + ", ".join(f"{100 * u:.1f}%" for u in unseen) + " for n = 1.."
                  + str(top["n"])),
        (coherent, "judge perplexity of samples " + ", ".join(f"n={n}: {p:.0f}" for n, p in judge.items())),
        (gain < 0.02, f"modified Kneser–Ney test perplexity {test[5]:.1f} (n=5) -> {test[6]:.1f} (n=6): "
                      f"{100 * gain:.2f}% better"),
    ])


def tables(numbers: dict) -> list:
    main = Table(f"Perplexity and size by order ({numbers['corpus']})",
                 ["estimator", "n", "valid ppl", "test ppl", "stored n-grams", "MB"])
    for r in numbers["rows"]:
        main.rows.append([r["estimator"], r["n"], r["valid_perplexity"], r["test_perplexity"],
                          r["stored_ngrams"], r["bytes"] / 1e6])
    judge = numbers["judge"]
    samples = Table(f"Samples of the {numbers['sampled_with']} model, judged by an LSTM "
                    f"(valid ppl {judge['valid_perplexity_slice']:.0f} on its slice, "
                    f"{judge['train_seconds']:.0f} s of training)",
                    ["n", "unseen test n-grams %", "judge ppl of samples", "mean length",
                     "sample 4-grams seen in training %", "first sample (30 words)"])
    for r in numbers["rows"]:
        if r["estimator"] == numbers["sampled_with"]:
            samples.rows.append([r["n"], 100 * r["unseen_test_ngram_share"],
                                 r["sample_judge_perplexity"], r["sample_mean_length"],
                                 100 * r["sample_4grams_from_training"], r["example"]])
    return [main, samples]


def plots(numbers: dict) -> list:
    by = {}
    for r in numbers["rows"]:
        by.setdefault(r["estimator"], []).append(r)
    fig, ax = figure(f"Test perplexity by order ({numbers['corpus']})", "order n",
                     "test perplexity (log scale)")
    for name, series in by.items():
        ax.plot([r["n"] for r in series], [r["test_perplexity"] for r in series], "o-", label=name)
    ax.set_yscale("log")
    ax.legend()
    fig2, ax2 = figure("Model size by order", "order n", "stored n-grams (log scale)")
    series = by[numbers["sampled_with"]]
    ax2.plot([r["n"] for r in series], [r["stored_ngrams"] for r in series], "o-", label="stored n-grams")
    ax2.set_yscale("log")
    twin = ax2.twinx()
    twin.plot([r["n"] for r in series], [r["bytes"] / 1e6 for r in series], "s--", color="C1",
              label="megabytes")
    twin.set_ylabel("stored arrays (MB)")
    ax2.legend(loc="upper left")
    twin.legend(loc="lower right")
    fig3, ax3 = figure("Coherence of sampled text by order", "order n",
                       "LSTM judge's perplexity of the samples")
    ax3.plot([r["n"] for r in series], [r["sample_judge_perplexity"] for r in series], "o-",
             label="judge perplexity (lower: more like real text)")
    twin3 = ax3.twinx()
    twin3.plot([r["n"] for r in series], [100 * r["sample_4grams_from_training"] for r in series],
               "s--", color="C1", label="4-grams copied from training (%)")
    twin3.set_ylabel("sample 4-grams seen in training (%)")
    ax3.legend(loc="upper left")
    twin3.legend(loc="lower right")
    return [("perplexity.png", fig), ("size.png", fig2), ("coherence.png", fig3)]
