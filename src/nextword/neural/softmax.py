"""The training losses: the full softmax, and the sampled softmax that trains on a sample of
the vocabulary (evaluation always uses the full softmax)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from nextword.neural.layers import NeuralNet
from nextword.text.vocabulary import BOS_ID

SAMPLER_POWER = 0.75          # negatives drawn from unigram^0.75 (Mikolov et al. 2013)


class SampledSoftmax:
    """Sampled softmax (Jean et al. 2015) for training: the softmax over the target and k
    shared negatives S ~ q, each logit corrected by -ln(k q(w)) so that the gradient estimates
    the full softmax's; accidental hits (a negative equal to the target) are dropped.
    Cost per token: k + 1 dot products instead of |V|. Evaluation always uses the full softmax.
    """

    def __init__(self, counts: np.ndarray, num_samples: int, generator: torch.Generator, device):
        q = counts.astype(np.float64) ** SAMPLER_POWER
        q[BOS_ID] = 0.0                                   # never a target, never a negative
        self.q = torch.as_tensor(q / q.sum(), dtype=torch.float32, device=device)
        self.log_kq = torch.log(num_samples * self.q)
        self.k = num_samples
        self.generator = generator

    def loss(self, net: NeuralNet, features: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        h = features.reshape(-1, features.size(-1))                 # (N, d)
        y = targets.reshape(-1)                                     # (N,)
        negatives = torch.multinomial(self.q, self.k, replacement=True,
                                      generator=self.generator)     # (k,)
        U, b = net.decoder.weight, net.decoder.bias                 # (V, d), (V,)
        true = (h * U[y]).sum(-1) + b[y] - self.log_kq[y]           # (N,)
        sampled = h @ U[negatives].t() + b[negatives] - self.log_kq[negatives]   # (N, k)
        sampled = sampled.float().masked_fill(negatives[None, :] == y[:, None], float("-inf"))
        logits = torch.cat([true.float()[:, None], sampled], dim=1)  # (N, 1 + k): target first
        return F.cross_entropy(logits, torch.zeros_like(y))


def full_softmax_loss(net: NeuralNet, features: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    logits = net.logits(features)                                   # (T, B, V)
    return F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())   # mean over steps
