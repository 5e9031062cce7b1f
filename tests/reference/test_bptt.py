"""The hand-written backward pass: finite differences, autograd, the sum over steps, truncation."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nextword.errors import NextwordError
from nextword.reference.rnn import (
    PARAM_NAMES, RNNConfig, backward, forward, gradient_check, relative_error, wh_contributions,
)
from rnn_fixtures import small_rnn  # noqa: F401  (a fixture)


def hand_params():
    """H = d = 1, two ids, two outputs: E = [1, 2], W_e = 0.5, W_h = 0.25, b1 = 0, U = [1, -1], b2 = 0."""
    return {"E": np.array([[1.0], [2.0]]), "W_e": np.array([[0.5]]), "W_h": np.array([[0.25]]),
            "b1": np.zeros(1), "U": np.array([[1.0], [-1.0]]), "b2": np.zeros(2)}


def test_forward_and_w_h_gradient_by_hand():
    """inputs (1, 0), targets (0, 1).

    h(1) = tanh(0.5·E[1]) = tanh(1);  h(2) = tanh(0.25·h(1) + 0.5·E[0]) = tanh(0.25 tanh 1 + 0.5)
    ŷ(t) = softmax(h, -h), so ŷ(t)[0] = σ(2h(t)):  J(1) = -ln σ(2h(1)), J(2) = -ln σ(-2h(2))
    ∂J/∂W_h = ½ [∂J(1)/∂W_h|(1) + ∂J(2)/∂W_h|(1) + ∂J(2)/∂W_h|(2)]; the |(1) terms carry h(0) = 0,
    and ∂J(2)/∂h(2) = U^T(ŷ(2) - y(2)) = 2σ(2h(2)), so ∂J/∂W_h = σ(2h(2)) (1 - h(2)²) h(1).
    """
    sigmoid = lambda x: 1 / (1 + math.exp(-x))
    h1 = math.tanh(1.0)
    h2 = math.tanh(0.25 * h1 + 0.5)
    loss, cache = forward(hand_params(), np.array([1, 0]), np.array([0, 1]))
    assert cache.h[1:, 0] == pytest.approx([h1, h2], abs=1e-15)
    assert loss == pytest.approx((-math.log(sigmoid(2 * h1)) - math.log(sigmoid(-2 * h2))) / 2,
                                 abs=1e-15)
    grads = backward(hand_params(), cache)
    assert grads["W_h"][0, 0] == pytest.approx(sigmoid(2 * h2) * (1 - h2 ** 2) * h1, abs=1e-15)
    terms = wh_contributions(hand_params(), cache, t=2)
    assert terms[:, 0, 0] == pytest.approx([0.0, 2 * sigmoid(2 * h2) * (1 - h2 ** 2) * h1], abs=1e-15)


def test_zero_output_layer_gives_uniform_loss(small_rnn):
    """U = 0, b2 = 0: ŷ(t) = 1/|V| at every step, so J = ln |V| = ln 7 whatever the inputs."""
    params, inputs, targets = small_rnn
    params["U"][:] = 0.0
    params["b2"][:] = 0.0
    assert forward(params, inputs, targets)[0] == pytest.approx(math.log(7), abs=1e-15)


def test_gradients_match_central_finite_differences(small_rnn):
    """Every entry of every parameter: relative error of the analytic gradient below 1e-6."""
    params, inputs, targets = small_rnn
    errors = gradient_check(params, inputs, targets, epsilon=1e-5)
    assert set(errors) == set(PARAM_NAMES)
    assert max(errors.values()) < 1e-6, errors


def torch_reference(params, inputs, targets, h0=None):
    """The same network built from torch.nn.RNN (bias_hh = 0), nn.Embedding and nn.Linear, float64."""
    V, H = params["U"].shape
    embedding = torch.nn.Embedding(*params["E"].shape).double()
    rnn = torch.nn.RNN(params["E"].shape[1], H, nonlinearity="tanh").double()
    linear = torch.nn.Linear(H, V).double()
    with torch.no_grad():
        embedding.weight.copy_(torch.from_numpy(params["E"]))
        rnn.weight_ih_l0.copy_(torch.from_numpy(params["W_e"]))
        rnn.weight_hh_l0.copy_(torch.from_numpy(params["W_h"]))
        rnn.bias_ih_l0.copy_(torch.from_numpy(params["b1"]))
        rnn.bias_hh_l0.zero_()
        linear.weight.copy_(torch.from_numpy(params["U"]))
        linear.bias.copy_(torch.from_numpy(params["b2"]))
    start = torch.zeros(1, H, dtype=torch.float64) if h0 is None else torch.from_numpy(h0)[None]
    hidden, _ = rnn(embedding(torch.from_numpy(inputs)), start)              # (T, H)
    loss = torch.nn.functional.cross_entropy(linear(hidden), torch.from_numpy(targets))
    loss.backward()
    grads = {"E": embedding.weight.grad, "W_e": rnn.weight_ih_l0.grad, "W_h": rnn.weight_hh_l0.grad,
             "b1": rnn.bias_ih_l0.grad, "U": linear.weight.grad, "b2": linear.bias.grad}
    return loss.item(), {name: g.numpy() for name, g in grads.items()}


@pytest.mark.parametrize("with_h0", [False, True])
def test_loss_and_gradients_match_pytorch(small_rnn, with_h0):
    """Same weights in torch.nn.RNN: same loss and gradients to 1e-10 (float64), also from a
    carried-in state h(0) ≠ 0."""
    params, inputs, targets = small_rnn
    h0 = np.random.default_rng(5).uniform(-0.5, 0.5, size=5) if with_h0 else None
    loss, cache = forward(params, inputs, targets, h0=h0)
    grads = backward(params, cache)
    torch_loss, torch_grads = torch_reference(params, inputs, targets, h0)
    assert abs(loss - torch_loss) <= 1e-10 * abs(torch_loss)
    for name in PARAM_NAMES:
        assert np.abs(grads[name] - torch_grads[name]).max() <= 1e-10 * np.abs(torch_grads[name]).max(), name


def test_contributions_are_the_gradients_of_per_step_copies_of_w_h(small_rnn):
    """The chain rule made literal: give step i its own copy W_h^(i) of W_h in torch; the
    gradient of J(t) with respect to that copy is ∂J(t)/∂W_h |_(i). Checked for every t."""
    params, inputs, targets = small_rnn
    _, cache = forward(params, inputs, targets)
    T = len(inputs)
    tensor = {name: torch.from_numpy(value) for name, value in params.items()}
    for t in range(1, T + 1):
        copies = [tensor["W_h"].clone().requires_grad_(True) for _ in range(t)]
        h = torch.zeros(5, dtype=torch.float64)
        for i in range(1, t + 1):
            h = torch.tanh(copies[i - 1] @ h + tensor["W_e"] @ tensor["E"][inputs[i - 1]] + tensor["b1"])
        logits = tensor["U"] @ h + tensor["b2"]
        step_loss = -torch.log_softmax(logits, dim=0)[targets[t - 1]]          # J(t)
        step_loss.backward()
        expected = np.stack([copy.grad.numpy() for copy in copies])           # (t, H, H)
        terms = wh_contributions(params, cache, t)
        assert terms.shape == (t, 5, 5)
        assert np.abs(terms - expected).max() <= 1e-10 * np.abs(expected).max()


def test_contributions_sum_to_the_full_w_h_gradient(small_rnn):
    """∂J/∂W_h = (1/T) Σ_t Σ_{i=1..t} ∂J(t)/∂W_h |_(i), to 1e-12 relative."""
    params, inputs, targets = small_rnn
    _, cache = forward(params, inputs, targets)
    T = len(inputs)
    summed = sum(wh_contributions(params, cache, t).sum(axis=0) for t in range(1, T + 1)) / T
    assert relative_error(summed, backward(params, cache)["W_h"]) < 1e-12


def test_contributions_shrink_with_distance():
    """Vanishing gradients on `explain bptt`'s default random model (T = 20, H = 16, seed 0):
    each step back multiplies by W_h^T and tanh' < 1, so the term 1 step back is over 1000
    times the term 10 steps back, which is over 100 times the term 18 steps back."""
    from nextword.reference.explain import explain_bptt

    rows = {row.distance: row for row in explain_bptt().rows}
    assert rows[1].norm > 1000 * rows[10].norm
    assert rows[10].norm > 100 * rows[18].norm
    assert rows[19].norm == 0.0                                 # i = 1: h(0) = 0


@pytest.mark.parametrize("k", range(1, 10))
def test_truncation_equals_the_restricted_sum(small_rnn, k):
    """backward(truncation=k) gives (1/T) Σ_t Σ_{i=max(1, t-k+1)..t} ∂J(t)/∂W_h |_(i) to 1e-12."""
    params, inputs, targets = small_rnn
    _, cache = forward(params, inputs, targets)
    T = len(inputs)
    restricted = sum(wh_contributions(params, cache, t)[max(0, t - k):].sum(axis=0)
                     for t in range(1, T + 1)) / T
    assert relative_error(restricted, backward(params, cache, truncation=k)["W_h"]) < 1e-12


def test_short_truncation_differs_from_full_gradient(small_rnn):
    """k = 2 drops the terms 2 or more steps back: the W_h gradient moves by over 1%
    (and W_e, b1, E with it); the output layer, one step from the loss, does not move."""
    params, inputs, targets = small_rnn
    _, cache = forward(params, inputs, targets)
    full = backward(params, cache)
    truncated = backward(params, cache, truncation=2)
    for name in ("W_h", "W_e", "b1", "E"):
        assert relative_error(truncated[name], full[name]) > 1e-2, name
    for name in ("U", "b2"):
        assert np.array_equal(truncated[name], full[name])


def test_truncation_at_least_the_length_is_full_bptt(small_rnn):
    params, inputs, targets = small_rnn
    _, cache = forward(params, inputs, targets)
    full = backward(params, cache)
    for k in (9, 50):
        truncated = backward(params, cache, truncation=k)
        for name in PARAM_NAMES:
            assert relative_error(truncated[name], full[name]) < 1e-12


def test_bad_truncation_and_step_are_errors(small_rnn):
    params, inputs, targets = small_rnn
    _, cache = forward(params, inputs, targets)
    with pytest.raises(NextwordError, match="truncation"):
        backward(params, cache, truncation=0)
    with pytest.raises(NextwordError, match="1..9"):
        wh_contributions(params, cache, t=10)
    with pytest.raises(NextwordError, match="hidden-dim"):
        RNNConfig(4, 3, embedding_dim=2, hidden_dim=0)


@pytest.mark.parametrize("k", [1, 3, 9])
def test_truncated_gradients_of_every_parameter_match_per_step_copies_in_torch(small_rnn, k):
    """Give every step i its own copies of W_h, W_e, b1 and its own leaf e(i) in torch; the
    gradient of J(t) for step i's copies is that step's term. Keeping the terms with
    t - k < i <= t and adding the output layer gives what backward(truncation=k) must return."""
    params, inputs, targets = small_rnn
    _, cache = forward(params, inputs, targets)
    T = len(inputs)
    tensor = {name: torch.from_numpy(value) for name, value in params.items()}
    expected = {name: np.zeros_like(value) for name, value in params.items()}
    for t in range(1, T + 1):
        leaf = lambda x: x.clone().requires_grad_(True)
        W_h, W_e, b1 = ([leaf(tensor[n]) for _ in range(t)] for n in ("W_h", "W_e", "b1"))
        e = [leaf(tensor["E"][inputs[i]]) for i in range(t)]
        U, b2 = leaf(tensor["U"]), leaf(tensor["b2"])
        h = torch.zeros(5, dtype=torch.float64)
        for i in range(t):                                      # step i + 1
            h = torch.tanh(W_h[i] @ h + W_e[i] @ e[i] + b1[i])
        (-torch.log_softmax(U @ h + b2, dim=0)[targets[t - 1]] / T).backward()   # J(t) / T
        expected["U"] += U.grad.numpy()
        expected["b2"] += b2.grad.numpy()
        for i in range(max(0, t - k), t):                       # the last k steps only
            expected["W_h"] += W_h[i].grad.numpy()
            expected["W_e"] += W_e[i].grad.numpy()
            expected["b1"] += b1[i].grad.numpy()
            expected["E"][inputs[i]] += e[i].grad.numpy()
    truncated = backward(params, cache, truncation=k)
    for name in PARAM_NAMES:
        assert np.abs(truncated[name] - expected[name]).max() <= 1e-10 * np.abs(expected[name]).max(), name
