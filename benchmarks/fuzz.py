"""Fuzz the readers of user files for a fixed time each: every input must either load or end in
one NextwordError (the one-line message the CLI prints); any other exception is a crash.

    python benchmarks/fuzz.py --seconds 60            # per target; prints a table
    python benchmarks/fuzz.py --seconds 5 --target arpa

Targets: the corpus reader (plain, gzip, with a byte-order mark), the ARPA reader (plain and
gzip), the vocabulary reader, and model.json loading (n-gram and numpy-rnn folders, with and
without the checksum list); each loaded model then scores a sentence and samples a few at four
settings (temperatures 0.01 to 3, top-k, top-p), whose word ids must lie in the vocabulary.
Inputs are mutations of valid seed files (byte flips, insertions, deletions, truncation, line
swaps and duplications, numbers replaced by extreme ones; for model.json, values replaced by
random JSON), drawn from a seeded generator: a run is reproducible. A crash is reported once per
(exception type, innermost nextword frame) with the input that caused it saved for a test.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from nextword.errors import NextwordError  # noqa: E402

LINES = ["the cat sat on the mat", "the dog ran in the park", "a cat sat", "a dog ran",
         "the cat ran", "a dog sat on the mat"]
EXTREME = [b"0", b"-1", b"30", b"-30", b"999999999999", b"1e308", b"-1e308", b"nan", b"inf",
           b"-inf", b"1.5", b"-0", b"18446744073709551617", b"", b"x"]


# ---- mutations ------------------------------------------------------------------------------
def mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(8)
        if choice == 0 and data:                                    # flip a byte
            i = rng.randrange(len(data))
            data[i] = rng.randrange(256)
        elif choice == 1:                                           # insert bytes
            i = rng.randrange(len(data) + 1)
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif choice == 2 and data:                                  # delete a run
            i = rng.randrange(len(data))
            del data[i:i + rng.randint(1, 16)]
        elif choice == 3 and data:                                  # truncate
            del data[rng.randrange(len(data)):]
        elif choice in (4, 5):                                      # swap or repeat lines
            lines = bytes(data).split(b"\n")
            if len(lines) > 1:
                i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
                if choice == 4:
                    lines[i], lines[j] = lines[j], lines[i]
                else:
                    lines.insert(i, lines[j])
                data = bytearray(b"\n".join(lines))
        elif choice == 6:                                           # a number made extreme
            digits = [i for i, b in enumerate(data) if 48 <= b <= 57]
            if digits:
                i = rng.choice(digits)
                j = i
                while j < len(data) and (48 <= data[j] <= 57 or data[j] in b".-e"):
                    j += 1
                data[i:j] = rng.choice(EXTREME)
        else:                                                       # special characters
            i = rng.randrange(len(data) + 1)
            data[i:i] = rng.choice([b"\x00", b"\xef\xbb\xbf", b"\t", b"\r", b"\\", b" ", b"\xff",
                                    b"\xc3", b"<s>", b"</s>", b"<unk>", b"\\end\\", b"\n\n"])
    return bytes(data)


def random_json(rng: random.Random, depth: int = 0):
    kinds = ["int", "float", "str", "bool", "null"] + (["list", "dict"] if depth < 2 else [])
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.choice([0, -1, 1, 2, 3, 21, 10**12, -(10**12), 2**63, rng.randint(-5, 50)])
    if kind == "float":
        return rng.choice([0.0, -1.5, 1e308, float("nan"), float("inf"), 0.25])
    if kind == "str":
        return rng.choice(["", "ngram", "lstm", "../x", "/etc/passwd", "backoff", "uniform",
                           "a" * 300, "arrays/keys_2.npy", "weights.npz", "vocab.txt"])
    if kind == "bool":
        return rng.choice([True, False])
    if kind == "null":
        return None
    if kind == "list":
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["type", "order", "config", "files", "x"]): random_json(rng, depth + 1)
            for _ in range(rng.randint(0, 3))}


def mutate_json(text: bytes, rng: random.Random) -> bytes:
    """Replace, remove or add values anywhere in a JSON object (or mutate its bytes)."""
    if rng.random() < 0.3:
        return mutate(text, rng)
    meta = json.loads(text)
    for _ in range(rng.randint(1, 3)):
        path, node = [], meta
        while isinstance(node, dict) and node and rng.random() < 0.6:
            key = rng.choice(list(node))
            if not isinstance(node[key], dict):
                break
            path.append(key)
            node = node[key]
        if not isinstance(node, dict):
            continue
        action = rng.randrange(3)
        if action == 0 and node:
            node[rng.choice(list(node))] = random_json(rng)
        elif action == 1 and node:
            del node[rng.choice(list(node))]
        else:
            node[rng.choice(["order", "type", "files", "config", "weights", "fallback",
                             "unseen_context_logbackoff", "estimator"])] = random_json(rng)
    if rng.random() < 0.2:
        meta = random_json(rng)
    return json.dumps(meta).encode()


# ---- targets ----------------------------------------------------------------------------------
def make_seeds(work: Path) -> dict:
    from nextword.ngram.arpa import write_arpa
    from nextword.ngram.estimators import make_estimator
    from nextword.ngram.model import NgramModel
    from nextword.reference.model import NumpyRNNModel
    from nextword.text.vocabulary import Vocabulary

    sentences = [line.split() for line in LINES]
    text = ("\n".join(LINES) + "\n").encode()
    lm = NgramModel.fit(sentences, 3, make_estimator("modified-kneser-ney", discount_fallback=True))
    lm.save(work / "seed-ngram")
    NumpyRNNModel.initialise(Vocabulary.build(sentences), 3, 4).save(work / "seed-numpy-rnn")
    write_arpa(lm, work / "seed.arpa")
    arpa = (work / "seed.arpa").read_bytes()
    return {
        "corpus": [text, gzip.compress(text), b"\xef\xbb\xbf" + text],
        "arpa": [arpa, gzip.compress(arpa)],
        "vocabulary": [(work / "seed-ngram" / "vocab.txt").read_bytes()],
        "model.json": [("seed-ngram", (work / "seed-ngram" / "model.json").read_bytes()),
                       ("seed-numpy-rnn", (work / "seed-numpy-rnn" / "model.json").read_bytes())],
    }


def run_corpus(data: bytes, work: Path, rng) -> None:
    from nextword.text.corpora import file_corpus

    path = work / "input.txt"
    path.write_bytes(data)
    for sentence in file_corpus(path):
        assert all(isinstance(t, str) and t for t in sentence)


def run_arpa(data: bytes, work: Path, rng) -> None:
    from nextword.ngram.arpa import read_arpa

    path = work / "input.arpa"
    path.write_bytes(data)
    score(read_arpa(path))


def run_vocabulary(data: bytes, work: Path, rng) -> None:
    from nextword.text.vocabulary import Vocabulary

    path = work / "vocab.txt"
    path.write_bytes(data)
    vocab = Vocabulary.load(path)
    vocab.decode(vocab.encode(["the", "zebra"]))


def run_model_json(item, work: Path, rng) -> None:
    from nextword.model import load_model

    folder, data = item
    target = work / "model"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(work / folder, target)
    (target / "model.json").write_bytes(data)
    score(load_model(target))


SAMPLING = [dict(), dict(temperature=0.01), dict(temperature=0.05, top_k=3),
            dict(temperature=3.0, top_p=0.5)]


def score(lm) -> None:
    """Use the loaded model as eval and generate do: a deferred error shows here. Samples at
    low and high temperatures, with top-k and top-p, must be word ids of the vocabulary (an id
    of -1 would be decoded as the last word without an error)."""
    import numpy as np

    from nextword.generate import SamplingConfig, generate

    for logprobs in lm.sentence_logprobs([lm.vocab.encode(["the", "cat", "zebra"])]):
        assert logprobs.shape == (4,) and not np.isnan(logprobs).any()
    for settings in SAMPLING:
        config = SamplingConfig(max_length=5, **settings)
        make = getattr(lm, "batch_sampler", None)
        sampler = make(config) if make is not None else None
        if sampler is None:
            generate(lm, 1, seed=0, config=config)
            continue
        for ids in sampler.sentences(3, seed=0):
            # <unk> (0) or a word past the markers <s> (1) and </s> (2, which ends a sentence)
            assert ((ids == 0) | ((ids > 2) & (ids < len(lm.vocab)))).all(), (settings, ids)


TARGETS = {
    "corpus": (run_corpus, mutate),
    "arpa": (run_arpa, mutate),
    "vocabulary": (run_vocabulary, mutate),
    "model.json": (run_model_json, None),
}


def fuzz(name: str, seconds: float, seeds: list, work: Path, rng: random.Random, crashes_dir: Path):
    run, mutator = TARGETS[name]
    tried, clean, loaded, crashes = 0, 0, 0, {}
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        seed = rng.choice(seeds)
        if name == "model.json":
            folder, data = seed
            item = (folder, mutate_json(data, rng))
            if rng.random() < 0.3:                  # without the checksums: the loaders' own checks
                try:
                    meta = json.loads(item[1])
                    if isinstance(meta, dict):
                        meta.pop("files", None)
                        item = (folder, json.dumps(meta).encode())
                except ValueError:
                    pass
        else:
            item = mutator(seed, rng)
        tried += 1
        try:
            run(item, work, rng)
            loaded += 1
        except NextwordError as error:
            assert "\n" not in str(error), str(error)
            clean += 1
        except Exception as error:                  # a crash: anything but a NextwordError
            frames = [f for f in traceback.extract_tb(error.__traceback__) if "nextword" in f.filename]
            where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
            key = (type(error).__name__, where)
            if key not in crashes:
                crashes[key] = str(error)[:100]
                data = item[1] if name == "model.json" else item
                (crashes_dir / f"{name}-{len(crashes)}.bin").write_bytes(data)
    return tried, loaded, clean, crashes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="time per target")
    parser.add_argument("--target", choices=list(TARGETS), action="append")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--crashes", type=Path, default=Path("fuzz-crashes"),
                        help="where inputs that crashed are saved")
    args = parser.parse_args()
    args.crashes.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        seeds = make_seeds(work)
        devnull = open(os.devnull, "w")
        for name in args.target or list(TARGETS):
            stderr, sys.stderr = sys.stderr, devnull         # notes (a BOM skipped) are not news
            try:
                rows.append((name, *fuzz(name, args.seconds, seeds[name], work, rng, args.crashes)))
            finally:
                sys.stderr = stderr
    print(f"# nextword fuzzing, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{args.seconds:g} s per target, seed {args.seed}")
    print("| target | inputs tried | loaded | one-line error | distinct crashes |")
    print("|---|---:|---:|---:|---:|")
    for name, tried, loaded, clean, crashes in rows:
        print(f"| {name} | {tried:,} | {loaded:,} | {clean:,} | {len(crashes)} |")
    for name, *_, crashes in rows:
        for (kind, where), message in crashes.items():
            print(f"crash in {name}: {kind} at {where}: {message}")


if __name__ == "__main__":
    main()
