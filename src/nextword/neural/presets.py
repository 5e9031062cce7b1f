"""Named configurations, each after the setup it reproduces; CLI flags override their fields.

A preset is (model type, model-config fields, train-config fields). The `*-budget` presets are
ours: tuned for a 30-minute budget on a 2-core CPU (docs/neural.md, docs/benchmarks.md).
"""
from __future__ import annotations

from dataclasses import fields

from nextword.errors import NextwordError

PRESETS: dict[str, tuple[str, dict, dict]] = {
    # PyTorch's examples/word_language_model defaults: 2x200 LSTM, tied, dropout 0.2,
    # SGD lr 20 divided by 4 when validation stalls, clip 0.25, 35-step segments, batch 20
    "pytorch-example-lstm": (
        "lstm",
        dict(embedding_dim=200, hidden_dim=200, num_layers=2, dropout=0.2, tie=True, init="uniform"),
        dict(optimizer="sgd", lr=20.0, clip=0.25, bptt=35, batch_size=20, epochs=40,
             lr_factor=0.25, early_stop=0),
    ),
    # Zaremba, Sutskever & Vinyals 2014, "small": 2x200 LSTM, no dropout (test ppl 114.5)
    "zaremba-small": (
        "lstm",
        dict(embedding_dim=200, hidden_dim=200, num_layers=2, dropout=0.0, tie=False, init="uniform"),
        dict(optimizer="sgd", lr=1.0, clip=5.0, bptt=20, batch_size=20, epochs=13, lr_factor=0.5),
    ),
    # Zaremba et al. 2014, "medium": 2x650 LSTM, dropout 0.5 (test ppl 82.7; slow on a CPU)
    "zaremba-medium": (
        "lstm",
        dict(embedding_dim=650, hidden_dim=650, num_layers=2, dropout=0.5, tie=False, init="uniform"),
        dict(optimizer="sgd", lr=1.0, clip=5.0, bptt=35, batch_size=20, epochs=39, lr_factor=0.8),
    ),
    # Mikolov et al. 2010/2011 RNNLM: one Elman layer (test ppl 124.7 for the single model)
    "mikolov-rnn": (
        "rnn",
        dict(embedding_dim=200, hidden_dim=200, num_layers=1, dropout=0.0, tie=False),
        dict(optimizer="sgd", lr=1.0, clip=0.25, bptt=20, batch_size=20, epochs=20, lr_factor=0.5),
    ),
    # Bengio et al. 2003: 5-gram window (4 words of context), tanh hidden layer
    "bengio-window": (
        "window",
        dict(window=4, embedding_dim=100, hidden_dim=500, activation="tanh", dropout=0.0),
        dict(optimizer="sgd", lr=0.5, clip=1.0, bptt=100, batch_size=64, epochs=20, lr_factor=0.5),
    ),
    # ours, for a 30-minute budget on a 2-core CPU (docs/neural.md): bf16 matmuls, a sampled
    # softmax for the first 3/4 of the time, the full softmax for the last 1/4. Short runs
    # compared per token (docs/benchmarks.md) chose SGD for the LSTM, NAdamW for the others.
    # Cosine annealing over the budget for the recurrent models; the window model overfits
    # under it (163.30 against 141.96) and keeps the plateau schedule's early decay.
    "lstm-budget": (
        "lstm",
        dict(embedding_dim=400, hidden_dim=400, num_layers=2, dropout=0.4, tie=True),
        dict(optimizer="sgd", lr=20.0, clip=0.25, bptt=35, batch_size=32, epochs=1000,
             schedule="cosine", patience=0, early_stop=0, evals_per_epoch=1,
             softmax="sampled", num_samples=1024, full_softmax_final=0.25, precision="bf16"),
    ),
    # the Elman RNN's rate annealed over the budget (cosine): a plateau schedule halved it at
    # every epoch boundary (132.76); dropout 0.5 against its overfitting (0.35: 117.40)
    "rnn-budget": (
        "rnn",
        dict(embedding_dim=400, hidden_dim=400, num_layers=1, dropout=0.5, tie=True),
        dict(optimizer="nadamw", lr=2e-3, weight_decay=0.01, clip=0.25, bptt=35, batch_size=20,
             epochs=1000, schedule="cosine", patience=0, early_stop=0, evals_per_epoch=2,
             softmax="sampled", num_samples=1024, full_softmax_final=0.25, precision="bf16"),
    ),
    "window-budget": (
        "window",
        dict(window=6, embedding_dim=256, hidden_dim=512, activation="tanh", dropout=0.3, tie=True),
        dict(optimizer="nadamw", lr=2e-3, weight_decay=0.01, clip=1.0, bptt=35, batch_size=64,
             epochs=1000, lr_factor=0.5, patience=0, early_stop=0, evals_per_epoch=2,
             softmax="sampled", num_samples=1024, full_softmax_final=0.25, precision="bf16"),
    ),
}


