"""The neural networks behind the one LanguageModel interface: `nextword eval` and `generate`
treat them exactly as n-gram models.

Scoring convention (see batching.py): by default the test text is one stream, `</s>` closing
each line and the hidden state carried across lines, the stream starting from `</s>`: the first
word of a line is predicted from everything before it (the convention of the PTB literature).
Each word and each `</s>` is predicted once, as with the n-gram model, so token counts agree.
With ``per_sentence=True`` the state is reset at every line, which starts from `<s>` (read as
`</s>`, see `batching.input_ids`).
"""
from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch

from nextword.fileio import model_folder
from nextword.model import LanguageModel, sentence_batches
from nextword.neural.batching import input_ids
from nextword.neural.checkpoint import load_net, save_weights, write_model_files
from nextword.neural.layers import NeuralNet
from nextword.text.vocabulary import EOS_ID, Vocabulary

CHUNK_TOKENS = 8192          # tokens run through the network per call when scoring a stream
DECODE_ROWS = 2048           # positions turned into (rows, V) logits at once (memory bound)
SENTENCES_PER_BATCH = 256    # per-sentence scoring: lines run side by side


def exact_fp32():
    """cuDNN runs fp32 recurrent layers in TF32 by default (10-bit mantissa): scores would then
    move by ~1e-3 between devices. Scoring keeps full fp32, so a perplexity is the same on a GPU
    and on the CPU to float32 rounding; the other cuDNN settings stay the caller's."""
    cudnn = torch.backends.cudnn
    return cudnn.flags(enabled=cudnn.enabled, benchmark=cudnn.benchmark,
                       deterministic=cudnn.deterministic, allow_tf32=False)


@torch.inference_mode()
def target_logprobs(net: NeuralNet, inputs: torch.Tensor, targets: torch.Tensor, state):
    """ln ŷ(t)[x(t+1)] for (T, B) inputs and targets; returns ((T, B) float32, new state)."""
    with exact_fp32():
        features, state = net(inputs, state)                        # (T, B, d)
    flat = features.reshape(-1, features.size(-1))                  # (T·B, d)
    wanted = targets.reshape(-1, 1)
    out = torch.empty(flat.size(0), device=flat.device)
    for i in range(0, flat.size(0), DECODE_ROWS):
        logits = net.logits(flat[i: i + DECODE_ROWS]).float()      # (rows, V)
        out[i: i + DECODE_ROWS] = (logits.gather(1, wanted[i: i + DECODE_ROWS]).squeeze(1)
                                   - torch.logsumexp(logits, dim=1))   # log softmax at the target
    return out.view(targets.shape), state


