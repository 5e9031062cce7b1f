"""A large synthetic corpus in word ids, sampled from a PTB trigram model with NumPy.

Maximum-likelihood trigram sampling is "pick a random occurrence of the context (a, b) in the
training text and copy the word after it": with the suffix array of PTB, the occurrences of
"a b" are one rank range, so a draw is a uniform rank in it and two array reads. The range of
every bigram type is tabled once (a dense |V|² table of rows, 400 MB for PTB's 10k words), so a
step of all B parallel lanes is a few vectorised gathers, with no search. Sentences start from
the range of "</s>" (without the corpus's final </s>); a lane that samples </s> starts a new
sentence. Each lane is a stream of whole sentences; the lanes, cut after their last </s>, are
concatenated in the index layout (</s> s1 </s> s2 ... </s>).

    python benchmarks/synthetic_corpus.py --tokens 100000000 --output /tmp/synthetic.npy
"""
from __future__ import annotations

import argparse
import time

import numpy as np

EOS_ID = 2


def bigram_ranges(index):
    """(row table (|V|²,) int32, lo, hi) with [lo[row], hi[row]) the ranks of bigram row."""
    v = len(index.vocab)
    sa = index.sa.astype(np.int64)
    first = index.tokens[sa].astype(np.int64)
    second = np.where(sa + 1 < index.n, index.tokens[np.minimum(sa + 1, index.n - 1)], -1)
    key = first * v + second
    new = np.ones(len(sa), dtype=bool)
    new[1:] = key[1:] != key[:-1]                  # (the final </s>, followed by nothing, is
    change = np.flatnonzero(new)                   #  a key of its own, first*v - 1)
    keep = second[change] >= 0
    lo, hi = change[keep], np.append(change[1:], index.n)[keep]
    rows = np.full(v * v, -1, dtype=np.int32)
    rows[key[lo]] = np.arange(len(lo), dtype=np.int32)
    return rows, lo, hi


def sample_corpus(index, num_tokens: int, seed: int = 0, lanes: int = 100_000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = len(index.vocab)
    rows, lo, hi = bigram_ranges(index)
    sa, tokens = index.sa, index.tokens
    start_lo, start_hi = int(index.starts[EOS_ID]) + 1, int(index.starts[EOS_ID + 1])
    steps = -(-num_tokens // lanes) + 200              # + 200: the cut half-sentences
    out = np.empty((lanes, steps), dtype=tokens.dtype)
    a = np.full(lanes, EOS_ID, dtype=np.int64)         # context (a, b); (</s>, </s>): a start
    b = np.full(lanes, EOS_ID, dtype=np.int64)
    for step in range(steps):                          # one step samples every lane
        starting = b == EOS_ID
        row = rows[a * v + b]
        r_lo = np.where(starting, start_lo, lo[row])
        r_hi = np.where(starting, start_hi, hi[row])
        rank = r_lo + (rng.random(lanes) * (r_hi - r_lo)).astype(np.int64)
        word = tokens[sa[rank].astype(np.int64) + np.where(starting, 1, 2)].astype(np.int64)
        out[:, step] = word
        a, b = np.where(word == EOS_ID, EOS_ID, b), word
    pieces = [np.array([EOS_ID], dtype=out.dtype)]
    for lane in out:                                   # cut each lane after its last </s>
        ends = np.flatnonzero(lane == EOS_ID)
        if len(ends):
            pieces.append(lane[: ends[-1] + 1])
    ids = np.concatenate(pieces)
    last = np.flatnonzero(ids[num_tokens - 1:] == EOS_ID)          # stop at a sentence end
    return ids[: num_tokens + int(last[0])] if len(last) else ids


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=100_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", required=True, help=".npy file of the ids")
    parser.add_argument("--vocab-output", default=None, help="also write the PTB vocabulary here")
    args = parser.parse_args()
    from nextword.infinigram.index import SuffixArrayIndex
    from nextword.text.corpora import load_corpus

    source = SuffixArrayIndex.from_sentences(load_corpus("ptb:train"))
    start = time.perf_counter()
    ids = sample_corpus(source, args.tokens, args.seed)
    np.save(args.output, ids)
    if args.vocab_output:
        source.vocab.save(args.vocab_output)
    print(f"{len(ids):,} tokens, {int((ids == EOS_ID).sum()) - 1:,} sentences, "
          f"{time.perf_counter() - start:.1f} s -> {args.output}")


if __name__ == "__main__":
    main()
