"""Dynamic evaluation: the network keeps learning from the text it is scoring.

The text is read in segments of `segment` tokens. Each segment is first scored with the
current weights, and only then is one gradient step taken on that segment's loss, so a token's
score depends only on the tokens before it (its own segment up to it through the recurrent
state, earlier segments also through the weights):

    score segment s with θ;   g = ∇θ mean_{t in s} -ln P(x_t | history; θ)
    θ <- θ - η g + λ (θ_trained - θ)

λ = 0 is Mikolov's (2010) plain online SGD; λ > 0 is the decay towards the trained weights of
Krause et al. (2018, their SGD variant with a global prior; the RMS-normalised step, which needs
gradient statistics from the training data, is not implemented). η, λ are tuned on validation.
Dropout stays off (the network is in eval mode); only the scored text's gradient moves it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from nextword.errors import NextwordError


@dataclass(frozen=True)
class DynamicConfig:
    lr: float = 0.1          # η
    decay: float = 0.0       # λ: pull towards the trained weights at each step (0: plain SGD)
    segment: int = 20        # tokens scored before each update

    def __post_init__(self):
        if not self.lr >= 0:
            raise NextwordError(f"dynamic evaluation learning rate must be >= 0, got {self.lr}")
        if not 0 <= self.decay <= 1:
            raise NextwordError(f"dynamic evaluation decay must be in [0, 1], got {self.decay}")
        if self.segment < 1:
            raise NextwordError(f"dynamic evaluation segment must be >= 1, got {self.segment}")


class StaticReader:
    """Reads the text with fixed weights: one forward pass per chunk."""

    def __init__(self, net):
        self.net = net

    @torch.inference_mode()
    def __call__(self, inputs, targets, state):
        """(T,) inputs and targets -> (T, d) features, (T, V) ln P, new state."""
        features, state = self.net(inputs[:, None], state)                    # (T, 1, d)
        logprobs = torch.log_softmax(self.net.logits(features[:, 0]).float(), dim=-1)
        return features[:, 0], logprobs, state


class DynamicReader:
    """Reads the text with weights that learn from it: score a segment, then step on it.
    Works on its own copy of the network, so the trained model is never changed."""

    def __init__(self, net, config: DynamicConfig):
        self.net = copy.deepcopy(net).eval()
        self.config = config
        self.trained = [p.detach().clone() for p in self.net.parameters()]   # θ_trained

    def __call__(self, inputs, targets, state):
        # cuDNN's RNN kernels refuse a backward pass in eval mode; the native ones do not (on
        # the CPU this changes nothing)
        with torch.enable_grad(), torch.backends.cudnn.flags(enabled=False):
            features, state = self.net(inputs[:, None], self.net.detach(state))   # (T, 1, d)
            logprobs = torch.log_softmax(self.net.logits(features[:, 0]).float(), dim=-1)
            loss = -logprobs.gather(1, targets[:, None]).mean()
            # before the step; the features copied out: a trace that kept detached views of
            # them peaked at 1.6 GB over 400 PTB lines (0.5 GB with copies) and reached 23 GB
            # over the whole validation text
            scored = (features[:, 0].detach().clone(), logprobs.detach())
            self.net.zero_grad(set_to_none=True)
            loss.backward()
        self._step()
        return (*scored, self.net.detach(state))

    @torch.no_grad()
    def _step(self):
        c = self.config
        for p, p0 in zip(self.net.parameters(), self.trained):
            if p.grad is not None:
                p -= c.lr * p.grad                                            # θ - η g
            if c.decay:
                p += c.decay * (p0 - p)                                       # + λ (θ_trained - θ)