class NeuralLM(LanguageModel):
    """A trained network + its vocabulary, answering the LanguageModel calls.

    >>> import torch; from nextword.neural.recurrent import RecurrentConfig, build_net
    >>> vocab = Vocabulary.build([["a", "b"]])
    >>> lm = NeuralLM(build_net(RecurrentConfig("lstm", len(vocab), 8, 8, 1)), vocab)
    >>> p = np.exp(lm.next_logprobs(lm.initial_state())); round(float(p.sum()), 5), p[1]
    (1.0, 0.0)
    """

    def __init__(self, net: NeuralNet, vocab: Vocabulary, per_sentence: bool = False,
                 device: str | torch.device = "cpu"):
        self.net = net.to(device).eval()
        self.vocab = vocab
        self.config = net.config
        self.per_sentence = per_sentence
        self.device = torch.device(device)

    # ---- scoring ----------------------------------------------------------------------------
    def sentence_logprobs(self, sentences: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        if self.per_sentence:
            yield from self._per_sentence(iter(sentences))
        else:
            yield from self._stream(iter(sentences))

    def _stream(self, sentences: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """One stream, hidden state carried from chunk to chunk and line to line."""
        state = self.net.initial_state(1, self.device)
        previous = EOS_ID                                  # the stream starts with </s>
        for batch in sentence_batches(sentences, CHUNK_TOKENS):
            targets = np.concatenate([np.append(ids, EOS_ID) for ids in batch]).astype(np.int64)
            inputs = np.concatenate([[previous], targets[:-1]])   # teacher forcing: true tokens
            previous = int(targets[-1])
            logprobs, state = target_logprobs(
                self.net, self._tensor(input_ids(inputs)), self._tensor(targets), state)
            logprobs = logprobs[:, 0].double().cpu().numpy()
            yield from np.split(logprobs, np.cumsum([len(ids) + 1 for ids in batch])[:-1])

    def _per_sentence(self, sentences: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """Each line from a fresh state reading <s>; lines of similar length run side by side."""
        while batch := list(islice(sentences, SENTENCES_PER_BATCH)):
            order = sorted(range(len(batch)), key=lambda i: len(batch[i]))
            results: list = [None] * len(batch)
            for start in range(0, len(order), 64):
                group = order[start: start + 64]
                length = max(len(batch[i]) for i in group) + 1
                targets = np.full((length, len(group)), EOS_ID, dtype=np.int64)   # padded after
                for column, i in enumerate(group):       # the end: causal, so harmless
                    targets[: len(batch[i]), column] = batch[i]
                inputs = np.concatenate([np.full((1, len(group)), EOS_ID), targets[:-1]])
                state = self.net.initial_state(len(group), self.device)
                logprobs, _ = target_logprobs(
                    self.net, self._tensor(inputs), self._tensor(targets), state)
                logprobs = logprobs.double().cpu().numpy()
                for column, i in enumerate(group):
                    results[i] = logprobs[: len(batch[i]) + 1, column]
            yield from results

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        array = np.asarray(array, dtype=np.int64)
        return torch.as_tensor(array.reshape(len(array), -1), device=self.device)   # (T, B)

    # ---- sampling state: (network state, ln P of the next token) ----------------------------
    def initial_state(self):
        return self._step(self.net.initial_state(1, self.device), EOS_ID)   # <s>, read as </s>

    def advance(self, state, token: int):
        return self._step(state[0], int(input_ids(np.int64(token))))

    def next_logprobs(self, state) -> np.ndarray:
        return state[1].copy()

    def batch_sampler(self, config):
        """Many sentences advance together: one network step per token position for a batch."""
        from nextword.generate import BatchedSampler

        def init(size):
            return self._batch_step(self.net.initial_state(size, self.device),
                                    np.full(size, EOS_ID))               # <s>, read as </s>
        def select(state, rows):    # every network state holds the batch in dimension 1
            index = torch.as_tensor(rows, device=self.device)
            net_state = state[0]
            picked = (tuple(x.index_select(1, index) for x in net_state)
                      if isinstance(net_state, tuple) else net_state.index_select(1, index))
            return picked, state[1][rows]
        return BatchedSampler(init, lambda state, tokens: self._batch_step(state[0], input_ids(tokens)),
                              lambda state: state[1], config, select)

    @torch.inference_mode()
    def _batch_step(self, net_state, tokens: np.ndarray):
        features, net_state = self.net(self._tensor(tokens).reshape(1, -1), net_state)  # (1, B, d)
        logprobs = torch.log_softmax(self.net.logits(features[0]).float(), dim=-1)       # (B, V)
        return net_state, logprobs.double().cpu().numpy()

    @torch.inference_mode()
    def _step(self, net_state, token: int):
        features, net_state = self.net(self._tensor(np.array([token])), net_state)   # (1, 1, d)
        logprobs = torch.log_softmax(self.net.logits(features[0, 0]).float(), dim=-1)  # (V,)
        return net_state, logprobs.double().cpu().numpy()

    # ---- storage ----------------------------------------------------------------------------
    def describe(self) -> dict:
        from dataclasses import asdict

        return {"type": self.config.kind, "vocabulary": len(self.vocab),
                "parameters": self.net.num_parameters(), "config": asdict(self.config)}

    def save(self, directory: str | Path, force: bool = False) -> None:
        """model.json + vocab.txt + weights.pt, whole or not at all (fileio.model_folder)."""
        with model_folder(directory, self.config.kind, force) as tmp:
            save_weights(tmp, self.net)
            write_model_files(tmp, self.config, self.vocab)

    @classmethod
    def load(cls, directory: str | Path, meta: dict) -> "NeuralLM":
        net, _, vocab = load_net(directory, meta)
        return cls(net, vocab)
