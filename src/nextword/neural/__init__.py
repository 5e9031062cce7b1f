"""Neural language models in PyTorch: the fixed-window model and recurrent models (Elman RNN,
LSTM, GRU), trained with truncated BPTT and served through the one LanguageModel interface.

Its model types "window", "rnn", "lstm" and "gru" are registered in `nextword.model.MODEL_TYPES`.
"""
from nextword.neural.model import NeuralLM
from nextword.neural.recurrent import RecurrentConfig, RecurrentNet, build_net
from nextword.neural.train import TrainConfig, TrainResult, train
from nextword.neural.window import WindowConfig, WindowNet

__all__ = ["NeuralLM", "RecurrentConfig", "RecurrentNet", "WindowConfig", "WindowNet",
           "TrainConfig", "TrainResult", "train", "build_net"]
