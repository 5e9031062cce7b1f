"""teacher-forcing: feeding the true previous word avoids compounding errors.

Three ways to choose the word the LSTM reads at step t during training, for the same number of
updates: teacher forcing (always the true x(t)); the model's own sample (x(t) drawn from its
prediction ŷ(t-1), for every step after the first of a segment); scheduled sampling (Bengio et
al. 2015): the own sample with a probability that grows linearly from 0 to 0.5 over training.
The loss is always the true next word's; no gradient flows through a sampled input. The
teacher-forced run sets the number of updates (its share of the budget in time); the others,
slower per step (they need the full softmax at each step to sample), make as many updates.
Validation perplexity is measured with teacher forcing, as every perplexity is.

Decision rule, fixed before any run:
    After the same number of updates: holds if teacher forcing's validation perplexity is at
    least 10% lower than training on the model's own samples; partly if lower by less than 10%; does
    not hold otherwise. Scheduled sampling is reported beside them, not judged.
"""
from __future__ import annotations

import torch

from nextword.experiments.base import (DOES_NOT_HOLD, HOLDS, PARTLY, Table, Verdict, figure,
                                       relative_change, rule_of)
from nextword.experiments.neural_common import (prepare, recurrent_config, scale_of, train_config,
                                                train_run)
from nextword.neural.train import descend

NAME = "teacher-forcing"
CLAIM = "Feeding the true previous word while training (teacher forcing) avoids compounding errors."
EXPECTED = "32 min"
DEFAULT_BUDGET = 300.0
TEACHER_SHARE = 0.25                     # of the budget: the teacher-forced run's time
ARMS = {"teacher forcing": lambda f: 0.0,
        "own samples": lambda f: 1.0,
        "scheduled sampling": lambda f: 0.5 * f}      # share of own samples at training fraction f
RULE = rule_of(__doc__)


def sampling_step(own_share):
    """A training step whose inputs after the first are, per column and step, the model's own
    sample from ŷ(t-1) with probability own_share(f), else the true token (f: training done)."""

    def step(net, optimizer, inputs, targets, state, loss_fn, fraction, clip):
        share = own_share(fraction)
        state = net.detach(state)           # truncate: no gradient into the previous segment
        if share == 0:
            features, state = net(inputs, state)                            # (T, B, d)
        else:
            pieces, x = [], inputs[:1]
            for t in range(inputs.size(0)):
                if t > 0:
                    with torch.no_grad():                                   # a sample is an input, not a path
                        probs = torch.softmax(net.logits(pieces[-1][0].detach()).float(), -1)   # (B, V)
                        sample = torch.multinomial(probs, 1).t()            # (1, B)
                    own = torch.rand(1, inputs.size(1)) < share
                    x = torch.where(own, sample, inputs[t: t + 1])
                feature, state = net(x, state)                             # (1, B, d)
                pieces.append(feature)
            features = torch.cat(pieces)                                   # (T, B, d)
        loss = loss_fn(net, features, targets)
        return descend(net, optimizer, loss, clip), state

    return step


def run(settings) -> dict:
    scale = scale_of(settings)
    data = prepare(settings.corpus_names()[0])
    model = recurrent_config("lstm", data, scale)
    config = train_config(scale, settings.seed)
    rows, steps = [], None
    for name, share in ARMS.items():
        run = train_run(model, config, data, scale, settings.seconds(DEFAULT_BUDGET) * TEACHER_SHARE,
                        step=sampling_step(share), steps=steps)
        steps = steps or run.steps                  # the others make as many updates
        rows.append({"arm": name, **run.summary()})
    return {"corpus": data.corpus, "updates": steps, "rows": rows}


def verdict(numbers: dict) -> Verdict:
    at = {r["arm"]: r["valid_perplexity"] for r in numbers["rows"]}
    gain = relative_change(at["own samples"], at["teacher forcing"])
    outcome = HOLDS if gain >= 0.10 else PARTLY if gain > 0 else DOES_NOT_HOLD
    return Verdict(outcome, (
        f"after {numbers['updates']:,} updates: teacher forcing {at['teacher forcing']:.1f}, own samples "
        f"{at['own samples']:.1f} ({100 * gain:.1f}% lower with teacher forcing)",
        f"scheduled sampling (own share 0 -> 0.5): {at['scheduled sampling']:.1f}"))


def tables(numbers: dict) -> list:
    table = Table(f"Inputs while training the LSTM ({numbers['corpus']}, {numbers['updates']:,} updates each)",
                  ["inputs", "valid ppl", "tokens trained", "training seconds", "tokens/s"])
    for r in numbers["rows"]:
        table.rows.append([r["arm"], r["valid_perplexity"], r["tokens"], r["train_seconds"], r["tokens_per_second"]])
    return [table]


def plots(numbers: dict) -> list:
    fig, ax = figure(f"Teacher forcing against the model's own samples ({numbers['corpus']})",
                     "training tokens", "validation perplexity (log scale)")
    for r in numbers["rows"]:
        ax.plot([p["tokens"] for p in r["curve"]], [p["valid_ppl"] for p in r["curve"]], "o-", label=r["arm"])
    ax.set_yscale("log")
    ax.legend()
    return [("curves.png", fig)]
