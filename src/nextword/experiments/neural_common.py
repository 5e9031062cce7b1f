"""Training runs the neural experiments share: a small model, a fixed time (or, in smoke mode,
step) budget, and a learning curve sampled at fixed fractions of that budget.

The step itself is the library's (`nextword.neural.train.train_step`: truncated BPTT, clipping,
the sampled or full softmax) and so are the networks, optimizers and batching; what is added
here is what an equal-time comparison needs and the Trainer does not give: curves against
training seconds (evaluation time excluded, so each run gets the same compute), evaluation on
a fixed slice of the validation text, nothing written to disk, and a hook to replace the
step (teacher forcing against the model's own samples).

Seconds are CPU seconds of this process (`time.process_time`), not wall-clock: on a machine
shared with other jobs, equal budgets then mean equal compute, whatever the load. With one
torch thread (`--threads 1`) a CPU second is a second of one core.
"""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Callable

import numpy as np
import torch

from nextword.experiments.base import load_splits
from nextword.neural.batching import batchify, segments, token_stream
from nextword.neural.optim import make_optimizer
from nextword.neural.recurrent import RecurrentConfig, build_net
from nextword.neural.train import (SampledSoftmax, TrainConfig, full_softmax_loss,
                                   stream_perplexity, train_step)
from nextword.neural.window import WindowConfig
from nextword.text.vocabulary import Vocabulary


@dataclass(frozen=True)
class Scale:
    """Model sizes and run lengths: FULL for real runs, SMOKE for a seconds-long check."""

    embedding_dim: int
    hidden_dim: int
    batch_size: int
    bptt: int
    num_samples: int            # negatives of the sampled softmax while training
    eval_tokens: int            # validation (and training-fit) slice used for every curve point
    evals: int                  # curve points per run, besides the one at step 0
    steps: int | None = None    # smoke: a run is this many steps, not a time budget


FULL = Scale(embedding_dim=128, hidden_dim=128, batch_size=32, bptt=35, num_samples=512,
             eval_tokens=4_000, evals=5)
SMOKE = Scale(embedding_dim=12, hidden_dim=12, batch_size=4, bptt=8, num_samples=16,
              eval_tokens=300, evals=1, steps=3)


def scale_of(settings) -> Scale:
    return SMOKE if settings.smoke else FULL


