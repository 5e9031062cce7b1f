"""bptt-length: segments of about 100 tokens make training feasible.

Truncated BPTT keeps the graph of one segment of T steps: memory grows with T, and the whole
training stream as one segment (T ≈ 29,000 steps per column on PTB) would not fit. The same
LSTM is trained for the same time with T = 5, 20, 35, 100, 200; recorded: training tokens/s,
the bytes of the tensors autograd saves for one step's backward pass (measured with
torch.autograd.graph.saved_tensors_hooks), and validation perplexity after the fixed time.

Decision rule, fixed before any run:
    Holds if all of: (a) the memory saved for backward grows in proportion to T (a straight
    line through the measured points with R² > 0.99), so the whole training stream as one segment
    would need more than 1 GiB, unlike T = 100; (b) after the same training time, T = 100 reaches a
    validation perplexity within 5% of the best T; (c) T = 100 trains at least as many tokens per
    second as T = 5 (longer segments cost no speed). Partly if some hold, does not hold if none does.
"""
from __future__ import annotations

import numpy as np
import torch

from nextword.experiments.base import Table, Verdict, decide, figure, rule_of
from nextword.experiments.neural_common import (per_run_seconds, prepare, recurrent_config,
                                                scale_of, train_config, train_run)
from nextword.neural.batching import batchify
from nextword.neural.recurrent import build_net
from nextword.neural.train import SampledSoftmax

NAME = "bptt-length"
CLAIM = "Truncated segments of about 100 tokens make training feasible."
EXPECTED = "11 min"
DEFAULT_BUDGET = 600.0
LENGTHS = {False: (5, 20, 35, 100, 200), True: (2, 5)}
RULE = rule_of(__doc__)


def saved_bytes(net, config, data, T: int) -> int:
    """Bytes of the distinct tensors autograd keeps for the backward pass of one T-step step."""
    seen: dict = {}

    def pack(tensor):
        seen[(tensor.data_ptr(), tensor.numel(), tensor.dtype)] = tensor.numel() * tensor.element_size()
        return tensor

    batches = batchify(data.train[: (T + 1) * config.batch_size], config.batch_size)   # (T+1, B)
    inputs, targets = batches[:T], batches[1: T + 1]
    sampler = SampledSoftmax(np.bincount(data.train, minlength=len(data.vocab)), config.num_samples,
                             torch.Generator().manual_seed(0), "cpu")
    net.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        features, _ = net(inputs, net.initial_state(config.batch_size))
        loss = sampler.loss(net, features, targets)
    loss.backward()
    net.zero_grad(set_to_none=True)
    return int(sum(seen.values()))


def run(settings) -> dict:
    scale = scale_of(settings)
    data = prepare(settings.corpus_names()[0])
    lengths = LENGTHS[settings.smoke]
    seconds = per_run_seconds(settings, DEFAULT_BUDGET, len(lengths))
    model = recurrent_config("lstm", data, scale)
    rows = []
    for T in lengths:
        config = train_config(scale, settings.seed, bptt=T)
        torch.manual_seed(settings.seed)
        memory = saved_bytes(build_net(model), config, data, T)
        run = train_run(model, config, data, scale, seconds)
        rows.append({"bptt": T, "saved_bytes_per_step": memory, **run.summary()})
    stream_per_column = len(data.train) // train_config(scale, 0).batch_size
    return {"corpus": data.corpus, "seconds_per_run": seconds, "batch_size": scale.batch_size,
            "stream_steps_per_column": stream_per_column, "rows": rows,
            "full_stream_bytes": _line(rows)(stream_per_column)}


def _line(rows):
    slope, intercept = np.polyfit([r["bptt"] for r in rows], [r["saved_bytes_per_step"] for r in rows], 1)
    return lambda T: float(slope * T + intercept)


def verdict(numbers: dict) -> Verdict:
    rows = sorted(numbers["rows"], key=lambda r: r["bptt"])
    x = np.array([r["bptt"] for r in rows], float)
    y = np.array([r["saved_bytes_per_step"] for r in rows], float)
    fit = _line(rows)
    r2 = 1 - float(((y - np.array([fit(t) for t in x])) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    full = numbers["full_stream_bytes"]
    at = {r["bptt"]: r for r in rows}
    ref = 100 if 100 in at else rows[-1]["bptt"]          # smoke runs have no T = 100
    short = rows[0]["bptt"]
    best = min(rows, key=lambda r: r["valid_perplexity"])
    return decide([
        (r2 > 0.99 and full > 2 ** 30, f"saved memory per step {at[short]['saved_bytes_per_step'] / 1e6:.1f} MB "
         f"(T={short}) to {rows[-1]['saved_bytes_per_step'] / 1e6:.1f} MB (T={rows[-1]['bptt']}), R² of a "
         f"line {r2:.4f}; the whole stream ({numbers['stream_steps_per_column']:,} steps) would need "
         f"{full / 2 ** 30:.1f} GiB"),
        (at[ref]["valid_perplexity"] <= 1.05 * best["valid_perplexity"],
         f"validation perplexity at T={ref}: {at[ref]['valid_perplexity']:.1f}, best "
         f"{best['valid_perplexity']:.1f} at T={best['bptt']}"),
        (at[ref]["tokens_per_second"] >= at[short]["tokens_per_second"],
         f"tokens/s {at[short]['tokens_per_second']:,.0f} at T={short}, "
         f"{at[ref]['tokens_per_second']:,.0f} at T={ref}"),
    ])


def tables(numbers: dict) -> list:
    table = Table(f"LSTM trained {numbers['seconds_per_run']:.0f} s per segment length T "
                  f"({numbers['corpus']}, batch {numbers['batch_size']})",
                  ["T", "saved for backward (MB)", "tokens/s", "tokens trained", "valid ppl"])
    for r in numbers["rows"]:
        table.rows.append([r["bptt"], r["saved_bytes_per_step"] / 1e6, r["tokens_per_second"],
                           r["tokens"], r["valid_perplexity"]])
    table.rows.append([f"{numbers['stream_steps_per_column']:,} (whole stream, extrapolated)",
                       numbers["full_stream_bytes"] / 1e6, None, None, None])
    return [table]


def plots(numbers: dict) -> list:
    rows = numbers["rows"]
    fig, ax = figure(f"Truncated BPTT: segment length T ({numbers['corpus']}, equal time)",
                     "segment length T (steps, log scale)", "validation perplexity")
    ax.plot([r["bptt"] for r in rows], [r["valid_perplexity"] for r in rows], "o-", label="validation perplexity")
    ax.set_xscale("log")
    twin = ax.twinx()
    twin.plot([r["bptt"] for r in rows], [r["saved_bytes_per_step"] / 1e6 for r in rows], "s--",
              color="C1", label="memory saved for backward (MB)")
    twin.set_ylabel("memory saved for backward (MB)")
    ax.legend(loc="upper center", fontsize=8)
    twin.legend(loc="center right", fontsize=8)
    fig2, ax2 = figure("Learning curves by segment length", "training time (CPU seconds)", "validation perplexity (log scale)")
    for r in rows:
        ax2.plot([p["train_s"] for p in r["curve"]], [p["valid_ppl"] for p in r["curve"]], "o-", label=f"T = {r['bptt']}")
    ax2.set_yscale("log")
    ax2.legend()
    return [("bptt.png", fig), ("curves.png", fig2)]
