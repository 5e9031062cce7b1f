"""A recurrent model that adapts to the text it reads: the continuous cache (cache.py) and/or
dynamic evaluation (dynamic.py), as a LanguageModel of its own.

The text is read as one stream, as `NeuralLM` reads it by default (`</s>` closes each line, the
state is carried across lines, the stream starts from `</s>`), so it predicts the same tokens:

    sentences ──► stream of (input, target) ──► reader: static or dynamic, a chunk/segment at
    a time ──► (T, d) features, (T, V) ln P ──► cache (if any) ──► per-sentence arrays

Sampling (`generate`) uses the cache over the sentence being generated; the weights do not
learn from sampled text (dynamic evaluation adapts to text that is scored, not generated).
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch

from nextword.errors import NextwordError
from nextword.model import MODEL_FILE, LanguageModel, sentence_batches
from nextword.combine.cache import CacheConfig, ContinuousCache, cache_weights
from nextword.combine.dynamic import DynamicConfig, DynamicReader, StaticReader
from nextword.neural.batching import input_ids
from nextword.text.vocabulary import BOS_ID, EOS_ID

STATIC_CHUNK = 512          # tokens read at once without dynamic evaluation ((T, V) in memory)
BATCH_TOKENS = 8192         # sentences gathered per batch when only the targets' scores are kept
DISTRIBUTION_TOKENS = 512   # ... and when whole distributions are kept


class AdaptedLM(LanguageModel):
    def __init__(self, base, cache: CacheConfig | None = None, dynamic: DynamicConfig | None = None,
                 base_path: str | Path | None = None, fit: dict | None = None):
        from nextword.neural.model import NeuralLM

        if not isinstance(base, NeuralLM) or base.config.kind not in ("rnn", "lstm", "gru"):
            raise NextwordError("the cache and dynamic evaluation need a recurrent model "
                                "(rnn, lstm or gru)")
        self.base = base
        self.vocab = base.vocab
        self.cache = cache
        self.dynamic = dynamic
        self.base_path = base_path
        self.fit = fit or {}

    @property
    def per_sentence(self) -> bool:
        return False

    @per_sentence.setter
    def per_sentence(self, value: bool) -> None:
        if value:
            raise NextwordError("the cache and dynamic evaluation read the text as one stream: "
                                "--per-sentence does not apply")

    # ---- scoring ----------------------------------------------------------------------------
    def sentence_logprobs(self, sentences: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        return self._read(sentences, full=False)

    def sentence_distributions(self, sentences: Iterable[np.ndarray], keep=None) -> Iterator:
        """For each sentence, (m + 1, V) ln P(w | history) at each predicted position (None for
        a sentence `keep` rejects: it is still read, the stream goes through it)."""
        for i, dist in enumerate(self._read(sentences, full=True)):
            yield dist if keep is None or keep(i) else None

    def trace(self, sentences: Iterable[np.ndarray]):
        """(features (N, d), targets (N,), ln p_model of the targets (N,)) of the whole text,
        as the reader (static or dynamic) saw it, without the cache: what tuning the cache needs."""
        features, targets, logprobs = [], [], []
        for x, y, h, lp in self._chunks(sentences, BATCH_TOKENS):
            features.append(h)
            targets.append(y)
            logprobs.append(lp.gather(1, y[:, None])[:, 0].double())
        return torch.cat(features), torch.cat(targets), torch.cat(logprobs).cpu().numpy()

    def _chunks(self, sentences, batch_tokens):
        """(inputs, targets, features, ln P) per chunk (static) or segment (dynamic), in order."""
        for batch, chunks in self._batches(sentences, batch_tokens):
            yield from chunks

    def _batches(self, sentences, batch_tokens):
        net = self.base.net
        reader = DynamicReader(net, self.dynamic) if self.dynamic else StaticReader(net)
        step = self.dynamic.segment if self.dynamic else STATIC_CHUNK
        state = net.initial_state(1, self.base.device)
        previous = EOS_ID                                  # the stream starts with </s>
        for batch in sentence_batches(sentences, batch_tokens):
            targets = np.concatenate([np.append(ids, EOS_ID) for ids in batch]).astype(np.int64)
            inputs = input_ids(np.concatenate([[previous], targets[:-1]]))
            previous = int(targets[-1])
            inputs = torch.as_tensor(inputs, device=self.base.device)
            targets = torch.as_tensor(targets, device=self.base.device)

            def chunks(inputs=inputs, targets=targets):
                nonlocal state
                for i in range(0, len(targets), step):
                    x, y = inputs[i: i + step], targets[i: i + step]
                    features, logprobs, state = reader(x, y, state)
                    yield x, y, features, logprobs
            yield batch, chunks()

    def _read(self, sentences, full: bool) -> Iterator[np.ndarray]:
        cache = ContinuousCache(self.cache, len(self.vocab)) if self.cache else None
        for batch, chunks in self._batches(sentences, DISTRIBUTION_TOKENS if full else BATCH_TOKENS):
            out = []
            for x, y, features, logprobs in chunks:
                if cache is not None:
                    logprobs = cache(features, y, logprobs)                    # (T, V)
                out.append(logprobs if full else logprobs.gather(1, y[:, None])[:, 0])
            scores = torch.cat(out).double().cpu().numpy()
            yield from np.split(scores, np.cumsum([len(ids) + 1 for ids in batch])[:-1])

    # ---- sampling: (net state, features, model ln P, cache keys, cache labels) --------------
    def initial_state(self):
        return self._step(self.base.net.initial_state(1, self.base.device), EOS_ID, None, None)

    def advance(self, state, token: int):
        net_state, features, _, keys, labels = state
        if self.cache is not None:                 # (h(t), x(t+1)) joins the cache
            L = self.cache.size
            keys = features[None] if keys is None else torch.cat([keys, features[None]])[-L:]
            labels = torch.cat([labels, torch.tensor([int(token)], device=labels.device)])[-L:]
        return self._step(net_state, int(input_ids(np.int64(token))), keys, labels)

    def next_logprobs(self, state) -> np.ndarray:
        _, features, logprobs, keys, labels = state
        if self.cache is None or keys is None:
            return logprobs.double().cpu().numpy()
        c = self.cache
        weights = cache_weights(features[None], torch.cat([keys, features[None]]),
                                len(keys), c.size, c.theta)[0]                  # (H + 1,)
        p_cache = torch.zeros(len(self.vocab), device=weights.device).scatter_add_(0, labels, weights[:-1])
        with np.errstate(divide="ignore"):
            mixed = torch.logaddexp(logprobs + np.log1p(-c.lam), torch.log(p_cache) + np.log(c.lam))
        out = mixed.double().cpu().numpy()
        out[BOS_ID] = -np.inf
        return out

    @torch.inference_mode()
    def _step(self, net_state, token: int, keys, labels):
        net = self.base.net
        token_ids = torch.tensor([[token]], device=self.base.device)
        features, net_state = net(token_ids, net_state)                          # (1, 1, d)
        logprobs = torch.log_softmax(net.logits(features[0, 0]).float(), dim=-1)  # (V,)
        if labels is None:
            labels = torch.empty(0, dtype=torch.int64, device=self.base.device)
        return net_state, features[0, 0].float(), logprobs, keys, labels

    # ---- storage ----------------------------------------------------------------------------
    def describe(self) -> dict:
        return {"type": "adapted", "vocabulary": len(self.vocab), "base": self.base.describe(),
                "cache": asdict(self.cache) if self.cache else None,
                "dynamic": asdict(self.dynamic) if self.dynamic else None,
                **({"fit": self.fit} if self.fit else {})}

    def save(self, directory, force: bool = False) -> None:
        """Write the folder whole or not at all (fileio.model_folder)."""
        from nextword.combine.storage import check_output, stored_path
        from nextword.fileio import model_folder, write_json_atomic

        directory = Path(directory)
        check_output(directory, "adapted", [self.base_path], force)
        with model_folder(directory, "adapted", force) as tmp:
            if self.base_path is not None:
                base = stored_path(self.base_path, directory)
            else:
                base = "base"
                self.base.save(tmp / base)
            write_json_atomic(tmp / MODEL_FILE, {
                "type": "adapted", "base": base,
                "cache": asdict(self.cache) if self.cache else None,
                "dynamic": asdict(self.dynamic) if self.dynamic else None, "fit": self.fit})

    @classmethod
    def load(cls, directory, meta: dict) -> "AdaptedLM":
        from nextword.combine.storage import load_component

        directory = Path(directory)
        try:
            cache = CacheConfig(**meta["cache"]) if meta.get("cache") else None
            dynamic = DynamicConfig(**meta["dynamic"]) if meta.get("dynamic") else None
            base = str(meta["base"])
        except (KeyError, TypeError, ValueError) as error:
            raise NextwordError(f"{directory / MODEL_FILE}: malformed adapted model ({error})") from None
        return cls(load_component(directory, base, "base model"), cache, dynamic,
                   base_path=directory / base, fit=meta.get("fit"))


def with_adaptation(lm, size=None, theta=None, lam=None, lr=None, decay=None, segment=None):
    """`lm` (a recurrent NeuralLM or an AdaptedLM) with the cache / dynamic evaluation settings
    given (None: keep the model's own, else the defaults): what `eval --cache/--dynamic` read."""
    from dataclasses import replace

    base = lm.base if isinstance(lm, AdaptedLM) else lm
    cache = lm.cache if isinstance(lm, AdaptedLM) else None
    dynamic = lm.dynamic if isinstance(lm, AdaptedLM) else None
    cache_fields = {k: v for k, v in dict(size=size, theta=theta, lam=lam).items() if v is not None}
    dynamic_fields = {k: v for k, v in dict(lr=lr, decay=decay, segment=segment).items()
                      if v is not None}
    if cache_fields and cache is None and size is None:
        raise NextwordError("--cache-theta and --cache-lambda need --cache L")
    if dynamic_fields and dynamic is None and lr is None:
        raise NextwordError("--dynamic-decay and --dynamic-segment need --dynamic LR")
    if cache_fields:
        cache = replace(cache or CacheConfig(), **cache_fields)
    if dynamic_fields:
        dynamic = replace(dynamic or DynamicConfig(), **dynamic_fields)
    return AdaptedLM(base, cache, dynamic)
