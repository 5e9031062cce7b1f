"""The tiny corpus and helpers of the explorer's tests (a module of its own, not conftest.py:
tests import from it by name)."""
from __future__ import annotations

# after "the" comes cat or dog, then the matching verb: a corpus small enough to learn by heart
LINES = ["the cat sat on the mat", "the dog ran in the park", "a cat sat", "a dog ran"]
SENTENCES = [line.split() for line in LINES * 12]


def make_app(models, names=None, rate=0.0, burst=1):
    from nextword.serve.app import create_app
    from nextword.serve.explorer import Explorer
    from nextword.text.tokenize import whitespace_tokenize

    chosen = {name: models[name] for name in (names or models)}
    return create_app(Explorer.from_models(chosen, whitespace_tokenize), rate=rate, burst=burst)


def fit_by_heart(net, vocab, steps=40):
    """Full-batch Adam on the four lines read as one stream (a few hundred ms; the library's
    trainer would cost seconds here): enough for confident, readable predictions."""
    import numpy as np
    import torch

    from nextword.text.vocabulary import EOS_ID

    stream = np.concatenate([np.append(vocab.encode(line.split()), EOS_ID) for line in LINES])
    inputs = torch.as_tensor(np.concatenate([[EOS_ID], stream[:-1]])).view(-1, 1)   # (T, 1)
    targets = torch.as_tensor(stream)                                              # (T,)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    net.train()
    for _ in range(steps):
        features, _ = net(inputs, net.initial_state(1, "cpu"))                   # (T, 1, d)
        loss = torch.nn.functional.cross_entropy(net.logits(features.view(len(stream), -1)),
                                                 targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return net.eval()