# What `nextword train KIND` uses where no flag and no preset says otherwise (over the config
# dataclasses' own defaults); --help shows these. Each is its *-budget preset (the recipe that
# did best in a short CPU run, docs/benchmarks.md) in fp32, since bf16 autocast is fast only on
# CPUs with avx512_bf16 or AMX (--precision bf16 there), and with ordinary epochs, so that
# a run without --time-budget ends. The GRU, which has no budget preset, takes the LSTM's.
_SHORT_RUN = dict(softmax="sampled", num_samples=1024, full_softmax_final=0.25, patience=0,
                  bptt=35)
FAMILY_DEFAULTS: dict[str, tuple[dict, dict]] = {
    "window": (
        dict(window=6, embedding_dim=256, hidden_dim=512, activation="tanh", dropout=0.3, tie=True),
        dict(optimizer="nadamw", lr=2e-3, weight_decay=0.01, clip=1.0, batch_size=64,
             lr_factor=0.5, evals_per_epoch=2, **_SHORT_RUN),
    ),
    "rnn": (
        dict(embedding_dim=400, hidden_dim=400, num_layers=1, dropout=0.5, tie=True),
        dict(optimizer="nadamw", lr=2e-3, weight_decay=0.01, clip=0.25, batch_size=20,
             schedule="cosine", evals_per_epoch=2, **_SHORT_RUN),
    ),
    "lstm": (
        dict(embedding_dim=400, hidden_dim=400, num_layers=2, dropout=0.4, tie=True),
        dict(optimizer="sgd", lr=20.0, clip=0.25, batch_size=32, schedule="cosine",
             evals_per_epoch=1, **_SHORT_RUN),
    ),
}
FAMILY_DEFAULTS["gru"] = FAMILY_DEFAULTS["lstm"]


def family_defaults(kind: str) -> tuple[dict, dict]:
    """(model-config fields, train-config fields) of a family's default recipe."""
    model_fields, train_fields = FAMILY_DEFAULTS.get(kind, ({}, {}))
    return dict(model_fields), dict(train_fields)


def presets_of(kind: str) -> list[str]:
    return [name for name, (preset_kind, _, _) in PRESETS.items() if preset_kind == kind]


def preset_fields(kind: str, preset: str | None, overrides: dict) -> tuple[dict, dict]:
    """(model-config fields, train-config fields): the family's defaults, then the preset's, if
    any, then `overrides`, each sent to the config that has a field of its name."""
    from nextword.neural.config import TrainConfig

    model_fields, train_fields = family_defaults(kind)
    if preset:
        preset_kind, preset_model, preset_train = get_preset(preset)
        if preset_kind != kind:
            raise NextwordError(f"preset {preset} is a {preset_kind} model; use "
                                f"`nextword train {preset_kind}`")
        model_fields.update(preset_model)
        train_fields.update(preset_train)
    train_names = {f.name for f in fields(TrainConfig)}
    for name, value in overrides.items():
        (train_fields if name in train_names else model_fields)[name] = value
    return model_fields, train_fields


def get_preset(name: str) -> tuple[str, dict, dict]:
    if name not in PRESETS:
        raise NextwordError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    kind, model_fields, train_fields = PRESETS[name]
    return kind, dict(model_fields), dict(train_fields)
