"""Optimizers by name, and the schedule driven by validation perplexity (with early stopping).

    sgd      θ ← θ - η g                                   (weight decay as L2 in g)
    adagrad  θ ← θ - η g / sqrt(Σ g²)
    rmsprop  θ ← θ - η g / sqrt(E[g²])
    adam     Kingma & Ba 2015 (weight decay as L2 in g)
    adamw    Adam with decoupled weight decay θ ← θ - η λ θ (Loshchilov & Hutter 2019)
    nadamw   NAdam (Nesterov momentum in Adam, Dozat 2016) with decoupled weight decay
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from nextword.errors import NextwordError
from nextword.neural.config import OPTIMIZERS, check_choice



def check_optimizer(name: str) -> None:
    check_choice("optimizer", name, OPTIMIZERS)


def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """The optimizer called `name`, with learning rate η = `lr` and weight decay λ."""
    check_optimizer(name)
    if not lr > 0:
        raise NextwordError(f"learning rate must be > 0, got {lr}")
    if weight_decay < 0:
        raise NextwordError(f"weight decay must be >= 0, got {weight_decay}")
    params = list(params)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.NAdam(params, lr=lr, weight_decay=weight_decay, decoupled_weight_decay=True)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


@dataclass
class PlateauSchedule:
    """Validation-driven schedule: keep the best model; when validation perplexity has not
    improved for more than `patience` evaluations, multiply the learning rate by `factor`
    (the word_language_model example divides by 4 each time); stop early after `stop_after`
    evaluations without improvement (0: never) or when the rate falls below `min_lr`.

    >>> s = PlateauSchedule(lr=20.0, factor=0.25)
    >>> [s.update(p) for p in (300.0, 200.0, 210.0)], s.lr
    (['best', 'best', 'decay'], 5.0)
    """

    lr: float
    factor: float = 0.25
    patience: int = 0
    stop_after: int = 0
    min_lr: float = 0.0
    best: float = float("inf")
    bad: int = 0                    # evaluations since the last improvement
    since_decay: int = 0            # bad evaluations since the last decay
    history: list = field(default_factory=list)

    def update(self, valid_ppl: float) -> str:
        """Record one validation perplexity; return 'best', 'decay', 'stop' or 'wait'."""
        self.history.append(valid_ppl)
        if valid_ppl < self.best:
            self.best, self.bad, self.since_decay = valid_ppl, 0, 0
            return "best"
        self.bad += 1
        self.since_decay += 1
        if self.stop_after and self.bad >= self.stop_after:
            return "stop"
        if self.since_decay > self.patience and self.factor < 1:
            self.lr *= self.factor
            self.since_decay = 0
            return "stop" if self.lr < self.min_lr else "decay"
        return "wait"

    def state(self) -> dict:
        return {"lr": self.lr, "best": self.best, "bad": self.bad, "since_decay": self.since_decay,
                "history": list(self.history)}

    def restore(self, state: dict) -> None:
        self.lr, self.best, self.bad = float(state["lr"]), float(state["best"]), int(state["bad"])
        self.since_decay, self.history = int(state["since_decay"]), list(state["history"])
