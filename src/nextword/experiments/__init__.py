"""The lecture's claims, measured: one small module per claim, registered here by name.

Each experiment module defines

    NAME, CLAIM         the CLI name and the lecture's claim, in a sentence
    EXPECTED            run time at the default budget on one idle core, as measured (for `--list`)
    DEFAULT_BUDGET      seconds of training the whole experiment may spend (None: no training)
    RULE                how the verdict is decided from the numbers, fixed before any run
    run(settings)       -> numbers (a JSON-able dict)
    verdict(numbers)    -> Verdict: holds / partly / does not hold, with the reasons
    tables(numbers)     -> [Table]  for results.md
    plots(numbers)      -> [(file name, matplotlib Figure)]

and `nextword.experiments.runner.run_experiment` writes results.json, results.md and the PNGs.
Modules are imported only when their experiment runs or is listed (torch is not imported by
the n-gram ones).
"""
from __future__ import annotations

import importlib

from nextword.errors import NextwordError

EXPERIMENTS: dict[str, str] = {
    "ngram-sparsity": "nextword.experiments.ngram_sparsity",
    "ngram-order": "nextword.experiments.ngram_order",
    "ngram-delta": "nextword.experiments.ngram_delta",
    "ngram-size": "nextword.experiments.ngram_size",
    "window-size": "nextword.experiments.window_size",
    "rnn-vs-window": "nextword.experiments.rnn_vs_window",
    "vanishing-gradient": "nextword.experiments.vanishing_gradient",
    "bptt-length": "nextword.experiments.bptt_length",
    "teacher-forcing": "nextword.experiments.teacher_forcing",
    "optimizers": "nextword.experiments.optimizers",
    "init": "nextword.experiments.init",
    "dropout": "nextword.experiments.dropout",
    "regularization": "nextword.experiments.regularization",
}


def get_experiment(name: str):
    """The module of experiment `name`, imported now."""
    if name not in EXPERIMENTS:
        raise NextwordError(f"unknown experiment {name!r}; choose one of {', '.join(EXPERIMENTS)} "
                            "(nextword experiment --list)")
    return importlib.import_module(EXPERIMENTS[name])
