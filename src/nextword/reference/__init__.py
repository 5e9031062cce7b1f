"""The NumPy RNN language model with backpropagation through time written by hand.

Its model type "numpy-rnn" is registered in `nextword.model.MODEL_TYPES`.
"""
from nextword.reference.model import NumpyRNNModel
from nextword.reference.rnn import (RNNConfig, backward, forward, hidden_gradients,
                                    wh_contributions)
from nextword.reference.train import TrainConfig, train_numpy_rnn

__all__ = ["NumpyRNNModel", "RNNConfig", "backward", "forward", "wh_contributions",
           "hidden_gradients", "TrainConfig", "train_numpy_rnn"]
