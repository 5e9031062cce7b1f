"""An Elman RNN language model in NumPy with backpropagation through time written by hand.

The lecture's model, one sequence at a time, column vectors as on the slides (steps t = 1..T)::

    e(t) = E[x(t)]                                   embedding of the token read at step t
    h(t) = tanh(W_h h(t-1) + W_e e(t) + b1)          h(0) = 0 unless a state is carried in
    ŷ(t) = softmax(U h(t) + b2)                      distribution of the token x(t+1)
    J(t) = -ln ŷ(t)[x(t+1)]                          cross-entropy at step t
    J    = (1/T) Σ_t J(t)                            the loss: mean over the steps

W_h is used at every step, so by the multivariable chain rule its gradient is a sum over the
steps i at which it was used:

    ∂J(t)/∂W_h = Σ_{i=1..t} ∂J(t)/∂W_h |_(i),      ∂J(t)/∂W_h |_(i) = δ_t(i) h(i-1)^T
    δ_t(i) = ∂J(t)/∂z(i) = (W_h^T δ_t(i+1)) ⊙ (1 - h(i)²),   z(i) = W_h h(i-1) + W_e e(i) + b1

Everything is float64 so the gradient checks can be tight. No PyTorch here: this module is the
reference the frameworks are checked against (see docs/bptt.md for equation ↔ line).

Arrays indexed by step have T + 1 rows so that row t is step t, as in the formulas; row 0 of
``h`` is h(0) and row 0 of ``e``, ``log_y_hat`` is unused (zeros).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from nextword.errors import NextwordError

PARAM_NAMES = ("E", "W_e", "W_h", "b1", "U", "b2")
DTYPE = np.float64

Params = dict   # name (one of PARAM_NAMES) -> np.ndarray of DTYPE


@dataclass(frozen=True)
class RNNConfig:
    """Sizes of the network; `input_size` counts every id that can be read (<s> included),
    `output_size` every id that can be predicted (|V|)."""

    input_size: int
    output_size: int
    embedding_dim: int = 32
    hidden_dim: int = 64

    def __post_init__(self):
        for name, value in asdict(self).items():
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise NextwordError(f"{name.replace('_', '-')} must be an integer >= 1, got {value!r}")

    def shapes(self) -> dict[str, tuple[int, ...]]:
        d, H, V = self.embedding_dim, self.hidden_dim, self.output_size
        return {"E": (self.input_size, d), "W_e": (H, d), "W_h": (H, H), "b1": (H,),
                "U": (V, H), "b2": (V,)}


def init_params(config: RNNConfig, rng: np.random.Generator) -> Params:
    """Small uniform weights (±1/√fan_in, as torch.nn.RNN and nn.Linear do), zero biases."""
    d, H = config.embedding_dim, config.hidden_dim
    params = {
        "E": rng.normal(0.0, 0.1, size=(config.input_size, d)),
        "W_e": rng.uniform(-1, 1, size=(H, d)) / np.sqrt(H),
        "W_h": rng.uniform(-1, 1, size=(H, H)) / np.sqrt(H),
        "b1": np.zeros(H),
        "U": rng.uniform(-1, 1, size=(config.output_size, H)) / np.sqrt(H),
        "b2": np.zeros(config.output_size),
    }
    return {name: params[name].astype(DTYPE) for name in PARAM_NAMES}


@dataclass
class Cache:
    """What the forward pass keeps for the backward pass (rows indexed by step, see above)."""

    inputs: np.ndarray      # (T,)      x(1..T): ids read
    targets: np.ndarray     # (T,)      x(2..T+1): output indices predicted
    e: np.ndarray           # (T+1, d)  e(t) = E[x(t)]
    h: np.ndarray           # (T+1, H)  h(0..T)
    log_y_hat: np.ndarray   # (T+1, V)  ln ŷ(t)

    @property
    def steps(self) -> int:
        return len(self.inputs)

    def step_losses(self) -> np.ndarray:
        """J(t) = -ln ŷ(t)[x(t+1)] for t = 1..T, shape (T,)."""
        return -self.log_y_hat[np.arange(1, self.steps + 1), self.targets]


def hidden_step(params: Params, h_prev: np.ndarray, e_t: np.ndarray) -> np.ndarray:
    """h(t) = tanh(W_h h(t-1) + W_e e(t) + b1)."""
    return np.tanh(params["W_h"] @ h_prev + params["W_e"] @ e_t + params["b1"])


def output_logprobs(params: Params, h: np.ndarray) -> np.ndarray:
    """ln ŷ = ln softmax(U h + b2) for one h (H,) or many rows (T, H); stable log-sum-exp."""
    logits = h @ params["U"].T + params["b2"]                          # (T, V): row t is U h(t) + b2
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def forward(params: Params, inputs: np.ndarray, targets: np.ndarray,
            h0: np.ndarray | None = None) -> tuple[float, Cache]:
    """Run the recurrence over the T inputs; return J = (1/T) Σ_t J(t) and the cache."""
    inputs = np.asarray(inputs, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    if inputs.shape != targets.shape or inputs.ndim != 1 or len(inputs) == 0:
        raise ValueError("inputs and targets must be 1-D arrays of the same positive length")
    T, H = len(inputs), params["W_h"].shape[0]
    e = np.zeros((T + 1, params["E"].shape[1]), dtype=DTYPE)
    e[1:] = params["E"][inputs]                                         # (T, d) e(t) = E[x(t)]
    h = np.zeros((T + 1, H), dtype=DTYPE)                               # h[0] = h(0)
    if h0 is not None:
        h[0] = h0
    for t in range(1, T + 1):                                           # the recurrence is sequential
        h[t] = hidden_step(params, h[t - 1], e[t])
    log_y_hat = np.zeros((T + 1, params["U"].shape[0]), dtype=DTYPE)
    log_y_hat[1:] = output_logprobs(params, h[1:])                      # (T, V) all steps at once
    cache = Cache(inputs, targets, e, h, log_y_hat)
    return float(cache.step_losses().mean()), cache


def output_gradients(params: Params, cache: Cache, grads: Params) -> np.ndarray:
    """The output layer of J = (1/T) Σ J(t): fill dU, db2; return ∂J/∂h(t) through ŷ(t) only.

    ∂J(t)/∂θ(t) = ŷ(t) - y(t)  (θ = U h + b2, y one-hot of the target), so with the 1/T of the mean
    ∂J/∂U = (1/T) Σ_t (ŷ(t) - y(t)) h(t)^T,   ∂J/∂b2 = (1/T) Σ_t (ŷ(t) - y(t)).
    """
    T = cache.steps
    d_theta = np.exp(cache.log_y_hat[1:])                               # (T, V) ŷ(t)
    d_theta[np.arange(T), cache.targets] -= 1.0                         # ŷ(t) - y(t)
    d_theta /= T                                                        # mean over the steps
    grads["U"] = d_theta.T @ cache.h[1:]                                # (V, H)
    grads["b2"] = d_theta.sum(axis=0)                                   # (V,)
    dh_out = np.zeros_like(cache.h)                                     # (T+1, H), row 0 unused
    dh_out[1:] = d_theta @ params["U"]                                  # U^T (ŷ(t) - y(t)) / T
    return dh_out


def backward(params: Params, cache: Cache, truncation: int | None = None) -> Params:
    """∂J/∂θ for every parameter, by backpropagation through time written out step by step.

    truncation = k: the loss J(t) sends gradient back through at most k steps (i = t-k+1..t),
    i.e. ∂J(t)/∂W_h is replaced by the lecture's sum restricted to its last k terms.
    truncation = None: the full sum over i = 1..t.
    """
    if truncation is not None and truncation < 1:
        raise NextwordError(f"truncation (bptt) must be >= 1, got {truncation}")
    W_h, W_e = params["W_h"], params["W_e"]
    h, e, T = cache.h, cache.e, cache.steps
    grads: Params = {name: np.zeros_like(params[name]) for name in PARAM_NAMES}
    dh_out = output_gradients(params, cache, grads)                     # (T+1, H)

    delta_next = np.zeros(W_h.shape[0], dtype=DTYPE)                    # δ(T+1) = 0: nothing after T
    window = np.zeros((0, W_h.shape[0]), dtype=DTYPE)                   # (≤k, H), see below
    for i in range(T, 0, -1):                                           # i = T, T-1, ..., 1
        tanh_grad = 1.0 - h[i] ** 2                                     # ∂h(i)/∂z(i) = 1 - tanh²
        if truncation is None:
            # δ(i) = ∂J/∂z(i) = Σ_{t≥i} δ_t(i): by linearity one running vector carries every
            # later loss back: ∂J/∂h(i) = U^T(ŷ(i) - y(i))/T + W_h^T δ(i+1)
            delta = (dh_out[i] + W_h.T @ delta_next) * tanh_grad        # (H,)
            delta_next = delta
        else:
            # keep one row per loss J(t) still within k steps: row j holds δ_{i+j}(i), j < k.
            # A row that has travelled k steps is dropped (truncate: no gradient beyond it).
            carried = window[: truncation - 1] @ W_h                    # (≤k-1, H) W_h^T δ_t(i+1)
            window = np.vstack([dh_out[i][None, :], carried]) * tanh_grad
            delta = window.sum(axis=0)                                  # Σ_{t=i..i+k-1} δ_t(i)
        # W_h was used at step i: its term of the lecture's sum, accumulated step by step
        grads["W_h"] += np.outer(delta, h[i - 1])                       # ∂J/∂W_h |_(i)
        grads["W_e"] += np.outer(delta, e[i])                           # ∂J/∂W_e |_(i)
        grads["b1"] += delta
        grads["E"][cache.inputs[i - 1]] += W_e.T @ delta                # ∂J/∂e(i) into row x(i)
    return grads


def wh_contributions(params: Params, cache: Cache, t: int) -> np.ndarray:
    """The terms ∂J(t)/∂W_h |_(i) for i = 1..t of the per-step loss J(t), shape (t, H, H).

    Row i-1 is the gradient through W_h's use at step i; their sum is ∂J(t)/∂W_h, and the
    last k rows summed are what truncation to k steps keeps.
    """
    if not 1 <= t <= cache.steps:
        raise NextwordError(f"step t must be in 1..{cache.steps}, got {t}")
    W_h, h = params["W_h"], cache.h
    d_theta = np.exp(cache.log_y_hat[t])                                # (V,) ŷ(t)
    d_theta[cache.targets[t - 1]] -= 1.0                                # ŷ(t) - y(t)
    dh = params["U"].T @ d_theta                                        # ∂J(t)/∂h(t)
    terms = np.zeros((t,) + W_h.shape, dtype=DTYPE)
    for i in range(t, 0, -1):
        delta = dh * (1.0 - h[i] ** 2)                                  # δ_t(i) = ∂J(t)/∂z(i)
        terms[i - 1] = np.outer(delta, h[i - 1])                        # ∂J(t)/∂W_h |_(i)
        dh = W_h.T @ delta                                              # ∂J(t)/∂h(i-1), one step back
    return terms


def hidden_gradients(params: Params, cache: Cache, t: int) -> np.ndarray:
    """∂J(t)/∂h(i) for i = 0..t of the per-step loss J(t), shape (t+1, H): row i is h(i)'s.

        ∂J(t)/∂h(t)   = U^T (ŷ(t) - y(t))
        ∂J(t)/∂h(i-1) = W_h^T (∂J(t)/∂h(i) ⊙ (1 - h(i)²))        one step back, as in BPTT

    The norm of row i against t - i shows how far back the loss still reaches (vanishing
    gradients: the product of t - i factors W_h^T diag(1 - h²) shrinks geometrically).
    """
    if not 1 <= t <= cache.steps:
        raise NextwordError(f"step t must be in 1..{cache.steps}, got {t}")
    d_theta = np.exp(cache.log_y_hat[t])                                # (V,) ŷ(t)
    d_theta[cache.targets[t - 1]] -= 1.0                                # ŷ(t) - y(t)
    out = np.zeros((t + 1, params["W_h"].shape[0]), dtype=DTYPE)
    out[t] = params["U"].T @ d_theta                                    # ∂J(t)/∂h(t)
    for i in range(t, 0, -1):
        out[i - 1] = params["W_h"].T @ (out[i] * (1.0 - cache.h[i] ** 2))
    return out


def finite_difference_gradients(params: Params, inputs: np.ndarray, targets: np.ndarray,
                                epsilon: float = 1e-5, entries: dict | None = None) -> Params:
    """Central differences (J(θ + ε) - J(θ - ε)) / 2ε, entry by entry; `entries` optionally
    names which flat indices to perturb per parameter (the others stay NaN)."""
    numeric: Params = {}
    for name in PARAM_NAMES:
        value = params[name]
        flat = value.reshape(-1)                                        # a view: perturb in place
        out = np.full(flat.shape, np.nan)
        chosen = range(flat.size) if entries is None else entries[name]
        for index in chosen:
            saved = flat[index]
            flat[index] = saved + epsilon
            plus = forward(params, inputs, targets)[0]
            flat[index] = saved - epsilon
            minus = forward(params, inputs, targets)[0]
            flat[index] = saved
            out[index] = (plus - minus) / (2 * epsilon)
        numeric[name] = out.reshape(value.shape)
    return numeric


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """‖a - b‖ / max(‖a‖, ‖b‖) over the entries both define (0 when both are zero)."""
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return float(np.linalg.norm(a - b) / scale) if scale > 0 else 0.0


def gradient_check(params: Params, inputs: np.ndarray, targets: np.ndarray,
                   epsilon: float = 1e-5, max_entries: int | None = None,
                   rng: np.random.Generator | None = None) -> dict[str, float]:
    """Relative error of backward() against central finite differences, per parameter.

    With `max_entries`, a random sample of that many entries per parameter is checked.
    """
    analytic = backward(params, forward(params, inputs, targets)[1])
    entries = None
    if max_entries is not None:
        rng = rng if rng is not None else np.random.default_rng(0)
        entries = {name: rng.choice(params[name].size, min(max_entries, params[name].size),
                                    replace=False) for name in PARAM_NAMES}
    numeric = finite_difference_gradients(params, inputs, targets, epsilon, entries)
    return {name: relative_error(analytic[name], numeric[name]) for name in PARAM_NAMES}
