"""The explorer's numbers, for any LanguageModel: no web code here.

How the typed text is read: the text is tokenised by the server's tokenizer (whitespace by
default, the convention of PTB and WikiText; `nextword serve --tokenizer word-lower` for raw
text) and taken as the *start of one sentence*: every model reads <s> first (the neural models
read <s> as </s>, as in training, see nextword.neural.model), then the tokens. So

    /api/next   ln P(w | <s> t1 .. tm) = model.next_logprobs(model.state_for([<s>, t1..tm]))
    /api/score  ln P(t_i | <s> t1 .. t_{i-1}) for i = 1..m and ln P(</s> | <s> t1..tm): exactly
                model.sentence_logprobs([ids]), what nextword.evaluate sums, so the perplexity
                shown equals `evaluate(model, [tokens]).perplexity` (the closing </s> counted)

(for a single sentence the neural models' stream convention and per-sentence convention agree:
both start from a fresh state reading </s>). A token outside a model's vocabulary is scored as
<unk> and flagged. Ranks and alternatives come from the full distribution at each position
(next_logprobs), rank 1 being the most likely outcome.

Speed: the distribution after each prefix is cached (least recently used first out), keyed by
the state for an n-gram model (its last n-1 ids, so every context ending alike shares it) and by
the prefix for any other model, whose state after a prefix is cached too: typing one more word
costs each model one step, not a re-read of the text.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from nextword.evaluate import exp_or_inf
from nextword.generate import SamplingConfig, sampling_distribution
from nextword.model import LanguageModel
from nextword.text.vocabulary import BOS_ID, EOS_ID

CACHE_ENTRIES = 1024        # cached distributions per model (80 kB each for |V| = 10k: 80 MB)
ALTERNATIVES = 5            # top alternatives shown per scored token


def model_kind(model: LanguageModel) -> tuple[str, str]:
    """(kind, a one-line architecture) from the model's own describe()."""
    facts = model.describe()
    kind = str(facts.get("type") or type(model).__name__)
    if "order" in facts:
        estimator = (facts.get("estimator") or {}).get("name", "")
        return kind, f"{facts['order']}-gram {estimator}".strip()
    config = facts.get("config") or {}
    parts = []
    if "num_layers" in config and "hidden_dim" in config:
        parts.append(f"{config['num_layers']}×{config['hidden_dim']}")      # layers × units
    elif "window" in config:
        parts.append(f"window {config['window']}, hidden {config.get('hidden_dim')}")
    elif "hidden_dim" in config:
        parts.append(f"hidden {config['hidden_dim']}")
    if "embedding_dim" in config:
        parts.append(f"embedding {config['embedding_dim']}")
    if "parameters" in facts:
        parts.append(f"{facts['parameters']:,} parameters")
    return kind, f"{kind} {', '.join(parts)}".strip()


@dataclass
class Entry:
    """A cached distribution: the model state after the prefix (None for n-gram models, whose
    state is the key), ln P(next | prefix) of shape (V,), and its top alternatives once asked."""

    state: object
    logprobs: np.ndarray
    alternatives: list | None = None


