"""Model combination on a standard corpus: KN5, RNN, LSTM, their EM-fitted linear mixtures, each
recurrent model with the continuous cache, with dynamic evaluation, with both, and all of it mixed.

Every component scores the validation and the test text once (its own convention: n-gram per
sentence, neural as one stream); mixture weights are fitted by EM on the validation matrix and
the test perplexity read from the test matrix, which is what `nextword mix ... --valid` then
`nextword eval MIXTURE --corpus TEST` compute (tests/combine check that the two agree). The
cache's L, θ, λ and dynamic evaluation's η, decay are tuned on validation as `nextword adapt`
tunes them, for each recurrent model on its own; it reads each text once statically and once
dynamically, and the cache is applied to the features stored from that reading (the same scores
as AdaptedLM with the cache, tests/combine/test_adapted.py checks it), so "+dynamic+cache" costs
no third reading.
Prints a table (markdown) and writes the same as JSON with --json.

    python benchmarks/combination_bench.py --corpus ptb --kn5 M/ptb-kn5 --rnn M/ptb-rnn \\
        --lstm M/ptb-lstm [--device cuda] [--tune-lines 1000] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from nextword.combine import tuning                                        # noqa: E402
from nextword.combine.adapted import AdaptedLM                             # noqa: E402
from nextword.combine.mixture import Mixture, fit_linear, linear_logprobs, perplexity  # noqa: E402
from nextword.model import load_model                                       # noqa: E402
from nextword.text.corpora import load_corpus                               # noqa: E402


def on_device(lm, device):
    import torch

    if hasattr(lm, "net"):
        lm.net.to(device)
        lm.device = torch.device(device)
    return lm


def torch_threads():
    import torch

    return torch.get_num_threads()


def scored(model, sentences):
    began = time.perf_counter()
    out = np.concatenate(list(model.sentence_logprobs(sentences)))
    return out, time.perf_counter() - began


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="ptb", help="ptb or wikitext-2")
    ap.add_argument("--kn5", required=True)
    ap.add_argument("--rnn", default=None)
    ap.add_argument("--lstm", required=True)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tune-lines", type=int, default=300,
                    help="validation lines dynamic evaluation is tuned on")
    ap.add_argument("--lrs", default="0.1,0.3,1")
    ap.add_argument("--decays", default="0,0.01")
    ap.add_argument("--segment", type=int, default=20)
    ap.add_argument("--lines", type=int, default=None,
                    help="use the first N lines of validation and test text only (every row)")
    ap.add_argument("--no-dynamic", action="store_true",
                    help="skip dynamic evaluation (its rows), e.g. on a slow machine")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    c = args.corpus
    print(f"# combination_bench {c}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"{platform.node()}, device {args.device}, torch threads {torch_threads()}, "
          f"lines {args.lines or 'all'}", flush=True)

    models = {"KN5": load_model(args.kn5), "LSTM": on_device(load_model(args.lstm), args.device)}
    if args.rnn:
        models["RNN"] = on_device(load_model(args.rnn), args.device)
    vocab = models["LSTM"].vocab
    ids = {}
    for split in ("valid", "test"):
        ids[split] = [vocab.encode(s) for s in load_corpus(f"{c}:{split}")][: args.lines]
    lstm = models["LSTM"]
    # ---- each recurrent model read statically and dynamically: each split read once per
    # ---- reader, the cache applied to the stored features (tuning.cache_logprobs_on_trace) -----
    log = {}
    matrix, seconds = {"valid": {}, "test": {}}, {}
    lrs = [float(x) for x in args.lrs.split(",")]
    decays = [float(x) for x in args.decays.split(",")]
    for base in [name for name in ("RNN", "LSTM") if name in models]:
        net = models[base]
        readers = [(base, AdaptedLM(net))]
        began = time.perf_counter()
        dynamic, rows = (None, []) if args.no_dynamic else tuning.tune_dynamic(
            net, ids["valid"][: args.tune_lines], lrs, decays, args.segment,
            report=lambda r: print("  ", r, flush=True))
        log[base + "+dynamic"] = {"config": asdict(dynamic) if dynamic else None, "grid": rows,
                                  "lines": args.tune_lines, "seconds": time.perf_counter() - began}
        if dynamic is not None:
            readers.append((base + "+dynamic", AdaptedLM(net, dynamic=dynamic)))
            print(f"{base}: dynamic evaluation tuned on {args.tune_lines} lines: {dynamic} "
                  f"({log[base + '+dynamic']['seconds']:.0f} s)", flush=True)
        for name, reader in readers:
            traces = {}
            for split in ("valid", "test"):
                began = time.perf_counter()
                traces[split] = reader.trace(ids[split])
                seconds[name] = time.perf_counter() - began
                matrix[split][name] = traces[split][2]
            began = time.perf_counter()
            cache, rows = tuning.tune_cache_on_trace(*traces["valid"])
            log[name + "+cache"] = {"config": asdict(cache), "grid": rows,
                                    "seconds": time.perf_counter() - began}
            print(f"{name}: cache tuned on valid: {cache}", flush=True)
            for split in ("valid", "test"):
                began = time.perf_counter()
                matrix[split][name + "+cache"] = tuning.cache_logprobs_on_trace(*traces[split], cache)
                extra = time.perf_counter() - began
            seconds[name + "+cache"] = seconds[name] + extra
            del traces
    for name in matrix["test"]:
        models.setdefault(name, None)

    # ---- the other components score validation and test once ---------------------------------
    for name, model in models.items():
        if name in matrix["test"]:
            continue
        to_model = Mixture([lstm, model], [0.5, 0.5]).to_component[1]     # map ids when needed
        for split in ("valid", "test"):
            matrix[split][name], t = scored(model, [to_model[s] for s in ids[split]])
            if split == "test":
                seconds[name] = t
    for name in models:
        print(f"{name}: valid {perplexity(matrix['valid'][name]):.2f} test "
              f"{perplexity(matrix['test'][name]):.2f} ({seconds[name]:.1f} s on test)", flush=True)

    table = []
    for name in ("KN5", "RNN", "RNN+cache", "RNN+dynamic", "RNN+dynamic+cache",
                 "LSTM", "LSTM+cache", "LSTM+dynamic", "LSTM+dynamic+cache"):
        if name not in models:
            continue
        table.append({"model": name, "test": perplexity(matrix["test"][name]),
                      "valid": perplexity(matrix["valid"][name]), "seconds": seconds[name]})
    mixes = [["KN5", "RNN"], ["KN5", "LSTM"], ["KN5", "RNN", "LSTM"], ["KN5", "LSTM+cache"],
             ["KN5", "LSTM+dynamic"], ["KN5", "LSTM+dynamic+cache"],
             ["KN5", "RNN", "LSTM+dynamic+cache"], ["KN5", "RNN+cache", "LSTM+cache"],
             ["KN5", "RNN+dynamic+cache", "LSTM+dynamic+cache"]]
    for parts in mixes:
        if not all(p in models for p in parts):
            continue
        valid = np.stack([matrix["valid"][p] for p in parts], axis=1)
        history = fit_linear(valid)
        weights = history[-1].weights
        test = linear_logprobs(np.stack([matrix["test"][p] for p in parts], axis=1), weights)
        table.append({"model": " + ".join(parts), "test": perplexity(test),
                      "valid": history[-1].perplexity, "weights": weights,
                      "em_iterations": len(history) - 1,
                      "seconds": sum(seconds[p] for p in parts)})
    tokens = sum(len(s) + 1 for s in ids["test"])
    print(f"\n{tokens:,} test tokens")
    print(f"\n| {c} | test ppl | valid ppl | weights (EM iterations) | s per test evaluation |")
    print("| --- | --- | --- | --- | --- |")
    for r in table:
        w = (", ".join(f"{x:.3f}" for x in r["weights"]) + f" ({r['em_iterations']})"
             if "weights" in r else "")
        print(f"| {r['model']} | {r['test']:.2f} | {r['valid']:.2f} | {w} | {r['seconds']:.1f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"corpus": c, "device": args.device, "rows": table,
                                               "tuning": log}, indent=1, default=str))


if __name__ == "__main__":
    main()
