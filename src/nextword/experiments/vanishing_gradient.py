"""vanishing-gradient: the Elman RNN struggles to use distant information.

‖∂J(t)/∂h(i)‖ against the distance t - i, for the Elman RNN and the LSTM (for the LSTM the
state is (h, c): the norm of both together), at initialisation and after training, averaged
over the columns of a validation batch. The gradients come from PyTorch's autograd, the
networks run one step at a time so that every h(i) is a node of the graph; for the Elman RNN
the same numbers come from the hand-written BPTT (`nextword.reference.rnn.hidden_gradients`)
with the network's weights copied in, as a check of both.

Decision rule, fixed before any run:
    At distance d = t - i = 50 (smoke: 8), with r = ‖∂J(t)/∂h(t-d)‖ / ‖∂J(t)/∂h(t)‖ for the
    trained models: holds if (a) r < 0.01 for the Elman RNN (the gradient has vanished by a factor
    100) and (b) the LSTM's r is at least 10 times the Elman RNN's. Partly if one holds. The
    agreement of the hand-written BPTT with autograd (both in float64) is reported beside the
    verdict.
"""
from __future__ import annotations

import copy

import numpy as np
import torch

from nextword.experiments.base import DOES_NOT_HOLD, HOLDS, PARTLY, Table, Verdict, figure, rule_of
from nextword.experiments.neural_common import (per_run_seconds, prepare, recurrent_config,
                                                scale_of, train_config, train_run)
from nextword.neural.recurrent import build_net
from nextword.reference.rnn import forward, hidden_gradients
from nextword.text.vocabulary import BOS_ID

NAME = "vanishing-gradient"
CLAIM = "The Elman RNN struggles to use distant information: its gradient vanishes with distance."
EXPECTED = "5 min"
DEFAULT_BUDGET = 240.0
STEPS = {False: 80, True: 12}          # T: the loss J(T) is sent back to h(0..T)
DISTANCE = {False: 50, True: 8}        # the distance at which the verdict compares
COLUMNS = 16
RULE = rule_of(__doc__)


def state_gradients(net, inputs: torch.Tensor, targets: torch.Tensor) -> np.ndarray:
    """‖∂J(T)/∂s(i)‖ for i = 0..T (s = h, or (h, c) for an LSTM), per column: (T+1, B).

    J(T) = Σ_b -ln ŷ_b(T)[target]: summing over the independent columns makes each column's
    gradient its own loss's. Computed in float64 on a copy of the network: in float32 the
    trained RNN's gradient underflows to 0 within 60 steps, and 0 cannot be compared."""
    net = copy.deepcopy(net).double().eval()
    T, B = inputs.shape
    state = net.initial_state(B)
    state = (tuple(s.double().requires_grad_() for s in state) if isinstance(state, tuple)
             else state.double().requires_grad_())
    states = [state]
    features = None
    for i in range(T):
        features, state = net(inputs[i: i + 1], state)          # one step: s(i+1) in the graph
        states.append(state)
    logits = net.logits(features[0])                           # (B, V), prediction at step T
    loss = -torch.log_softmax(logits, -1).gather(1, targets[-1][:, None]).sum()
    # s(i), i < T, reaches J(T) only through step i+1; at i = T the loss reads h(T) as the
    # step's output (the same values as the returned state, another node of the graph)
    earlier = [s for st in states[:-1] for s in (st if isinstance(st, tuple) else (st,))]
    per = len(earlier) // (len(states) - 1)
    grads = torch.autograd.grad(loss, earlier + [features])
    norms = []
    for i in range(len(states) - 1):
        g = torch.cat([grads[i * per + j][0] for j in range(per)], dim=-1)   # (B, H or 2H)
        norms.append(g.norm(dim=-1))
    norms.append(grads[-1][0].norm(dim=-1))                     # c(T) does not reach J(T)
    return torch.stack(norms).detach().numpy()                   # (T+1, B)


