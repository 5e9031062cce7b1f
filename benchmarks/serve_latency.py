"""Latency of the explorer's API: `nextword serve` in a subprocess on loopback, driven by
concurrent clients that "type" sentences of a corpus word by word as the page does (each
keystroke: /api/next and /api/score at once, on the growing prefix).

    python benchmarks/serve_latency.py MODEL [MODEL ...] [--clients 20] [--seconds 30]

Phases: the model work alone, in this process (no HTTP); a request without model work
(the HTTP floor); one client alone (a keystroke's update as one person sees it: both requests sent
together, the time until both answered), then --clients clients for --seconds under load.
Prints a table of median and p99 per endpoint, with the machine and date. The server runs with
--rate-limit 0 (the per-client limit would otherwise refuse the load, all from one address).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sentences(spec: str, limit: int) -> list[list[str]]:
    sys.path.insert(0, str(ROOT / "src"))
    from nextword.text.corpora import load_corpus

    out = []
    for tokens in load_corpus(spec):
        if 4 <= len(tokens) <= 40:
            out.append(list(tokens))
        if len(out) == limit:
            break
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def keystroke(http: httpx.AsyncClient, text: str, timings: dict) -> float:
    async def one(path, body):
        started = time.perf_counter()
        response = await http.post(path, json=body)
        response.raise_for_status()
        timings[path].append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(one("/api/next", {"text": text, "k": 10}),
                         one("/api/score", {"text": text}))
    return time.perf_counter() - started


async def typist(base: str, texts: list[list[str]], offset: int, stop: float, timings: dict,
                 strokes: list) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        i = offset
        while time.perf_counter() < stop:
            words = texts[i % len(texts)]
            for n in range(1, len(words) + 1):
                if time.perf_counter() >= stop:
                    return
                strokes.append(await keystroke(http, " ".join(words[:n]) + " ", timings))
            i += 1


async def http_floor(base: str, count: int = 200) -> list[float]:
    """GET /api/models one after the other: the same server and client with no model work, the
    floor any request pays on this machine at this moment."""
    times = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        for _ in range(count):
            started = time.perf_counter()
            (await http.get("/api/models")).raise_for_status()
            times.append(time.perf_counter() - started)
    return times


async def run(base: str, texts, clients: int, seconds: float) -> tuple[dict, list]:
    timings: dict = {"/api/next": [], "/api/score": []}
    strokes: list = []
    stop = time.perf_counter() + seconds
    await asyncio.gather(*(typist(base, texts, c * 7, stop, timings, strokes)
                           for c in range(clients)))
    return timings, strokes


def in_process(models: list[str], texts, sentences_typed: int = 12) -> list[float]:
    """The model work of one keystroke without HTTP: next (k = 10) and score of every model, one
    after the other, on the growing prefix (PyTorch on one thread, as the server sets it)."""
    from nextword.model import load_model
    from nextword.serve.explorer import ServedModel

    served = [ServedModel(Path(m).name, load_model(m)) for m in models]
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(1)
    for m in served:                                   # warm-up on another sentence
        m.next(texts[-1], 10)
        m.score(texts[-1])
    times = []
    for words in texts[:sentences_typed]:
        for n in range(1, len(words) + 1):
            started = time.perf_counter()
            for m in served:
                m.next(words[:n], 10)
                m.score(words[:n])
            times.append(time.perf_counter() - started)
    return times


def row(label: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"| {label} | {len(ms):,} | {statistics.median(ms):.1f} | {percentile(ms, 0.99):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--alone-seconds", type=float, default=15)
    parser.add_argument("--corpus", default="ptb:valid")
    args = parser.parse_args()

    texts = sentences(args.corpus, 400)
    compute = in_process(args.models, texts[200:])
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen([sys.executable, "-m", "nextword", "serve", *args.models,
                               "--port", str(port), "--rate-limit", "0"],
                              env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                httpx.get(base + "/api/models", timeout=5).raise_for_status()
                break
            except httpx.HTTPError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.5)
        asyncio.run(run(base, texts[-20:], 1, 3))                   # warm-up, other sentences
        floor = asyncio.run(http_floor(base))
        alone, alone_strokes = asyncio.run(run(base, texts, 1, args.alone_seconds))
        loaded, loaded_strokes = asyncio.run(run(base, texts[100:], args.clients, args.seconds))
    finally:
        server.terminate()
        server.wait(30)

    names = ", ".join(Path(m).name for m in args.models)
    print(f"# serve latency: {names}")
    cpu = platform.processor() or platform.machine()
    print(f"# {platform.node()} · {os.cpu_count()} CPUs · {cpu} · Python "
          f"{platform.python_version()} · {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"# texts: prefixes of {args.corpus} sentences typed word by word; load: "
          f"{args.clients} clients for {args.seconds:g} s")
    print("| phase · request | requests | median ms | p99 ms |")
    print("|---|---:|---:|---:|")
    print(row("in process, no HTTP · keystroke (next + score, every model)", compute))
    print(row("1 client · GET /api/models (no model work: the HTTP floor)", floor))
    print(row("1 client · keystroke (next + score together)", alone_strokes))
    for path, values in alone.items():
        print(row(f"1 client · {path}", values))
    print(row(f"{args.clients} clients · keystroke", loaded_strokes))
    for path, values in loaded.items():
        print(row(f"{args.clients} clients · {path}", values))
    total = sum(len(v) for v in loaded.values())
    print(f"# under load: {total / args.seconds:.0f} requests/s answered; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
