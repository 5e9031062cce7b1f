import math

import pytest
import torch
from torch import nn

from nextword.errors import NextwordError
from nextword.neural.layers import init_weights, lecture_dropout
from nextword.neural.recurrent import RecurrentConfig, build_net
from nextword.neural.window import WindowConfig


def test_xavier_variance_of_a_linear_layer():
    """Var(W) = 2 / (n_in + n_out) = 2 / (300 + 500) = 0.0025; 150,000 draws of a uniform give
    a sample variance within ~0.4% (sd of s² ≈ σ² · sqrt(0.8 / n)); allow 3%."""
    torch.manual_seed(0)
    layer = nn.Linear(300, 500)
    init_weights(layer, "xavier")
    assert layer.weight.var().item() == pytest.approx(2 / (300 + 500), rel=0.03)
    assert layer.weight.abs().max().item() <= math.sqrt(6 / 800)      # U(-a, a)
    assert layer.bias.abs().max().item() == 0


def test_xavier_per_gate_in_an_lstm():
    """weight_hh_l0 is (4H, H) = 4 gates of (H, H): each gate Var = 2 / (H + H) = 1 / H."""
    torch.manual_seed(0)
    net = build_net(RecurrentConfig("lstm", 50, embedding_dim=100, hidden_dim=200, num_layers=1))
    for gate in net.rnn.weight_hh_l0.chunk(4):
        assert gate.var().item() == pytest.approx(1 / 200, rel=0.03)
    for gate in net.rnn.weight_ih_l0.chunk(4):                         # (H, m) = (200, 100)
        assert gate.var().item() == pytest.approx(2 / 300, rel=0.03)


def test_other_init_schemes_and_unknown_one():
    torch.manual_seed(0)
    layer = nn.Linear(400, 400)
    init_weights(layer, "uniform")
    assert layer.weight.var().item() == pytest.approx(0.01 / 3, rel=0.03)    # U(-0.1, 0.1)
    init_weights(layer, "kaiming")
    assert layer.weight.var().item() == pytest.approx(2 / 400, rel=0.03)
    with pytest.raises(NextwordError, match="unknown init scheme 'orthogonal'"):
        init_weights(layer, "orthogonal")


def test_lecture_and_pytorch_dropout_give_the_same_network():
    """Lecture: y = W (m ⊙ x) in training, W (1 - p) x at test. PyTorch with W' = W (1 - p):
    y = W' (m ⊙ x) / (1 - p) = W (m ⊙ x) in training, W' x = W (1 - p) x at test: identical.
    nn.Dropout itself runs in training mode; its mask m is read off its output (x has no 0)."""
    p = 0.3
    torch.manual_seed(0)
    x, W = torch.randn(8, 50), torch.randn(20, 50)
    W_pytorch = W * (1 - p)
    dropped = nn.Dropout(p).train()(x)                          # PyTorch's training-mode dropout
    keep = dropped != 0                                         # the mask m it drew
    assert 0.5 < keep.float().mean().item() < 0.9               # about 1 - p of 400 units kept
    assert torch.allclose(dropped, x * keep / (1 - p))          # inverted: kept units × 1/(1-p)
    lecture_train = (x * keep) @ W.t()
    pytorch_train = dropped @ W_pytorch.t()
    assert torch.allclose(lecture_train, pytorch_train, atol=1e-5)
    lecture_test = lecture_dropout(x, p, training=False) @ W.t()
    pytorch_test = nn.Dropout(p).eval()(x) @ W_pytorch.t()
    assert torch.allclose(lecture_test, pytorch_test, atol=1e-5)


def test_both_dropouts_match_the_test_time_activation_in_expectation():
    """E[lecture training output] = (1 - p) x = lecture test output; E[PyTorch] = x = test output.
    Mean of 200,000 masks of x = 1: sd of the mean ≈ sqrt(p (1 - p) / n) ≈ 0.001."""
    p, n = 0.4, 200_000
    x = torch.ones(n)
    torch.manual_seed(0)
    assert nn.Dropout(p).train()(x).mean().item() == pytest.approx(1.0, abs=0.01)
    assert nn.Dropout(p).eval()(x).mean().item() == 1.0
    lecture = lecture_dropout(x, p, training=True, generator=torch.Generator().manual_seed(0))
    assert lecture.mean().item() == pytest.approx(1 - p, abs=0.005)
    assert lecture_dropout(x, p, training=False).mean().item() == pytest.approx(1 - p)


@pytest.mark.parametrize("config", [
    WindowConfig(30, window=3, embedding_dim=8, hidden_dim=8, dropout=0.5),
    RecurrentConfig("gru", 30, 8, 8, num_layers=2, dropout=0.5),
])
def test_dropout_is_off_in_evaluation(config):
    """In eval mode two passes agree, and equal a dropout-free copy with the same weights."""
    torch.manual_seed(0)
    net = build_net(config).eval()
    no_dropout = build_net(config.__class__(**{**config.__dict__, "dropout": 0.0})).eval()
    no_dropout.load_state_dict(net.state_dict())
    x = torch.randint(3, 30, (6, 2))
    state = net.initial_state(2)
    first, _ = net(x, state)
    second, _ = net(x, state)
    reference, _ = no_dropout(x, state)
    assert torch.equal(first, second) and torch.allclose(first, reference)
    net.train()
    trained, _ = net(x, state)
    assert not torch.allclose(trained, first)                  # and on in training


def test_bad_model_configs():
    with pytest.raises(NextwordError, match="dropout"):
        RecurrentConfig("lstm", 10, dropout=1.0)
    with pytest.raises(NextwordError, match="unknown recurrent cell"):
        RecurrentConfig("transformer", 10)
    with pytest.raises(NextwordError, match="window must be"):
        WindowConfig(10, window=0)
    with pytest.raises(NextwordError, match="layers"):
        RecurrentConfig("rnn", 10, num_layers=0)
