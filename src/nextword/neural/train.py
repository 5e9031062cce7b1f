"""The training loop: teacher forcing, truncated BPTT, clipping, schedule, checkpoints, logs.

    for inputs, targets in segments(stream, bptt):                 # (T, B), (T, B)
        state = detach(state)          # truncate: no gradient flows into the previous segment
        features, state = net(inputs, state)                       # (T, B, d)
        J = mean_t -ln ŷ(t)[x(t+1)]                                # cross-entropy per step
        J.backward(); clip ‖g‖ to `clip`; optimizer step

The hidden state is carried from segment to segment (reset at each epoch's start); inputs are
always the true tokens (teacher forcing). After each evaluation on the validation stream the
schedule may lower the learning rate, the best model is written to weights.pt and the whole
position to resume.pt, and train_log.jsonl and perplexity.png are rewritten beside them.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from nextword.errors import NextwordError
from nextword.fileio import atomic_path, write_text_atomic
from nextword.model import VOCAB_FILE
from nextword.neural.batching import batchify, num_segments, segments, token_stream
from nextword.neural.checkpoint import (RESUME_FILE, load_tensors, save_tensors, save_weights,
                                        write_model_files, config_dict)
from nextword.neural.config import TrainConfig, parse_duration  # noqa: F401  (re-exported)
from nextword.neural.layers import NeuralNet
from nextword.neural.model import target_logprobs
from nextword.neural.optim import PlateauSchedule, make_optimizer, set_lr
from nextword.neural.recurrent import build_net
from nextword.text.vocabulary import BOS_ID, Vocabulary

LOG_FILE = "train_log.jsonl"
PLOT_FILE = "perplexity.png"
SAMPLER_POWER = 0.75          # negatives drawn from unigram^0.75 (Mikolov et al. 2013)


# knobs that may change when a run is resumed; everything else must match the saved run
RESUMABLE_CHANGES = ("epochs", "time_budget", "max_steps", "device", "threads", "early_stop")


@dataclass
class Position:
    """Where training is; saved in resume.pt so that --resume continues exactly here."""

    epoch: int = 0                      # epochs completed
    segment: int = 0                    # next segment within the epoch
    step: int = 0                       # optimizer steps so far
    tokens: int = 0                     # training tokens so far
    elapsed: float = 0.0                # wall-clock seconds over all runs, evaluations included
    train_seconds: float = 0.0          # seconds inside training steps only
    loss_sum: float = 0.0               # training loss × tokens since the last evaluation
    loss_tokens: int = 0
    history: list = field(default_factory=list)


@dataclass(frozen=True)
class TrainResult:
    status: str                         # "done", "early stop", "time budget", "interrupted"
    best_valid_perplexity: float
    position: Position
    tokens_per_second: float            # training steps only

    def as_dict(self) -> dict:
        return {"status": self.status, "best_valid_perplexity": self.best_valid_perplexity,
                "epochs": self.position.history[-1]["epoch"] if self.position.history else 0.0,
                "steps": self.position.step, "tokens": self.position.tokens,
                "elapsed_s": self.position.elapsed, "train_tokens_per_s": self.tokens_per_second}


class SampledSoftmax:
    """Sampled softmax (Jean et al. 2015) for training: the softmax over the target and k
    shared negatives S ~ q, each logit corrected by -ln(k q(w)) so that the gradient estimates
    the full softmax's; accidental hits (a negative equal to the target) are dropped.
    Cost per token: k + 1 dot products instead of |V|. Evaluation always uses the full softmax.
    """

    def __init__(self, counts: np.ndarray, num_samples: int, generator: torch.Generator, device):
        q = counts.astype(np.float64) ** SAMPLER_POWER
        q[BOS_ID] = 0.0                                   # never a target, never a negative
        self.q = torch.as_tensor(q / q.sum(), dtype=torch.float32, device=device)
        self.log_kq = torch.log(num_samples * self.q)
        self.k = num_samples
        self.generator = generator

    def loss(self, net: NeuralNet, features: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        h = features.reshape(-1, features.size(-1))                 # (N, d)
        y = targets.reshape(-1)                                     # (N,)
        negatives = torch.multinomial(self.q, self.k, replacement=True,
                                      generator=self.generator)     # (k,)
        U, b = net.decoder.weight, net.decoder.bias                 # (V, d), (V,)
        true = (h * U[y]).sum(-1) + b[y] - self.log_kq[y]           # (N,)
        sampled = h @ U[negatives].t() + b[negatives] - self.log_kq[negatives]   # (N, k)
        sampled = sampled.float().masked_fill(negatives[None, :] == y[:, None], float("-inf"))
        logits = torch.cat([true.float()[:, None], sampled], dim=1)  # (N, 1 + k): target first
        return F.cross_entropy(logits, torch.zeros_like(y))


def full_softmax_loss(net: NeuralNet, features: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    logits = net.logits(features)                                   # (T, B, V)
    return F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())   # mean over steps


def train_step(net: NeuralNet, optimizer: torch.optim.Optimizer, inputs: torch.Tensor,
               targets: torch.Tensor, state, loss_fn: Callable, autocast, clip: float):
    """One update on a (T, B) segment; returns (J, the state to carry). A non-finite J leaves
    the weights untouched (no optimizer step), so the caller can stop with them intact."""
    state = net.detach(state)           # truncate: no gradient into the previous segment
    with autocast:
        features, state = net(inputs, state)                       # (T, B, d)
        loss = loss_fn(net, features, targets)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if clip:
        torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
    value = loss.item()
    if math.isfinite(value):
        optimizer.step()
    return value, state


@torch.inference_mode()
def stream_perplexity(net: NeuralNet, data: torch.Tensor, bptt: int = 256) -> float:
    """exp(mean -ln ŷ) over (L, B) streams, state carried from chunk to chunk; dropout off."""
    was_training = net.training
    net.eval()
    state = net.initial_state(data.size(1), data.device)
    total, count = 0.0, 0
    for inputs, targets in segments(data, bptt):
        logprobs, state = target_logprobs(net, inputs, targets, state)
        total += float(logprobs.double().sum())
        count += logprobs.numel()
    net.train(was_training)
    return math.exp(-total / count)


def _prepare(vocab: Vocabulary, sentences) -> np.ndarray:
    return token_stream(vocab.encode(s) for s in sentences)


def train(model_config, config: TrainConfig, vocab: Vocabulary, train_sentences,
          valid_sentences, output: str | Path, resume: bool = False,
          progress: Callable | None = None) -> TrainResult:
    """Train a model on token lists, validating on `valid_sentences`; write it to `output`.

    `progress(desc, total)` may return a tqdm-like bar (update, set_postfix, close).
    """
    output = Path(output)
    train_ids = _prepare(vocab, train_sentences)
    valid_ids = _prepare(vocab, valid_sentences)
    if len(valid_ids) < 2:
        raise NextwordError("the validation corpus is empty")
    return Trainer(model_config, config, vocab, train_ids, valid_ids, output, progress).run(resume)


class Trainer:
    def __init__(self, model_config, config: TrainConfig, vocab: Vocabulary, train_ids: np.ndarray,
                 valid_ids: np.ndarray, output: Path, progress: Callable | None = None):
        if model_config.vocab_size != len(vocab):
            raise NextwordError(f"model built for {model_config.vocab_size} words, vocabulary has {len(vocab)}")
        self.model_config, self.config, self.vocab = model_config, config, vocab
        self.output, self.progress = output, progress
        self.train_ids, self.valid_ids = train_ids, valid_ids

    def _check_device(self) -> torch.device:
        device = torch.device(self.config.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise NextwordError("--device cuda: no CUDA device is available here; use --device cpu")
        return device

    def run(self, resume: bool = False) -> TrainResult:
        config = self.config
        device = self._check_device()
        if config.threads:
            torch.set_num_threads(config.threads)
        resume_state = self._load_resume() if resume else None
        if resume_state is not None:
            config = self.config = replace(
                TrainConfig(**resume_state["train_config"]),
                **{k: getattr(self.config, k) for k in RESUMABLE_CHANGES})
        torch.manual_seed(config.seed)                  # initial weights, dropout masks
        net = build_net(self.model_config).to(device)
        optimizer = make_optimizer(config.optimizer, net.parameters(), config.lr, config.weight_decay)
        # under the cosine schedule the plateau one only keeps the best model and stops early
        cosine = config.schedule == "cosine"
        schedule = PlateauSchedule(config.lr, 1.0 if cosine else config.lr_factor, config.patience,
                                   config.early_stop, config.min_lr)
        sampler_rng = torch.Generator(device=device).manual_seed(config.seed + 1)
        sampler = SampledSoftmax(np.bincount(self.train_ids, minlength=len(self.vocab)),
                                 config.num_samples, sampler_rng, device)
        data = batchify(self.train_ids, config.batch_size).to(device)           # (L, B)
        valid = batchify(self.valid_ids, min(config.eval_batch_size,
                                             max(1, len(self.valid_ids) // 2))).to(device)
        per_epoch = num_segments(data, config.bptt)
        eval_at = sorted({max(1, round(per_epoch * k / config.evals_per_epoch))
                          for k in range(1, config.evals_per_epoch + 1)})
        position = Position()
        state = net.initial_state(config.batch_size, device)
        if resume_state is not None:
            net.load_state_dict(resume_state["model"])
            optimizer.load_state_dict(resume_state["optimizer"])
            schedule.restore(resume_state["schedule"])
            position = Position(**resume_state["position"])
            torch.set_rng_state(resume_state["rng"])
            sampler_rng.set_state(resume_state["sampler_rng"])
            state = _to(resume_state["state"], device)
        else:
            if (self.output / RESUME_FILE).exists():
                raise NextwordError(
                    f"{self.output}: holds a training run (resume.pt); pass --resume to continue "
                    f"it, or choose another --output (nothing was overwritten)")
            write_model_files(self.output, self.model_config, self.vocab,
                              {"training": asdict(config)})
        set_lr(optimizer, schedule.lr)

        run_start = time.monotonic()
        elapsed_before = position.elapsed
        steps_this_run = 0
        last_eval_seconds = None
        autocast = torch.autocast(device.type, dtype=torch.bfloat16,
                                  enabled=config.precision == "bf16")

        def elapsed() -> float:
            return elapsed_before + time.monotonic() - run_start

        def out_of_time() -> bool:
            if config.time_budget is None:
                return False
            reserve = last_eval_seconds if last_eval_seconds is not None else 0.0
            return elapsed() + reserve >= config.time_budget

        def fraction_done() -> float:
            if config.time_budget is not None:
                return elapsed() / config.time_budget
            return (position.epoch + position.segment / per_epoch) / config.epochs

        status = None
        net.train()
        while status is None and position.epoch < config.epochs:
            bar = self.progress(f"epoch {position.epoch + 1}", per_epoch * config.bptt * config.batch_size) \
                if self.progress else None
            if bar is not None and position.segment:
                bar.update(position.segment * config.bptt * config.batch_size)
            window_start, window_tokens = time.monotonic(), 0
            for inputs, targets in segments(data, config.bptt, start=position.segment):
                if config.max_steps is not None and steps_this_run >= config.max_steps:
                    status = "interrupted"
                    break
                if out_of_time():
                    status = "time budget"
                    break
                step_start = time.monotonic()
                if cosine:
                    set_lr(optimizer, cosine_lr(config.lr, fraction_done()))
                sampled = config.softmax == "sampled" and fraction_done() < 1 - config.full_softmax_final
                value, state = train_step(net, optimizer, inputs, targets, state,
                                          sampler.loss if sampled else full_softmax_loss,
                                          autocast, config.clip)
                if not math.isfinite(value):
                    raise NextwordError(
                        f"training loss became {value} at epoch {position.epoch + 1}, step "
                        f"{position.step + 1} (lr {current_lr(optimizer):g}); stopped, the last good "
                        f"checkpoint in {self.output} is kept: lower --lr or set --clip")
                tokens = targets.numel()
                position.segment += 1
                position.step += 1
                steps_this_run += 1
                position.tokens += tokens
                position.loss_sum += value * tokens
                position.loss_tokens += tokens
                position.train_seconds += time.monotonic() - step_start
                window_tokens += tokens
                if bar is not None:
                    bar.update(tokens)
                    if position.step % 10 == 0:
                        speed = window_tokens / max(1e-9, time.monotonic() - window_start)
                        bar.set_postfix(loss=f"{value:.3f}", ppl=f"{math.exp(min(value, 50)):.1f}",
                                        lr=f"{current_lr(optimizer):.3g}", tok_s=f"{speed:,.0f}")
                if position.segment in eval_at:
                    eval_start = time.monotonic()
                    status = self._evaluate(net, valid, schedule, optimizer, position, elapsed,
                                            per_epoch, sampled)
                    last_eval_seconds = time.monotonic() - eval_start
                    if status is None and position.segment < per_epoch:
                        self._save_resume(net, optimizer, schedule, position, state, sampler_rng, elapsed)
                    if status is not None:
                        break
            else:
                position.epoch += 1
                position.segment = 0
                state = net.initial_state(config.batch_size, device)   # a new pass over the streams
            if bar is not None:
                bar.close()
            if status is None and position.segment == 0:
                self._save_resume(net, optimizer, schedule, position, state, sampler_rng, elapsed)
        if status == "time budget" and position.loss_tokens:
            # the budget left room for this last evaluation (reserve = one evaluation's time)
            status = self._evaluate(net, valid, schedule, optimizer, position, elapsed,
                                    per_epoch, False) or "time budget"
        position.elapsed = elapsed()
        self._save_resume(net, optimizer, schedule, position, state, sampler_rng, elapsed)
        speed = position.tokens / position.train_seconds if position.train_seconds else 0.0
        return TrainResult(status or "done", schedule.best, position, speed)

    # ---- evaluation, logs, checkpoints ------------------------------------------------------
    def _evaluate(self, net, valid, schedule, optimizer, position, elapsed, per_epoch, sampled):
        """Validate, log, let the schedule act, keep the best model; returns a stop status or None."""
        valid_ppl = stream_perplexity(net, valid)
        train_loss = position.loss_sum / max(1, position.loss_tokens)
        lr = current_lr(optimizer)
        verdict = schedule.update(valid_ppl)
        position.history.append({
            "epoch": round(position.epoch + position.segment / per_epoch, 4),
            "step": position.step, "tokens": position.tokens, "elapsed_s": round(elapsed(), 2),
            "lr": lr, "train_loss": train_loss, "train_perplexity": math.exp(min(train_loss, 50)),
            "train_loss_is_sampled": sampled, "valid_perplexity": valid_ppl,
            "train_tokens_per_s": round(position.tokens / max(1e-9, position.train_seconds), 1),
            "verdict": verdict,
        })
        position.loss_sum, position.loss_tokens = 0.0, 0
        if verdict == "best":
            save_weights(self.output, net)
        if self.config.schedule == "plateau":
            set_lr(optimizer, schedule.lr)
        self._write_log(position.history)
        return "early stop" if verdict == "stop" else None

    def _write_log(self, history: list) -> None:
        write_text_atomic(self.output / LOG_FILE, "".join(json.dumps(r, sort_keys=True) + "\n" for r in history))
        write_plot(self.output / PLOT_FILE, history)

    def _save_resume(self, net, optimizer, schedule, position, state, sampler_rng, elapsed) -> None:
        position.elapsed = elapsed()
        save_tensors(self.output / RESUME_FILE, {
            "type": self.model_config.kind,
            "model_config": config_dict(self.model_config),
            "train_config": asdict(self.config),
            "vocab_size": len(self.vocab),
            "model": net.state_dict(),
            "optimizer": optimizer.state_dict(),
            "schedule": schedule.state(),
            "position": asdict(position),
            "rng": torch.get_rng_state(),
            "sampler_rng": sampler_rng.get_state(),
            "state": _to(state, "cpu"),
        })

    def _load_resume(self) -> dict:
        path = self.output / RESUME_FILE
        if not path.exists():
            raise NextwordError(f"{path}: nothing to resume (no resume.pt in {self.output}); "
                                f"train without --resume first")
        saved = load_tensors(path, "resume checkpoint")
        try:
            kind, model_config = saved["type"], saved["model_config"]
            saved["train_config"], saved["model"], saved["position"]
        except (KeyError, TypeError):
            raise NextwordError(f"{path}: not a nextword resume checkpoint") from None
        saved_vocab = Vocabulary.load(self.output / VOCAB_FILE)
        if saved_vocab != self.vocab or saved["vocab_size"] != len(self.vocab):
            raise NextwordError(
                f"{self.output / VOCAB_FILE}: the run being resumed has another vocabulary "
                f"({len(saved_vocab):,} entries, not {len(self.vocab):,}); resume with the same "
                f"training corpus and vocabulary options")
        asked = config_dict(self.model_config)
        if kind != self.model_config.kind or model_config != asked:
            differ = ", ".join(f"{k}={model_config.get(k)} (asked {asked.get(k)})"
                               for k in sorted(set(model_config) | set(asked))
                               if model_config.get(k) != asked.get(k))
            raise NextwordError(
                f"{path}: the run being resumed is a {kind} model, not the "
                f"{self.model_config.kind} model asked for{': ' + differ if differ else ''}; "
                f"repeat the original model options")
        return saved


def cosine_lr(lr: float, fraction: float) -> float:
    """Cosine annealing (Loshchilov & Hutter 2017) over the whole run, f = fraction done of the
    time budget (else of the epochs): η = η0 (1 + cos πf) / 2, from η0 down to 0 at the end.
    A fixed budget knows its end in advance, which a plateau schedule cannot use.

    >>> [round(cosine_lr(2.0, f), 3) for f in (0.0, 0.5, 1.0)]
    [2.0, 1.0, 0.0]
    """
    return lr * 0.5 * (1.0 + math.cos(math.pi * min(1.0, max(0.0, fraction))))


def current_lr(optimizer: torch.optim.Optimizer) -> float:
    return float(optimizer.param_groups[0]["lr"])


def _to(state, device):
    if isinstance(state, (tuple, list)):
        return tuple(s.to(device) for s in state)
    return state.to(device)


def write_plot(path: Path, history: list) -> None:
    """Training and validation perplexity against epochs, as a PNG (written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in history]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, [r["train_perplexity"] for r in history], "o-", label="training (running)")
    ax.plot(epochs, [r["valid_perplexity"] for r in history], "s-", label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("perplexity")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
