"""What a neural model and its training are, without PyTorch: the choice lists, the frozen
configs and the registry of architectures.

The CLI reads its flags, choices and defaults from here, so `nextword train window --help`
and every n-gram command start without importing torch. The networks themselves live in
window.py and recurrent.py; `ARCHITECTURES` says where.
"""
from __future__ import annotations

from dataclasses import dataclass

from nextword.errors import NextwordError

# ---- the choice lists (one definition; the CLI and the checks below read them) --------------
OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "adamw", "nadamw")
INIT_SCHEMES = ("xavier", "xavier-normal", "uniform", "kaiming", "pytorch")
SCHEDULES = ("plateau", "cosine")
SOFTMAXES = ("full", "sampled")
PRECISIONS = ("fp32", "bf16")
ACTIVATIONS = ("tanh", "relu")
RECURRENT_CELLS = ("rnn", "lstm", "gru")
DEVICES = ("cpu", "cuda")


def check_choice(what: str, value: str, choices) -> None:
    if value not in choices:
        raise NextwordError(f"unknown {what} {value!r}; choose one of {', '.join(choices)}")


def parse_duration(text: str) -> float:
    """'90', '90s', '30m', '1.5h' -> seconds (a time budget as people write it)."""
    value = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        return float(value[:-1]) * units[value[-1]] if value[-1] in units else float(value)
    except (ValueError, IndexError):
        raise NextwordError(f"{text!r} is not a duration like 90s, 30m or 1.5h") from None


# ---- model configs ---------------------------------------------------------------------------
def check_sizes(config) -> None:
    """The checks every architecture's config shares: dropout and the sizes."""
    if not 0 <= config.dropout < 1:
        raise NextwordError(f"dropout must be in [0, 1), got {config.dropout}")
    for name in ("vocab_size", "embedding_dim", "hidden_dim"):
        if getattr(config, name) < 1:
            raise NextwordError(f"{name.replace('_', '-')} must be >= 1, got {getattr(config, name)}")
    check_choice("init scheme", config.init, INIT_SCHEMES)


@dataclass(frozen=True)
class WindowConfig:
    """Sizes of the fixed-window model (Bengio et al. 2003); `window` = n - 1 words of context."""

    vocab_size: int
    window: int = 4
    embedding_dim: int = 128
    hidden_dim: int = 512
    activation: str = "tanh"
    dropout: float = 0.0          # on the concatenated embeddings and on h
    tie: bool = False
    init: str = "xavier"

    kind = "window"               # class attribute: the model type written to model.json

    def __post_init__(self):
        if self.window < 1:
            raise NextwordError(f"window must be >= 1 word, got {self.window}")
        check_choice("activation", self.activation, ACTIVATIONS)
        check_sizes(self)


@dataclass(frozen=True)
class RecurrentConfig:
    """Sizes of a recurrent LM; `cell` is its model type: rnn (Elman, tanh), lstm or gru."""

    cell: str
    vocab_size: int
    embedding_dim: int = 200
    hidden_dim: int = 200
    num_layers: int = 2
    dropout: float = 0.2
    tie: bool = True
    init: str = "xavier"

    @property
    def kind(self) -> str:
        return self.cell

    def __post_init__(self):
        check_choice("recurrent cell", self.cell, RECURRENT_CELLS)
        if self.num_layers < 1:
            raise NextwordError(f"layers must be >= 1, got {self.num_layers}")
        check_sizes(self)


@dataclass(frozen=True)
class Architecture:
    """A registered neural architecture: its config class (torch-free, with defaults the CLI
    shows) and where its network class lives ("module:Class", imported when one is built)."""

    name: str
    config: type
    network: str | type         # "module:Class" (imported when built), or the class itself
    doc: str = ""

    def make_config(self, values: dict):
        """The frozen config from its JSON object (model.json) or from CLI flags."""
        if self.config is RecurrentConfig:
            return RecurrentConfig(**{**values, "cell": self.name})
        return self.config(**values)


