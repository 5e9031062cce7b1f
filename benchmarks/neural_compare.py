"""Short per-token comparisons of training recipes on PTB (used to choose the budget presets).

Each variant trains for a fixed number of steps (so the same number of tokens whatever the
machine's load) and reports the validation perplexity at each evaluation and its tokens/s.

    python benchmarks/neural_compare.py --threads 1 softmax      # full vs sampled, fp32 vs bf16
    python benchmarks/neural_compare.py --threads 1 optimizers   # SGD vs NAdamW per model
    python benchmarks/neural_compare.py --threads 1 rnn          # what keeps the Elman RNN stable
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

SOFTMAX = {   # 2x200 tied LSTM, the PyTorch example's recipe; 380 steps = 266,000 tokens
    "full-fp32": ("lstm", {}, {}),
    "full-bf16": ("lstm", {}, dict(precision="bf16")),
    "sampled-bf16": ("lstm", {}, dict(precision="bf16", softmax="sampled")),
}
LSTM200 = (dict(embedding_dim=200, hidden_dim=200, num_layers=2, dropout=0.2, tie=True),
           dict(optimizer="sgd", lr=20.0, clip=0.25, bptt=35, batch_size=20, evals_per_epoch=7,
                max_steps=380))
BF16_SAMPLED = dict(precision="bf16", softmax="sampled", bptt=35, evals_per_epoch=4)
RNN = dict(embedding_dim=400, hidden_dim=400, num_layers=1, dropout=0.2, tie=True)
WINDOW = dict(window=6, embedding_dim=256, hidden_dim=512, dropout=0.3, tie=True)
LSTM400 = dict(embedding_dim=400, hidden_dim=400, num_layers=2, dropout=0.4, tie=True)
NADAMW = dict(optimizer="nadamw", weight_decay=0.01)
OPTIMIZERS = {   # 466,000 tokens each (666 x 20 x 35, 210 x 64 x 35, 420 x 32 x 35)
    "rnn-sgd-lr1": ("rnn", RNN, dict(optimizer="sgd", lr=1.0, clip=0.25, batch_size=20, max_steps=666)),
    "rnn-sgd-lr5": ("rnn", RNN, dict(optimizer="sgd", lr=5.0, clip=0.25, batch_size=20, max_steps=666)),
    "rnn-sgd-lr20": ("rnn", RNN, dict(optimizer="sgd", lr=20.0, clip=0.25, batch_size=20, max_steps=666)),
    "rnn-nadamw": ("rnn", RNN, dict(NADAMW, lr=2e-3, clip=0.25, batch_size=20, max_steps=666)),
    "window-sgd-lr2": ("window", WINDOW, dict(optimizer="sgd", lr=2.0, clip=0.5, batch_size=64, max_steps=210)),
    "window-nadamw": ("window", WINDOW, dict(NADAMW, lr=2e-3, clip=0.5, batch_size=64, max_steps=210)),
    "lstm400-sgd-lr20": ("lstm", LSTM400, dict(optimizer="sgd", lr=20.0, clip=0.25, batch_size=32, max_steps=420)),
    "lstm400-nadamw": ("lstm", LSTM400, dict(NADAMW, lr=3e-3, clip=0.5, batch_size=64, max_steps=210)),
}


RNN512 = dict(embedding_dim=512, hidden_dim=512, num_layers=1, dropout=0.3, tie=True)
RNN_NADAMW = dict(NADAMW, clip=0.25)                 # with BF16_SAMPLED: T 35, 4 evaluations an epoch
RNN_STABILITY = {
    "rnn512-B32-lr3e-3": ("rnn", RNN512, dict(**RNN_NADAMW, **BF16_SAMPLED, lr=3e-3, batch_size=32, max_steps=416)),
    "rnn400-B32-lr3e-3": ("rnn", RNN, dict(**RNN_NADAMW, **BF16_SAMPLED, lr=3e-3, batch_size=32, max_steps=416)),
    "rnn512-B20-lr2e-3": ("rnn", RNN512, dict(**RNN_NADAMW, **BF16_SAMPLED, lr=2e-3, batch_size=20, max_steps=666)),
    "rnn400-B20-lr2e-3-epoch": ("rnn", RNN, dict(**RNN_NADAMW, **BF16_SAMPLED, lr=2e-3, batch_size=20, max_steps=1330)),
    "rnn400-B32-lr1e-3-epoch": ("rnn", RNN, dict(**RNN_NADAMW, **BF16_SAMPLED, lr=1e-3, batch_size=32, max_steps=830)),
    "rnn400-B32-lr1e-3-fp32-sampled": ("rnn", RNN, dict(**RNN_NADAMW, bptt=35, evals_per_epoch=4, lr=1e-3, batch_size=32, max_steps=416, softmax="sampled")),
    "rnn400-B32-lr1e-3-bf16-full": ("rnn", RNN, dict(**RNN_NADAMW, bptt=35, evals_per_epoch=4, lr=1e-3, batch_size=32, max_steps=416, precision="bf16")),
    "rnn400-B20-sgd-lr20-bf16-full": ("rnn", RNN, dict(optimizer="sgd", lr=20.0, clip=0.25, bptt=35, evals_per_epoch=4,
                                                      precision="bf16", batch_size=20, max_steps=666)),
}


def variants(group: str) -> dict:
    if group == "rnn":
        return dict(RNN_STABILITY)
    if group == "softmax":
        model, train = LSTM200
        return {name: (kind, model, {**train, **extra}) for name, (kind, _, extra) in SOFTMAX.items()}
    return {name: (kind, model, {**BF16_SAMPLED, **train}) for name, (kind, model, train) in OPTIMIZERS.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("group", choices=["softmax", "optimizers", "rnn"])
    parser.add_argument("--only", default=None, help="comma-separated variant names")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    import torch

    from nextword.neural import TrainConfig
    from nextword.neural.train import train
    from nextword.neural.checkpoint import config_from_dict
    from nextword.text.corpora import load_corpus
    from nextword.text.vocabulary import Vocabulary

    torch.set_num_threads(args.threads)
    train_sentences, valid = list(load_corpus("ptb:train")), list(load_corpus("ptb:valid"))
    vocab = Vocabulary.build(train_sentences)
    chosen = variants(args.group)
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
    print(f"| variant | tokens | valid ppl at each evaluation | train tok/s ({args.threads} thread(s)) |")
    print("|---|---|---|---|")
    for name, (kind, model, fields) in chosen.items():
        output = Path(tempfile.mkdtemp(prefix=f"compare-{name}-"))
        started = time.monotonic()
        result = train(config_from_dict(kind, {"vocab_size": len(vocab), **model}),
                       TrainConfig(**{"epochs": 1, "early_stop": 0, **fields}), vocab,
                       train_sentences, valid, output)
        shutil.rmtree(output, ignore_errors=True)
        ppl = ", ".join(f"{r['valid_perplexity']:.1f}" for r in result.position.history)
        print(f"| {name} | {result.position.tokens:,} | {ppl} | {result.tokens_per_second:,.0f} |",
              flush=True)
        print(f"{name}: {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
