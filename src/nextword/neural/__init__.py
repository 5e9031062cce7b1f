"""Neural language models in PyTorch: the fixed-window model and recurrent models (Elman RNN,
LSTM, GRU), trained with truncated BPTT and served through the one LanguageModel interface.

Its model types "window", "rnn", "lstm" and "gru" are registered in `nextword.model.MODEL_TYPES`.
The names below are imported on first use, so `nextword.neural.config` (the choice lists and
configs the CLI reads) can be imported without PyTorch.
"""
from importlib import import_module

_EXPORTS = {
    "NeuralLM": "model", "RecurrentConfig": "config", "RecurrentNet": "recurrent",
    "WindowConfig": "config", "WindowNet": "window", "TrainConfig": "config",
    "TrainResult": "train", "build_net": "recurrent",
}
# `train()` is imported from `nextword.neural.train`: a lazily exported `train` here would be
# replaced by that submodule of the same name as soon as it is imported.
__all__ = list(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'nextword.neural' has no attribute {name!r}")
    return getattr(import_module(f"nextword.neural.{_EXPORTS[name]}"), name)
