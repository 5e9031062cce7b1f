"""The NumPy RNN with hand-written BPTT: step cost against torch autograd, and a training run.

    python benchmarks/numpy_rnn_bench.py [--repeat 7] [--epochs 3] [--hidden-dim 64]

Table 1: median time of one forward + backward pass over a T-step sentence, float64, the
hand-written NumPy code against the same network in torch (nn.Embedding, nn.RNN, nn.Linear,
autograd), and the truncated backward (k = 20) against the full one.
Table 2: `train_numpy_rnn` on the embedded default corpus (vocabulary: words seen 3 times or
more), seconds per epoch and cross-entropy per epoch, then valid/test perplexity beside n-gram
models with the same vocabulary.
Table 3: the checks of `nextword explain bptt` (default random model), with their time.

OpenBLAS threads are set to 1 before NumPy loads: on small shared machines the matrix products
here are too small for threads to pay, and busy-waiting threads slowed training about 6x.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from common import machine, median_time, table  # noqa: E402

from nextword.evaluate import evaluate  # noqa: E402
from nextword.ngram.estimators import AddDelta  # noqa: E402
from nextword.ngram.model import NgramModel  # noqa: E402
from nextword.reference.explain import explain_bptt  # noqa: E402
from nextword.reference.rnn import RNNConfig, backward, forward, init_params  # noqa: E402
from nextword.reference.train import TrainConfig, train_numpy_rnn  # noqa: E402
from nextword.text.corpora import load_corpus  # noqa: E402
from nextword.text.vocabulary import Vocabulary  # noqa: E402


def torch_step(modules, inputs, targets):
    """Forward and backward of the same network in torch; returns the loss."""
    import torch

    embedding, rnn, linear = modules
    for module in modules:
        module.zero_grad(set_to_none=True)
    hidden, _ = rnn(embedding(inputs))                                   # (T, H)
    loss = torch.nn.functional.cross_entropy(linear(hidden), targets)   # mean over the T steps
    loss.backward()
    return loss.item()


def step_table(repeat: int, vocab_size: int, hidden_dim: int, embedding_dim: int) -> list:
    import torch

    torch.set_num_threads(1)
    rows = []
    for steps in (30, 120):
        sizes = RNNConfig(vocab_size + 1, vocab_size, embedding_dim, hidden_dim)
        rng = np.random.default_rng(0)
        params = init_params(sizes, rng)
        inputs = rng.integers(0, sizes.input_size, size=steps)
        targets = rng.integers(0, sizes.output_size, size=steps)
        modules = (torch.nn.Embedding(sizes.input_size, embedding_dim).double(),
                   torch.nn.RNN(embedding_dim, hidden_dim).double(),
                   torch.nn.Linear(hidden_dim, vocab_size).double())
        t_inputs, t_targets = torch.from_numpy(inputs), torch.from_numpy(targets)
        full, _ = median_time(lambda: backward(params, forward(params, inputs, targets)[1]), repeat)
        cut, _ = median_time(lambda: backward(params, forward(params, inputs, targets)[1],
                                              truncation=20), repeat)
        torch_time, _ = median_time(lambda: torch_step(modules, t_inputs, t_targets), repeat)
        rows.append([steps, f"{full * 1e3:.2f}", f"{cut * 1e3:.2f}", f"{torch_time * 1e3:.2f}",
                     f"{full / torch_time:.2f}", f"{steps / full:,.0f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--hidden-dim", type=int, default=64)
    parser.add_argument("--embedding-dim", type=int, default=32)
    parser.add_argument("--min-count", type=int, default=3)
    args = parser.parse_args()

    train = list(load_corpus("default:train"))
    valid, test = load_corpus("default:valid"), load_corpus("default:test")
    vocab = Vocabulary.build(train, min_count=args.min_count)
    tokens = sum(len(s) + 1 for s in train)
    print(f"# {machine()}, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    print(f"# default:train {tokens:,} tokens, vocabulary {len(vocab):,} "
          f"(min count {args.min_count}): |V| = {vocab.num_outcomes:,} outcomes\n")

    print(f"One forward + backward, H = {args.hidden_dim}, d = {args.embedding_dim}, "
          f"|V| = {vocab.num_outcomes:,}, float64, median of {args.repeat}:\n")
    print(table(["T", "NumPy full BPTT (ms)", "NumPy BPTT k=20 (ms)", "torch autograd (ms)",
                 "NumPy / torch", "NumPy steps/s"],
                step_table(args.repeat, vocab.num_outcomes, args.hidden_dim, args.embedding_dim)))

    config = TrainConfig(embedding_dim=args.embedding_dim, hidden_dim=args.hidden_dim,
                         epochs=args.epochs, min_count=args.min_count)
    started = time.perf_counter()
    lm = train_numpy_rnn(train, config, vocab=vocab, valid=valid)
    seconds = time.perf_counter() - started
    print(f"\nTraining: {config}, {seconds:.1f} s in all (valid scored after each epoch):\n")
    rows = [[e["epoch"], f"{e['train_cross_entropy']:.3f}", f"{e['valid_cross_entropy']:.3f}",
             f"{math.exp(e['valid_cross_entropy']):.2f}", f"{e['clipped_updates']:,} / {e['updates']:,}"]
            for e in lm.training["history"]]
    print(table(["epoch", "train CE (nats)", "valid CE (nats)", "valid ppl", "clipped updates"], rows))

    print(f"\nSame vocabulary ({len(vocab):,} entries), perplexity:\n")
    rows = [[f"uniform, 1 / {vocab.num_outcomes:,}", f"{vocab.num_outcomes:.2f}", f"{vocab.num_outcomes:.2f}"]]
    for order in (1, 2, 3):
        ngram = NgramModel.fit(train, order=order, estimator=AddDelta(0.25), vocab=vocab)
        rows.append([f"{order}-gram add-δ (δ = 0.25)", f"{evaluate(ngram, valid).perplexity:.2f}",
                     f"{evaluate(ngram, test).perplexity:.2f}"])
    score_seconds, result = median_time(lambda: evaluate(lm, test), 3)
    rows.append([f"numpy-rnn H {args.hidden_dim}, {args.epochs} epochs",
                 f"{evaluate(lm, valid).perplexity:.2f}", f"{result.perplexity:.2f}"])
    print(table(["model", "valid ppl", "test ppl"], rows))
    print(f"\nnumpy-rnn scoring: {result.tokens / score_seconds:,.0f} tokens/s (median of 3)")

    started = time.perf_counter()
    report = explain_bptt()
    seconds = time.perf_counter() - started
    print(f"\n`nextword explain bptt` (T 20, H 16, d 8, |V| 20, seed 0) in {seconds:.2f} s:\n")
    print(table(["check", "largest relative error"], [
        ["analytic vs central differences (ε = 1e-5), all parameters",
         f"{report.gradient_check_max:.1e}"],
        ["(1/T) Σ_t Σ_i ∂J(t)/∂W_h\\|(i) vs backward()", f"{report.sum_check:.1e}"],
        ["backward(k) vs last-k sums, k = 1..20", f"{report.truncation_check:.1e}"],
    ]))


if __name__ == "__main__":
    main()