def reference_check(net, inputs: torch.Tensor, targets: torch.Tensor) -> dict:
    """The Elman RNN's ‖∂J(T)/∂h(i)‖ for column 0 by the hand-written BPTT, its weights copied
    into the NumPy reference (b1 = b_ih + b_hh; <s> given a logit of -1e30 as `logits` does)."""
    rnn = net.rnn
    b2 = net.decoder.bias.detach().double().numpy().copy()
    b2[BOS_ID] = -1e30
    params = {"E": net.embedding.weight.detach().double().numpy(),
              "W_e": rnn.weight_ih_l0.detach().double().numpy(),
              "W_h": rnn.weight_hh_l0.detach().double().numpy(),
              "b1": (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().double().numpy(),
              "U": net.decoder.weight.detach().double().numpy(), "b2": b2}
    _, cache = forward(params, inputs[:, 0].numpy(), targets[:, 0].numpy())
    hand = np.linalg.norm(hidden_gradients(params, cache, cache.steps), axis=1)      # (T+1,)
    auto = state_gradients(net, inputs[:, :1], targets[:, :1])[:, 0]
    kept = hand >= 1e-250 * hand.max()          # both float64: compared down to 1e-250
    return {"hand_norms": hand.tolist(), "compared_steps": int(kept.sum()), "max_relative_error":
            float(np.max(np.abs(hand - auto)[kept] / hand[kept]))}


def run(settings) -> dict:
    scale = scale_of(settings)
    data = prepare(settings.corpus_names()[0])
    T = STEPS[settings.smoke]
    seconds = per_run_seconds(settings, DEFAULT_BUDGET, 2)
    stream = torch.as_tensor(data.valid[: COLUMNS * (T + 1)], dtype=torch.long)
    batch = stream.view(COLUMNS, T + 1).t()                         # (T+1, B) columns of text
    inputs, targets = batch[:-1], batch[1:]
    config = train_config(scale, settings.seed)
    curves, checks = {}, {}
    for cell in ("rnn", "lstm"):
        model = recurrent_config(cell, data, scale, tie=False)       # untied: U maps to the reference
        torch.manual_seed(settings.seed)
        fresh = build_net(model)
        trained = train_run(model, config, data, scale, seconds)
        for when, net in (("init", fresh), ("trained", trained.net)):
            norms = state_gradients(net, inputs, targets)           # (T+1, B)
            relative = norms / norms[-1:]                           # to ‖∂J(T)/∂s(T)‖, per column
            curves[f"{cell}-{when}"] = {"mean_norm": norms.mean(1)[::-1].tolist(),
                                        "mean_relative": relative.mean(1)[::-1].tolist()}
            if cell == "rnn":
                checks[when] = reference_check(net, inputs, targets)
        curves[f"{cell}-trained"]["valid_perplexity"] = trained.valid_perplexity
        curves[f"{cell}-trained"]["train_seconds"] = trained.train_seconds
    return {"corpus": data.corpus, "steps": T, "columns": COLUMNS, "distance": DISTANCE[settings.smoke],
            "seconds_per_run": seconds, "curves": curves, "reference_check": checks}


def verdict(numbers: dict) -> Verdict:
    d = numbers["distance"]
    rnn = numbers["curves"]["rnn-trained"]["mean_relative"][d]
    lstm = numbers["curves"]["lstm-trained"]["mean_relative"][d]
    a, b = rnn < 0.01, lstm > 0 and lstm >= 10 * rnn     # 0 against 0 is no evidence
    passed = a + b
    errors = [c["max_relative_error"] for c in numbers.get("reference_check", {}).values()]
    reasons = (f"{'yes' if a else 'no'}: trained Elman RNN keeps {rnn:.2e} of its gradient norm at distance {d}",
               f"{'yes' if b else 'no'}: trained LSTM keeps {lstm:.2e} ({lstm / rnn if rnn else float('inf'):.3g} times the RNN's)",
               *([f"check: hand-written BPTT against autograd, largest relative error {max(errors):.1e} "
                 "(float64 both)"] if errors else []))
    return Verdict(HOLDS if passed == 2 else PARTLY if passed == 1 else DOES_NOT_HOLD, reasons)


def tables(numbers: dict) -> list:
    curves = numbers["curves"]
    names = ["rnn-init", "rnn-trained", "lstm-init", "lstm-trained"]
    table = Table(f"‖∂J(t)/∂s(t-d)‖ / ‖∂J(t)/∂s(t)‖ by distance d (mean of {numbers['columns']} "
                  f"columns of {numbers['corpus']} validation text)", ["d", *names])
    T = numbers["steps"]
    for d in sorted({0, 1, 2, 5, 10, 20, 30, 50, 70, T} & set(range(T + 1))):
        table.rows.append([d, *(curves[n]["mean_relative"][d] for n in names)])
    return [table]


def plots(numbers: dict) -> list:
    fig, ax = figure(f"Vanishing gradients: how far back J(t) reaches ({numbers['corpus']})",
                     "distance t - i (steps)", "‖∂J(t)/∂s(i)‖ / ‖∂J(t)/∂s(t)‖ (log scale)")
    styles = {"rnn-init": "C0--", "rnn-trained": "C0-", "lstm-init": "C1--", "lstm-trained": "C1-"}
    labels = {"rnn-init": "Elman RNN, at initialisation", "rnn-trained": "Elman RNN, trained",
              "lstm-init": "LSTM, at initialisation", "lstm-trained": "LSTM, trained"}
    for name, style in styles.items():
        y = numbers["curves"][name]["mean_relative"]
        ax.plot(range(len(y)), y, style, label=labels[name])
    check = numbers.get("reference_check", {}).get("trained")
    if check:
        hand = np.array(check["hand_norms"][::-1])
        ax.plot(range(len(hand)), hand / hand[0], "k:", label="Elman RNN, trained: hand-written BPTT (column 0)")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    return [("gradient.png", fig)]