class ServedModel:
    """One loaded model with its distribution cache. Thread-safe: requests run in a threadpool;
    the lock guards only the cache, so two threads may compute the same entry (harmless)."""

    def __init__(self, name: str, model: LanguageModel):
        self.name = name
        self.model = model
        self.vocab = model.vocab
        self.kind, self.architecture = model_kind(model)
        self.is_ngram = hasattr(model, "backoff_path")
        self._cache: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    # ---- the cache --------------------------------------------------------------------------
    def _get(self, key):
        with self._lock:
            value = self._cache.get(key)
            if value is not None:
                self._cache.move_to_end(key)
            return value

    def _put(self, key, value) -> None:
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)

    def entries(self, prefix: Sequence[int]) -> list["Entry"]:
        """The distribution after prefix[:i+1] for i = 0..len(prefix)-1; prefix[0] is <s>."""
        prefix = tuple(prefix)
        if self.is_ngram:                  # the state is the last n-1 ids: cache by it
            out = []
            for i in range(1, len(prefix) + 1):
                state = self.model.state_for(np.array(prefix[:i]))
                entry = self._get(("ngram", state))
                if entry is None:
                    entry = Entry(None, self.model.next_logprobs(state))
                    self._put(("ngram", state), entry)
                out.append(entry)
            return out
        # any other model: find the longest cached prefix, then advance one token at a time
        start, entry = len(prefix), None
        while start > 0 and (entry := self._get(prefix[:start])) is None:
            start -= 1
        if entry is None:
            state = self.model.initial_state()
            entry = Entry(state, self.model.next_logprobs(state))
            self._put(prefix[:1], entry)
            start = 1
        out = [self._get(prefix[:i]) for i in range(1, start)] + [entry]
        for i in range(start, len(prefix)):
            state = self.model.advance(entry.state, prefix[i])
            entry = Entry(state, self.model.next_logprobs(state))
            self._put(prefix[: i + 1], entry)
            out.append(entry)
        if any(e is None for e in out):    # an earlier entry was evicted meanwhile: recompute
            return [Entry(None, self.model.next_logprobs(self.model.state_for(
                np.array(prefix[: i + 1])))) for i in range(len(prefix))]
        return out

    def next_logprobs(self, prefix: Sequence[int]) -> np.ndarray:
        if not self.is_ngram:
            entry = self._get(tuple(prefix))
            if entry is not None:
                return entry.logprobs
        return self.entries(prefix)[-1].logprobs

    # ---- the three questions ----------------------------------------------------------------
    def encode(self, tokens: list[str]) -> tuple[np.ndarray, list[bool]]:
        ids = self.vocab.encode(tokens)
        index = self.vocab.index
        return ids, [t not in index for t in tokens]

    def top(self, logprobs: np.ndarray, k: int) -> list[dict]:
        """The k most likely outcomes, most likely first (ties: lower id first); never <s>,
        which is context only (its -inf sorts last: k is capped at the number of outcomes)."""
        k = min(k, len(logprobs) - 1)
        kth = np.partition(logprobs, len(logprobs) - k)[len(logprobs) - k]   # k-th largest
        candidates = np.flatnonzero(logprobs >= kth)         # every tie at the boundary too
        order = candidates[np.lexsort((candidates, -logprobs[candidates]))][:k]
        return [{"word": self.vocab.tokens[i], "prob": float(np.exp(logprobs[i])),
                 "logprob": finite(logprobs[i])} for i in order.tolist()]

    def next(self, tokens: list[str], k: int) -> dict:
        ids, oov = self.encode(tokens)
        prefix = [BOS_ID, *ids.tolist()]
        logprobs = self.next_logprobs(prefix)
        top = self.top(logprobs, k)
        out = {"name": self.name, "top": top, "eos_prob": float(np.exp(logprobs[EOS_ID])),
               "oov": [t for t, o in zip(tokens, oov) if o], "backoff": None}
        if self.is_ngram:
            words = self.vocab.encode([item["word"] for item in top])
            out["backoff"] = self.backoff(prefix, words)
        return out

    def backoff(self, prefix: list[int], words: np.ndarray) -> dict:
        path = self.model.backoff_path(prefix, words)
        tokens = self.vocab.tokens
        steps = [{"order": s["order"],
                  "context": None if s["context"] is None else [tokens[i] for i in s["context"]],
                  "status": s["status"],
                  "gamma": None if s["log_gamma"] is None else math.exp(s["log_gamma"]),
                  "discount": s["discount"]} for s in path["steps"]]
        answers = [{"word": tokens[w], "order": int(a), "stored": bool(st),
                    "prob": float(np.exp(lp))}
                   for w, a, st, lp in zip(words.tolist(), path["answered"].tolist(),
                                           path["stored"].tolist(), path["logprob"].tolist())]
        return {"rule": path["rule"], "steps": steps, "answers": answers}

    def score(self, tokens: list[str]) -> dict:
        """Per token (and the closing </s>): the library's ln P, its rank in the distribution
        at that position, the top alternatives; and the perplexity as nextword.evaluate has it."""
        ids, oov = self.encode(tokens)
        logprobs = next(iter(self.model.sentence_logprobs([ids])))          # (m + 1,)
        prefix = [BOS_ID, *ids.tolist()]
        entries = self.entries(prefix)
        table = np.stack([e.logprobs for e in entries])                      # (m + 1, V)
        targets = np.append(ids, EOS_ID).astype(np.int64)
        rows = np.arange(len(targets))
        own = table[rows, targets]                                           # (m + 1,)
        ranks = 1 + (table > own[:, None]).sum(axis=1)                       # 1 = most likely
        # alternatives as /api/next lists them (ties: lower id first), kept with each cached
        # distribution: typing one more word computes them for the new position only
        for entry in entries:
            if entry.alternatives is None:
                entry.alternatives = [{"word": c["word"], "prob": c["prob"]}
                                      for c in self.top(entry.logprobs, ALTERNATIVES)]
        alternatives = [entry.alternatives for entry in entries]
        names = [*tokens, "</s>"]
        flags = [*oov, False]
        out_tokens = [{"token": names[i], "logprob": finite(logprobs[i]),
                       "prob": float(np.exp(logprobs[i])), "rank": int(ranks[i]),
                       "oov": flags[i],
                       "alternatives": alternatives[i]}
                      for i in range(len(targets))]
        total = float(logprobs.sum())
        kept = ~np.array(flags)
        cross_entropy = -total / len(logprobs)
        return {"name": self.name, "tokens": out_tokens,
                "cross_entropy": finite(cross_entropy),
                "perplexity": finite(exp_or_inf(cross_entropy)) if self.model.normalised else None,
                "perplexity_excluding_oov": (finite(exp_or_inf(-float(logprobs[kept].sum()) / kept.sum()))
                                             if self.model.normalised else None),
                "normalised": self.model.normalised}

    def sample(self, tokens: list[str], config: SamplingConfig, seed: int, steps: int | None,
               show: int) -> dict:
        """Draw words after the text, as nextword.generate draws them (same filtering, same
        numpy Generator calls), `steps` words or until </s> (at most config.max_length); each
        with the distribution it was drawn from (its `show` most likely entries)."""
        rng = np.random.default_rng(seed)
        ids, _ = self.encode(tokens)
        prefix = [BOS_ID, *ids.tolist()]
        limit = min(steps or config.max_length, config.max_length)
        drawn, ended = [], False
        while len(drawn) < limit:
            logprobs = self.next_logprobs(prefix)
            probs = sampling_distribution(logprobs, config)
            token = int(rng.choice(len(probs), p=probs))
            with np.errstate(divide="ignore"):
                shown = self.top(np.log(probs), show)
            drawn.append({"word": self.vocab.tokens[token], "prob": float(probs[token]),
                          "model_prob": float(np.exp(logprobs[token])),
                          "distribution": [{"word": d["word"], "prob": d["prob"]} for d in shown
                                           if d["prob"] > 0]})
            if token == EOS_ID:
                ended = True
                break
            prefix.append(token)
        return {"name": self.name, "words": drawn, "ended": ended}


def finite(x) -> float | None:
    """JSON has no infinity: -inf (a zero probability) travels as null."""
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass
class Explorer:
    """The loaded models, in the order given, and the tokenizer applied to typed text."""

    models: list[ServedModel]
    tokenize: Callable[[str], list[str]]

    @classmethod
    def from_models(cls, models: dict[str, LanguageModel], tokenize) -> "Explorer":
        return cls([ServedModel(name, model) for name, model in models.items()], tokenize)

    def by_name(self, name: str) -> ServedModel:
        for served in self.models:
            if served.name == name:
                return served
        raise KeyError(name)


def unique_names(paths: Sequence[str]) -> list[str]:
    """A short name per model path (its last component), numbered where two would clash."""
    from pathlib import Path

    names: list[str] = []
    for path in paths:
        base = Path(str(path).rstrip("/")).name or str(path)
        name, n = base, 2
        while name in names:
            name, n = f"{base}-{n}", n + 1
        names.append(name)
    return names

