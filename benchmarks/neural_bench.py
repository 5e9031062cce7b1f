"""Neural LMs on Penn Treebank within a wall-clock budget: test perplexity, tokens/s, memory.

    python benchmarks/neural_bench.py --time-budget 30m                 # the table (~1.5 h)
    python benchmarks/neural_bench.py --time-budget 3m --output runs/smoke   # a smoke check
    python benchmarks/neural_bench.py --step-profile                    # tokens/s of one step

Each model trains in its own process (so peak memory is its own) with `--time-budget` of wall
clock for training plus evaluation: training stops early enough to leave room for the final
validation and the test evaluation (one stream, state carried across lines, 82,430 tokens).
Results go to OUTPUT/results.jsonl; a rerun skips finished models and continues unfinished
ones from their resume.pt (kill it any time and rerun the same command). The table is printed
with the machine and the date. Needs $NEXTWORD_DATA (or ../shared/data) with ptb/.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from nextword.neural.config import parse_duration  # noqa: E402

DEFAULT_MODELS = "lstm:lstm-budget,rnn:rnn-budget,window:window-budget"


def machine(threads: int) -> str:
    import torch

    return f"{common.machine()}, torch {torch.__version__}, {threads} thread(s)"


def run_one(kind: str, preset: str, budget: float, output: Path, threads: int, overrides: dict) -> dict:
    """Train (or resume) one model within `budget` seconds, then score ptb:test."""
    import torch

    from nextword.evaluate import evaluate
    from nextword.model import load_model
    from nextword.neural.checkpoint import RESUME_FILE, config_from_dict
    from nextword.neural.presets import preset_fields
    from nextword.neural.train import TrainConfig, train
    from nextword.text.corpora import load_corpus
    from nextword.text.vocabulary import Vocabulary

    torch.set_num_threads(threads)
    model_fields, train_fields = preset_fields(kind, preset, overrides)
    started = time.monotonic()
    sentences = list(load_corpus("ptb:train"))
    valid = list(load_corpus("ptb:valid"))
    vocab = Vocabulary.build(sentences)
    setup = time.monotonic() - started
    # the budget covers reading the data, training with its evaluations, and the test
    # evaluation; leave room for the last (about one validation pass: 10-20 s here)
    reserve = min(60.0, 0.05 * budget)
    config = TrainConfig(**{**train_fields, "time_budget": budget - setup - reserve,
                            "threads": threads})
    model_config = config_from_dict(kind, {"vocab_size": len(vocab), **model_fields})
    result = train(model_config, config, vocab, sentences, valid, output,
                   resume=(output / RESUME_FILE).exists())
    lm = load_model(output)
    test_start = time.monotonic()
    test = evaluate(lm, load_corpus("ptb:test"))
    test_seconds = time.monotonic() - test_start
    return {
        "model": kind, "preset": preset, "parameters": lm.net.num_parameters(),
        "status": result.status, "epochs": result.as_dict()["epochs"], "steps": result.position.step,
        "train_tokens_per_s": round(result.tokens_per_second),
        "best_valid_perplexity": round(result.best_valid_perplexity, 2),
        "test_perplexity": round(test.perplexity, 2), "test_tokens": test.tokens,
        "test_eval_s": round(test_seconds, 1),
        "train_wall_s": round(result.position.elapsed, 1), "setup_s": round(setup, 1),
        "this_run_wall_s": round(time.monotonic() - started, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "budget_s": budget, "overrides": overrides,
    }


def step_profile(threads: int, steps: int = 12) -> list[dict]:
    """Median tokens/s of one training step (forward, loss, backward, update) per variant."""
    import torch

    from nextword.neural.recurrent import RecurrentConfig, build_net
    from nextword.neural.train import SampledSoftmax, full_softmax_loss, train_step

    import numpy as np

    torch.set_num_threads(threads)
    V, rows = 10001, []
    counts = np.ones(V)
    for (B, T, H) in [(20, 35, 200), (64, 35, 256)]:
        for precision in ("fp32", "bf16"):
            for softmax in ("full", "sampled"):
                torch.manual_seed(0)
                net = build_net(RecurrentConfig("lstm", V, H, H, 2, dropout=0.2, tie=True))
                opt = torch.optim.SGD(net.parameters(), lr=0.1)
                sampler = SampledSoftmax(counts, 1024, torch.Generator().manual_seed(0), "cpu")
                x, y = torch.randint(3, V, (T, B)), torch.randint(3, V, (T, B))
                state, times = net.initial_state(B), []
                autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")
                loss_fn = sampler.loss if softmax == "sampled" else full_softmax_loss
                for _ in range(steps):
                    start = time.perf_counter()
                    _, state = train_step(net, opt, x, y, state, loss_fn, autocast, clip=0.0)
                    times.append(time.perf_counter() - start)
                median = sorted(times[2:])[len(times[2:]) // 2]
                rows.append({"lstm": f"2x{H} tied", "batch": B, "bptt": T, "precision": precision,
                             "softmax": softmax, "tokens_per_s": round(B * T / median)})
    return rows


def table(rows: list[dict]) -> str:
    head = ("| model | preset | params | train tok/s | epochs | valid ppl | test ppl | test tokens "
            "| wall s | peak MiB | status |")
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        lines.append(f"| {r['model']} | {r['preset']} | {r['parameters']:,} | {r['train_tokens_per_s']:,} "
                     f"| {r['epochs']:.2f} | {r['best_valid_perplexity']:.2f} | {r['test_perplexity']:.2f} "
                     f"| {r['test_tokens']:,} | {r['setup_s'] + r['train_wall_s'] + r['test_eval_s']:.0f} "
                     f"| {r['peak_rss_mib']:,} | {r['status']} |")
    return "\n".join(lines)


def parse_setting(item: str) -> tuple[str, object]:
    """'lr=0.002' -> ('lr', 0.002); 'softmax=full' -> ('softmax', 'full'): a value is JSON when
    it parses as JSON (numbers, true, false, null, lists), else the plain string."""
    name, _, value = item.partition("=")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-budget", default="30m", help="per model, e.g. 3m, 30m (default 30m)")
    parser.add_argument("--models", default=DEFAULT_MODELS,
                        help=f"comma-separated type:preset (default {DEFAULT_MODELS})")
    parser.add_argument("--output", type=Path, default=Path("runs/neural-bench"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a training or model field of every model, e.g. --set lr=0.002 "
                        "--set dropout=0.5")
    parser.add_argument("--step-profile", action="store_true", help="only time the training step")
    parser.add_argument("--one", nargs=2, metavar=("TYPE", "PRESET"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    overrides = dict(parse_setting(item) for item in args.set)
    if args.step_profile:
        rows = step_profile(args.threads)
        print(f"# training-step throughput, {machine(args.threads)}")
        print("| LSTM | B | T | precision | softmax | tokens/s |\n|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['lstm']} | {r['batch']} | {r['bptt']} | {r['precision']} | {r['softmax']} "
                  f"| {r['tokens_per_s']:,} |")
        return 0
    budget = parse_duration(args.time_budget)
    if args.one:
        kind, preset = args.one
        print(json.dumps(run_one(kind, preset, budget, args.output / preset, args.threads, overrides)))
        return 0
    args.output.mkdir(parents=True, exist_ok=True)
    results_path = args.output / "results.jsonl"
    done = {}
    if results_path.exists():
        for line in results_path.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                done[record["preset"]] = record
    for spec in args.models.split(","):
        kind, _, preset = spec.partition(":")
        if preset in done:
            print(f"{preset}: done earlier, skipped (delete its line in {results_path} to rerun)",
                  file=sys.stderr)
            continue
        print(f"{preset}: training {kind} for {args.time_budget} ...", file=sys.stderr, flush=True)
        command = [sys.executable, __file__, "--one", kind, preset, "--time-budget", args.time_budget,
                   "--output", str(args.output), "--threads", str(args.threads)]
        for item in args.set:
            command += ["--set", item]
        completed = subprocess.run(command, stdout=subprocess.PIPE, text=True)
        if completed.returncode != 0:
            print(f"{preset}: failed (exit {completed.returncode}); rerun to resume", file=sys.stderr)
            return completed.returncode
        record = json.loads(completed.stdout.strip().splitlines()[-1])
        with open(results_path, "a") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
        done[preset] = record
    print(f"# neural models on PTB, budget {args.time_budget} per model, {machine(args.threads)}")
    print(table(list(done.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