# The architectures: type name -> Architecture. A new network is one file (its config and its
# nn.Module) plus one `register_architecture(...)` call; the CLI then offers
# `nextword train NAME`, and the model type is registered for loading.
ARCHITECTURES: dict[str, Architecture] = {
    "window": Architecture("window", WindowConfig, "nextword.neural.window:WindowNet",
                           "Bengio et al.'s fixed-window network"),
    "rnn": Architecture("rnn", RecurrentConfig, "nextword.neural.recurrent:RecurrentNet",
                        "Elman recurrent network"),
    "lstm": Architecture("lstm", RecurrentConfig, "nextword.neural.recurrent:RecurrentNet",
                         "long short-term memory network"),
    "gru": Architecture("gru", RecurrentConfig, "nextword.neural.recurrent:RecurrentNet",
                        "gated recurrent unit network"),
}


def register_architecture(name: str, config: type, network, doc: str = "") -> Architecture:
    """Add a neural architecture: `config` a frozen dataclass with `vocab_size` and a `kind`,
    `network` "module:Class" of a NeuralNet taking that config, or the class itself (see
    docs/extending.md). It is then a model type `load_model` reads and `nextword train NAME`."""
    from nextword.model import register

    ARCHITECTURES[name] = Architecture(name, config, network, doc)
    register(name, "nextword.neural.model:NeuralLM.load")
    return ARCHITECTURES[name]


def get_architecture(name: str) -> Architecture:
    if name not in ARCHITECTURES:
        raise NextwordError(f"unknown neural model type {name!r}; choose one of "
                            f"{', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[name]


def config_from_dict(type_name: str, values: dict):
    """The frozen config of a model type from its JSON object."""
    return get_architecture(type_name).make_config(values)


# ---- training config -------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainConfig:
    """How to train; saved in model.json and resume.pt."""

    optimizer: str = "sgd"
    lr: float = 20.0
    weight_decay: float = 0.0
    clip: float = 0.25                  # max global gradient norm; 0: no clipping
    batch_size: int = 20                # B parallel streams
    bptt: int = 100                     # T steps per segment (the lecture's 100)
    epochs: int = 40
    seed: int = 0
    time_budget: float | None = None    # seconds of wall clock, evaluations included
    schedule: str = "plateau"           # "cosine": η(f) = η0 (1 + cos πf) / 2 over the run
    lr_factor: float = 0.25             # plateau: lr *= factor when validation stops improving
    patience: int = 0                   # evaluations without improvement before that
    early_stop: int = 5                 # stop after this many without improvement (0: never)
    min_lr: float = 0.0                 # stop once the lr falls below this
    evals_per_epoch: int = 1
    eval_batch_size: int = 10           # validation runs as this many parallel streams
    softmax: str = "full"               # "sampled": sampled softmax while training
    num_samples: int = 1024             # negatives per step of the sampled softmax
    full_softmax_final: float = 0.0     # last fraction of training done with the full softmax
    precision: str = "fp32"             # "bf16": autocast matrix products to bfloat16
    device: str = "cpu"
    threads: int | None = None          # torch.set_num_threads during training; None: leave as is
    max_steps: int | None = None        # stop resumably after this many steps of this run

    def __post_init__(self):
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("softmax", self.softmax, SOFTMAXES)
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("schedule", self.schedule, SCHEDULES)
        checks = [
            (self.lr > 0, f"learning rate must be > 0, got {self.lr}"),
            (self.clip >= 0, f"clip must be >= 0 (0: off), got {self.clip}"),
            (self.batch_size >= 1, f"batch size must be >= 1, got {self.batch_size}"),
            (self.bptt >= 1, f"bptt must be >= 1, got {self.bptt}"),
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.time_budget is None or self.time_budget > 0,
             f"time budget must be > 0, got {self.time_budget}"),
            (0 < self.lr_factor <= 1, f"lr factor must be in (0, 1], got {self.lr_factor}"),
            (self.evals_per_epoch >= 1, f"evals per epoch must be >= 1, got {self.evals_per_epoch}"),
            (self.num_samples >= 1, f"num samples must be >= 1, got {self.num_samples}"),
            (0 <= self.full_softmax_final <= 1, "full-softmax-final must be in [0, 1]"),
        ]
        for ok, message in checks:
            if not ok:
                raise NextwordError(message)