@dataclass(frozen=True)
class Data:
    """Token streams (batching.token_stream convention) of one corpus, and its vocabulary."""

    corpus: str
    vocab: Vocabulary
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray

    def eval_batch(self, stream: np.ndarray, tokens: int, streams: int = 10) -> torch.Tensor:
        """The first `tokens` tokens of a stream as (L, B) columns for stream_perplexity."""
        part = stream[: tokens + 1]
        return batchify(part, max(1, min(streams, len(part) // 4)))


@lru_cache(maxsize=4)
def prepare(corpus: str, train_fraction: float = 1.0) -> Data:
    """Streams of a corpus; `train_fraction` keeps the first share of the training lines (a
    small training set a model can overfit within minutes)."""
    splits = load_splits(corpus)
    train = splits.train[: max(1, round(len(splits.train) * train_fraction))]
    vocab = Vocabulary.build(splits.train)       # the same vocabulary whatever the fraction

    def stream(sentences):
        return token_stream(vocab.encode(s) for s in sentences)

    return Data(corpus, vocab, stream(train), stream(splits.valid), stream(splits.test))


def recurrent_config(cell: str, data: Data, scale: Scale, **fields) -> RecurrentConfig:
    base = dict(embedding_dim=scale.embedding_dim, hidden_dim=scale.hidden_dim, num_layers=1,
                dropout=0.0, tie=True, init="xavier")
    return RecurrentConfig(cell, len(data.vocab), **{**base, **fields})


def window_config(window: int, data: Data, scale: Scale, **fields) -> WindowConfig:
    base = dict(embedding_dim=scale.embedding_dim, hidden_dim=scale.hidden_dim, dropout=0.0,
                tie=True, activation="tanh")
    return WindowConfig(len(data.vocab), window, **{**base, **fields})


def train_config(scale: Scale, seed: int, **fields) -> TrainConfig:
    """Adam at 1e-3 with clipping at 1; the sampled softmax for the first 3/4 of the run and the
    full softmax for the last 1/4, as the library's budget presets do (the sampled softmax alone
    left the full-softmax perplexity rising at 3e-3 and stalled at 1e-3 in runs of seconds)."""
    base = dict(optimizer="adam", lr=1e-3, clip=1.0, batch_size=scale.batch_size, bptt=scale.bptt,
                seed=seed, softmax="sampled", num_samples=scale.num_samples, early_stop=0,
                full_softmax_final=0.25)
    return TrainConfig(**{**base, **fields})


@dataclass
class Run:
    """What one training run leaves: its curve, final numbers and the trained network."""

    curve: list = field(default_factory=list)   # dicts: step, tokens, train_s, loss, valid_ppl, ...
    valid_perplexity: float = math.nan          # on the evaluation slice, at the end
    steps: int = 0
    tokens: int = 0
    train_seconds: float = 0.0
    diverged: bool = False
    parameters: int = 0
    recipe: dict = field(default_factory=dict)  # the TrainConfig and model config of the run
    net: torch.nn.Module | None = None

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.train_seconds if self.train_seconds else 0.0

    def summary(self) -> dict:
        return {"valid_perplexity": self.valid_perplexity, "steps": self.steps,
                "tokens": self.tokens, "train_seconds": round(self.train_seconds, 2),
                "tokens_per_second": round(self.tokens_per_second, 1), "diverged": self.diverged,
                "parameters": self.parameters, "recipe": self.recipe, "curve": self.curve}


Step = Callable   # (net, optimizer, inputs, targets, state, loss_fn, fraction) -> (J, state)


def library_step(net, optimizer, inputs, targets, state, loss_fn, fraction, clip):
    return train_step(net, optimizer, inputs, targets, state, loss_fn, contextlib.nullcontext(), clip)


def train_run(model_config, config: TrainConfig, data: Data, scale: Scale, seconds: float,
              step: Step | None = None, prepare_net: Callable | None = None,
              fit_curve: bool = False, steps: int | None = None) -> Run:
    """Train for `seconds` of training-step time (or `steps` steps; smoke: `scale.steps`), evaluating on
    the validation slice (and, with `fit_curve`, on as many training tokens) at step 0 and at
    `scale.evals` evenly spaced points. A non-finite loss stops the run as diverged."""
    torch.manual_seed(config.seed)                     # initial weights, dropout masks
    net = build_net(model_config)
    if prepare_net is not None:
        prepare_net(net)                               # e.g. another initialisation
    optimizer = make_optimizer(config.optimizer, net.parameters(), config.lr, config.weight_decay)
    counts = np.bincount(data.train, minlength=len(data.vocab))
    sampler = SampledSoftmax(counts, config.num_samples,
                             torch.Generator().manual_seed(config.seed + 1), "cpu")
    sampled_until = 1 - config.full_softmax_final if config.softmax == "sampled" else 0.0
    step = step or library_step
    batches = batchify(data.train, config.batch_size)                     # (L, B)
    valid = data.eval_batch(data.valid, scale.eval_tokens)
    fit = data.eval_batch(data.train, scale.eval_tokens) if fit_curve else None
    run = Run(parameters=sum(p.numel() for p in net.parameters()),
              recipe={"model": {"kind": model_config.kind, **asdict(model_config)},
                      "train": asdict(config), "seconds": seconds, "steps": scale.steps or steps})
    loss_sum = loss_count = 0.0

    steps = scale.steps or steps

    def progress() -> float:
        return run.steps / steps if steps else run.train_seconds / seconds

    def record(fraction: float) -> None:
        nonlocal loss_sum, loss_count
        point = {"step": run.steps, "tokens": run.tokens, "train_s": round(run.train_seconds, 3),
                 "loss": loss_sum / loss_count if loss_count else math.nan,
                 "valid_ppl": stream_perplexity(net, valid)}
        if fit is not None:
            point["train_ppl"] = stream_perplexity(net, fit)
        run.curve.append(point)
        loss_sum = loss_count = 0.0

    record(0.0)
    next_eval = 1
    state = net.initial_state(config.batch_size)
    net.train()
    while progress() < 1 and not run.diverged:
        for inputs, targets in segments(batches, config.bptt):          # (T, B), (T, B)
            loss_fn = sampler.loss if progress() < sampled_until else full_softmax_loss
            start = time.process_time()
            value, state = step(net, optimizer, inputs, targets, state, loss_fn, progress(),
                                config.clip)
            run.train_seconds += time.process_time() - start
            run.steps += 1
            run.tokens += targets.numel()
            if not math.isfinite(value):
                run.diverged = True
                break
            loss_sum += value * targets.numel()
            loss_count += targets.numel()
            if progress() >= next_eval / scale.evals:
                record(progress())
                next_eval += 1
            if progress() >= 1:
                break
        state = net.initial_state(config.batch_size)                    # a new pass
    if run.diverged:
        run.curve.append({"step": run.steps, "tokens": run.tokens,
                          "train_s": round(run.train_seconds, 3), "loss": math.inf,
                          "valid_ppl": math.inf})
    elif run.curve[-1]["step"] != run.steps:
        record(1.0)
    run.valid_perplexity = run.curve[-1]["valid_ppl"]
    run.net = net.eval()
    return run


def per_run_seconds(settings, default_budget: float, runs: int) -> float:
    """Each run's share of the experiment's training budget."""
    return settings.seconds(default_budget) / runs


def with_seed(config: TrainConfig, seed: int) -> TrainConfig:
    return replace(config, seed=seed)
