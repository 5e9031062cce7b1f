"""The networks compute the lecture's formulas (checked by hand on tiny weights)."""
import torch

from nextword.neural.recurrent import RecurrentConfig, build_net
from nextword.neural.window import WindowConfig


def test_window_model_is_bengio_formula():
    """window 2: e = [e(w_{t-1}); e(w_t)], h = tanh(W e + b1), logits = U h + b2."""
    torch.manual_seed(0)
    net = build_net(WindowConfig(12, window=2, embedding_dim=3, hidden_dim=4)).eval()
    inputs = torch.tensor([[5], [7], [9]])                          # (T=3, B=1)
    state = torch.tensor([[2], [4]])                                # the 2 tokens before
    features, new_state = net(inputs, state)
    E, W, b1 = net.embedding.weight, net.hidden.weight, net.hidden.bias
    for t, (older, newer) in enumerate([(4, 5), (5, 7), (7, 9)]):
        e = torch.cat([E[older], E[newer]])                         # oldest first
        assert torch.allclose(features[t, 0], torch.tanh(W @ e + b1), atol=1e-6)
    assert new_state[:, 0].tolist() == [7, 9]
    assert torch.allclose(net.decoder(features)[0, 0],
                          net.decoder.weight @ features[0, 0] + net.decoder.bias, atol=1e-6)


def test_window_model_sees_only_its_window():
    """Changing a token 3 positions back does not change a window-2 prediction."""
    torch.manual_seed(0)
    net = build_net(WindowConfig(12, window=2, embedding_dim=3, hidden_dim=4)).eval()
    state = net.initial_state(1)
    a, _ = net(torch.tensor([[3], [5], [7], [9]]), state)
    b, _ = net(torch.tensor([[3], [6], [7], [9]]), state)
    assert torch.equal(a[3], b[3]) and not torch.equal(a[2], b[2])


def test_elman_rnn_is_the_lecture_recurrence():
    """h(t) = tanh(W_h h(t-1) + W_e e(t) + b1), the same W_h at every step (b1 = b_ih + b_hh)."""
    torch.manual_seed(0)
    net = build_net(RecurrentConfig("rnn", 12, embedding_dim=3, hidden_dim=4, num_layers=1,
                                    dropout=0.0, tie=False)).eval()
    for p in (net.rnn.bias_ih_l0, net.rnn.bias_hh_l0):
        torch.nn.init.uniform_(p, -0.5, 0.5)                        # nonzero biases
    inputs = torch.tensor([[5], [7], [9]])
    features, h_last = net(inputs, net.initial_state(1))
    W_e, W_h = net.rnn.weight_ih_l0, net.rnn.weight_hh_l0
    b1 = net.rnn.bias_ih_l0 + net.rnn.bias_hh_l0
    h = torch.zeros(4)
    for t, word in enumerate([5, 7, 9]):
        h = torch.tanh(W_h @ h + W_e @ net.embedding.weight[word] + b1)
        assert torch.allclose(features[t, 0], h, atol=1e-6)
    assert torch.allclose(h_last[0, 0], h, atol=1e-6)


def test_tied_weights_share_one_matrix_and_save_parameters():
    """Tied 2x20 LSTM over 100 words: U is E, so the model has 100 x 20 fewer parameters."""
    tied = build_net(RecurrentConfig("lstm", 100, 20, 20, 2, tie=True))
    untied = build_net(RecurrentConfig("lstm", 100, 20, 20, 2, tie=False))
    assert tied.decoder.weight is tied.embedding.weight
    assert untied.num_parameters() - tied.num_parameters() == 100 * 20
