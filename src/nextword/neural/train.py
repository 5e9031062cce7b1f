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
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from nextword.errors import NextwordError
from nextword.fileio import check_destination, note, write_text_atomic
from nextword.neural.batching import batchify, num_segments, segments, token_stream
from nextword.neural.checkpoint import RESUME_FILE, save_weights, write_model_files
from nextword.neural.config import TrainConfig
from nextword.neural.layers import NeuralNet
from nextword.neural.model import target_logprobs
from nextword.neural.plot import PLOT_FILE, write_plot
from nextword.neural.softmax import SampledSoftmax, full_softmax_loss
from nextword.neural.optim import PlateauSchedule, make_optimizer, set_lr
from nextword.neural.recurrent import build_net
from nextword.neural.resume import load_resume, save_resume
from nextword.text.vocabulary import Vocabulary

LOG_FILE = "train_log.jsonl"


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


def train_step(net: NeuralNet, optimizer: torch.optim.Optimizer, inputs: torch.Tensor,
               targets: torch.Tensor, state, loss_fn: Callable, autocast, clip: float):
    """One update on a (T, B) segment; returns (J, the state to carry). A non-finite J leaves
    the weights untouched (no optimizer step), so the caller can stop with them intact."""
    state = net.detach(state)           # truncate: no gradient into the previous segment
    with autocast:
        features, state = net(inputs, state)                       # (T, B, d)
        loss = loss_fn(net, features, targets)
    return descend(net, optimizer, loss, clip), state


def descend(net: NeuralNet, optimizer: torch.optim.Optimizer, loss: torch.Tensor,
            clip: float) -> float:
    """Backward, clip the global gradient norm, and step: only on a finite loss, so that a
    diverged step leaves the weights as they were. Returns J."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if clip:
        torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
    value = loss.item()
    if math.isfinite(value):
        optimizer.step()
    return value


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
          progress: Callable | None = None, explicit: Iterable[str] | None = None,
          notify: Callable[[str], None] = note, corpus: str | None = None) -> TrainResult:
    """Train a model on token lists, validating on `valid_sentences`; write it to `output`.

    `progress(desc, total)` may return a tqdm-like bar (update, set_postfix, close); `corpus`
    names the training corpus in the plot's title.
    On `resume`, `explicit` names the TrainConfig fields the user set (typed flags): those that
    may change on resume (RESUMABLE_CHANGES) are applied and said, any other that differs from
    the saved run is refused; None applies every RESUMABLE_CHANGES field of `config`.
    `notify` says what is resumed and what changed.
    """
    output = Path(output)
    train_ids = _prepare(vocab, train_sentences)
    valid_ids = _prepare(vocab, valid_sentences)
    if len(valid_ids) < 2:
        raise NextwordError("the validation corpus is empty")
    title = f"{model_config.kind} on {corpus}" if corpus else model_config.kind
    return Trainer(model_config, config, vocab, train_ids, valid_ids, output, progress,
                   title).run(resume, explicit, notify)


class Trainer:
    """One training run, in the order it happens:

        setup        the network, optimizer, schedule, losses and data; a fresh run writes
                     model.json, a resumed one restores every piece from resume.pt
        train        for each epoch, for each (T, B) segment:
                         stop?     this run's step limit, the time budget (an evaluation's
                                   time kept in reserve)
                         step      one update (train_step) with the sampled or full softmax
                         evaluate  at the evaluation points: validation perplexity, log,
                                   schedule, best weights kept, resume.pt written
        finish       the budget ended between evaluation points: one last evaluation

    The thread count and the global random state are the caller's again when run() returns.
    """

    def __init__(self, model_config, config: TrainConfig, vocab: Vocabulary, train_ids: np.ndarray,
                 valid_ids: np.ndarray, output: Path, progress: Callable | None = None,
                 title: str | None = None):
        if model_config.vocab_size != len(vocab):
            raise NextwordError(f"model built for {model_config.vocab_size} words, vocabulary has {len(vocab)}")
        self.model_config, self.config, self.vocab = model_config, config, vocab
        self.output, self.progress = output, progress
        self.title = title or model_config.kind
        self.train_ids, self.valid_ids = train_ids, valid_ids

    def run(self, resume: bool = False, explicit: Iterable[str] | None = None,
            notify: Callable[[str], None] = note) -> TrainResult:
        device = self._check_device()
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []), \
                torch_threads(self.config.threads):
            self._setup(device, resume, explicit, notify)
            status = self._train()
            status = self._finish(status)
        position = self.position
        speed = position.tokens / position.train_seconds if position.train_seconds else 0.0
        return TrainResult(status or "done", self.schedule.best, position, speed)

    def _check_device(self) -> torch.device:
        device = torch.device(self.config.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise NextwordError("--device cuda: no CUDA device is available here; use --device cpu")
        return device

    def _resumed_config(self, saved: dict, explicit, notify) -> TrainConfig:
        """The saved run's settings, with the changes a resume may make (see `train`)."""
        try:
            before = TrainConfig(**saved["train_config"])
        except TypeError as error:
            raise NextwordError(f"{self.output / RESUME_FILE}: not a nextword resume checkpoint "
                                f"({error})") from None
        if explicit is None:
            return replace(before, **{k: getattr(self.config, k) for k in RESUMABLE_CHANGES})
        changed = [k for k in sorted(explicit)
                   if hasattr(before, k) and getattr(self.config, k) != getattr(before, k)]
        fixed = [k for k in changed if k not in RESUMABLE_CHANGES]
        if fixed:
            said = ", ".join(f"{_flag(k)} {getattr(before, k)} (asked {getattr(self.config, k)})"
                             for k in fixed)
            raise NextwordError(
                f"{self.output}: the run being resumed has {said}; a resumed run keeps these (its "
                f"optimizer state and schedule were built with them): leave them out or repeat "
                f"them; only {', '.join(_flag(k) for k in RESUMABLE_CHANGES)} may change")
        if changed:
            notify("applied on resume: " + ", ".join(
                f"{_flag(k)} {getattr(self.config, k)} (was {getattr(before, k)})" for k in changed))
        return replace(before, **{k: getattr(self.config, k) for k in changed})

    # ---- setup --------------------------------------------------------------------------------
    def _setup(self, device: torch.device, resume: bool, explicit, notify) -> None:
        saved = load_resume(self.output, self.model_config, self.vocab) if resume else None
        if saved is not None:       # the saved run's settings, but for those that may change
            self.config = self._resumed_config(saved, explicit, notify)
        config = self.config
        torch.manual_seed(config.seed)                  # initial weights, dropout masks
        self.device = device
        self.net = build_net(self.model_config).to(device)
        self.optimizer = make_optimizer(config.optimizer, self.net.parameters(), config.lr,
                                        config.weight_decay)
        # under the cosine schedule the plateau one only keeps the best model and stops early
        self.cosine = config.schedule == "cosine"
        self.schedule = PlateauSchedule(config.lr, 1.0 if self.cosine else config.lr_factor,
                                        config.patience, config.early_stop, config.min_lr)
        self.sampler_rng = torch.Generator(device=device).manual_seed(config.seed + 1)
        self.sampler = SampledSoftmax(np.bincount(self.train_ids, minlength=len(self.vocab)),
                                      config.num_samples, self.sampler_rng, device)
        self.autocast = torch.autocast(device.type, dtype=torch.bfloat16,
                                       enabled=config.precision == "bf16")
        if config.precision == "bf16":
            self._check_bf16(device)
        self.data = batchify(self.train_ids, config.batch_size).to(device)           # (L, B)
        self.valid = batchify(self.valid_ids, min(config.eval_batch_size,
                                                  max(1, len(self.valid_ids) // 2))).to(device)
        self.per_epoch = num_segments(self.data, config.bptt)
        self.eval_at = sorted({max(1, round(self.per_epoch * k / config.evals_per_epoch))
                               for k in range(1, config.evals_per_epoch + 1)})
        self.position = Position()
        self.state = self.net.initial_state(config.batch_size, device)
        # what one evaluation costs, kept in reserve under a time budget: estimated before the
        # first one from a timed slice of the validation streams, then measured
        self.eval_seconds = self._estimate_eval_seconds() if config.time_budget else 0.0
        if saved is None and config.time_budget and self.eval_seconds >= config.time_budget:
            self._refuse_budget()                   # before any file is written
        if saved is not None:
            self.net.load_state_dict(saved["model"])
            self.optimizer.load_state_dict(saved["optimizer"])
            self.schedule.restore(saved["schedule"])
            self.position = Position(**saved["position"])
            torch.set_rng_state(saved["rng"])
            self.sampler_rng.set_state(saved["sampler_rng"])
            self.state = _to(saved["state"], device)
            p = self.position
            notify(f"resuming the run in {self.output}: epoch {p.epoch + 1} "
                   f"({p.segment:,} of {self.per_epoch:,} segments done), step {p.step:,}, "
                   f"{p.elapsed / 60:.1f} min elapsed, best validation perplexity "
                   f"{self.schedule.best:.2f}")
        else:
            # another model or a training run there is refused (nothing is overwritten)
            check_destination(self.output, self.model_config.kind)
            write_model_files(self.output, self.model_config, self.vocab,
                              {"training": asdict(config)})
        set_lr(self.optimizer, self.schedule.lr)
        self.run_start, self.elapsed_before = time.monotonic(), self.position.elapsed
        self.steps_this_run, self.step_seconds, self.eval_started = 0, 0.0, None

    def _check_bf16(self, device: torch.device) -> None:
        """Some kernels have no bf16 form on CPUs without avx512_bf16/AMX (oneDNN's LSTM):
        one tiny forward pass finds out, so the user gets one line, not a traceback mid-run."""
        try:
            with self.autocast, torch.no_grad():
                self.net(torch.ones(1, 1, dtype=torch.long, device=device),
                         self.net.initial_state(1, device))
        except RuntimeError as error:
            reason = str(error).strip().splitlines()[0][:100]
            raise NextwordError(f"--precision bf16: the {self.model_config.kind} model cannot run "
                                f"in bf16 on this {device.type} ({reason}); use --precision "
                                f"fp32") from None

    def _refuse_budget(self):
        raise NextwordError(
            f"a time budget of {self.config.time_budget:g} s leaves no time to train: one "
            f"validation takes about {self.eval_seconds:.0f} s here; give a longer "
            f"--time-budget (or a smaller --valid corpus)")

    def _estimate_eval_seconds(self) -> float:
        rows = min(len(self.valid), 4 * 64)
        started = time.monotonic()
        stream_perplexity(self.net, self.valid[:rows + 1])
        return (time.monotonic() - started) * len(self.valid) / max(1, rows)

    # ---- the loop -----------------------------------------------------------------------------
    def _train(self) -> str | None:
        """Epochs of segments until a stop condition; returns the stop status (None: done)."""
        config, position = self.config, self.position
        status = None
        self.net.train()
        while status is None and position.epoch < config.epochs:
            tokens_per_epoch = self.per_epoch * config.bptt * config.batch_size
            bar = self.progress(f"epoch {position.epoch + 1}", tokens_per_epoch) if self.progress else None
            if bar is not None and position.segment:
                bar.update(position.segment * config.bptt * config.batch_size)
            for inputs, targets in segments(self.data, config.bptt, start=position.segment):
                status = self._stop_reason()
                if status is not None:
                    break
                value, sampled = self._step(inputs, targets)
                if bar is not None:
                    bar.update(targets.numel())
                    if position.step % 10 == 0:
                        bar.set_postfix(loss=f"{value:.3f}", ppl=f"{math.exp(min(value, 50)):.1f}",
                                        lr=f"{current_lr(self.optimizer):.3g}")
                if position.segment in self.eval_at:
                    status = self._evaluate_and_keep_best(sampled)
                    if status is not None:
                        break
                    if position.segment < self.per_epoch:
                        self._save_resume()
            else:
                position.epoch += 1
                position.segment = 0
                # a new pass over the streams starts from a fresh state
                self.state = self.net.initial_state(config.batch_size, self.device)
                self._save_resume()
            if bar is not None:
                bar.close()
        return status

    def _stop_reason(self) -> str | None:
        """Stop before the next step? This run's step limit, or the time budget: the next step
        and one more evaluation after it (each as long as the last one) must fit in it."""
        config = self.config
        if config.max_steps is not None and self.steps_this_run >= config.max_steps:
            return "interrupted"
        if config.time_budget is not None and \
                self.elapsed() + self.step_seconds + self.eval_seconds >= config.time_budget:
            if not self.position.history and not self.position.loss_tokens:
                self._refuse_budget()
            return "time budget"
        return None

    def _step(self, inputs: torch.Tensor, targets: torch.Tensor) -> tuple[float, bool]:
        """One update on a segment; returns (J, whether the sampled softmax was used)."""
        config, position = self.config, self.position
        step_start = time.monotonic()
        if self.eval_started is not None:
            # evaluation, log, plot and resume.pt: what the reserve under a budget must cover
            self.eval_seconds = step_start - self.eval_started
            self.eval_started = None
        if self.cosine:
            set_lr(self.optimizer, cosine_lr(config.lr, self.fraction_done()))
        # the sampled softmax for the first part of the run, the full one for the last part
        sampled = config.softmax == "sampled" and \
            self.fraction_done() < 1 - config.full_softmax_final
        value, self.state = train_step(self.net, self.optimizer, inputs, targets, self.state,
                                       self.sampler.loss if sampled else full_softmax_loss,
                                       self.autocast, config.clip)
        if not math.isfinite(value):
            raise NextwordError(
                f"training loss became {value} at epoch {position.epoch + 1}, step "
                f"{position.step + 1} (lr {current_lr(self.optimizer):g}); stopped, the last good "
                f"checkpoint in {self.output} is kept: lower --lr or set --clip")
        tokens = targets.numel()
        position.segment += 1
        position.step += 1
        self.steps_this_run += 1
        position.tokens += tokens
        position.loss_sum += value * tokens
        position.loss_tokens += tokens
        self.step_seconds = time.monotonic() - step_start
        position.train_seconds += self.step_seconds
        return value, sampled

    def _finish(self, status: str | None) -> str | None:
        if status == "time budget" and self.position.loss_tokens:
            # steps since the last evaluation: the reserve left room for this one
            status = self._evaluate_and_keep_best(False) or "time budget"
        self._save_resume()
        return status

    def elapsed(self) -> float:
        """Wall-clock seconds over all runs of this training (a resumed one included)."""
        return self.elapsed_before + time.monotonic() - self.run_start

    def fraction_done(self) -> float:
        """How far the run is, of its time budget (else of its epochs): drives the cosine
        schedule and the switch from the sampled to the full softmax."""
        if self.config.time_budget is not None:
            return self.elapsed() / self.config.time_budget
        position = self.position
        return (position.epoch + position.segment / self.per_epoch) / self.config.epochs

    # ---- evaluation, logs, checkpoints ------------------------------------------------------
    def _evaluate_and_keep_best(self, sampled: bool) -> str | None:
        """Validate, log, let the schedule act, keep the best model; returns a stop status or None."""
        self.eval_started = time.monotonic()     # _step measures the whole pause from here
        position, schedule = self.position, self.schedule
        valid_ppl = stream_perplexity(self.net, self.valid)
        train_loss = position.loss_sum / max(1, position.loss_tokens)
        lr = current_lr(self.optimizer)
        verdict = schedule.update(valid_ppl)
        position.history.append({
            "epoch": round(position.epoch + position.segment / self.per_epoch, 4),
            "step": position.step, "tokens": position.tokens, "elapsed_s": round(self.elapsed(), 2),
            "lr": lr, "train_loss": train_loss, "train_perplexity": math.exp(min(train_loss, 50)),
            "train_loss_is_sampled": sampled, "valid_perplexity": valid_ppl,
            "train_tokens_per_s": round(position.tokens / max(1e-9, position.train_seconds), 1),
            "verdict": verdict,
        })
        position.loss_sum, position.loss_tokens = 0.0, 0
        if verdict == "best":
            save_weights(self.output, self.net)
        if self.config.schedule == "plateau":
            set_lr(self.optimizer, schedule.lr)
        write_text_atomic(self.output / LOG_FILE,
                          "".join(json.dumps(r, sort_keys=True) + "\n" for r in position.history))
        write_plot(self.output / PLOT_FILE, position.history, self.title)
        return "early stop" if verdict == "stop" else None

    def _save_resume(self) -> None:
        self.position.elapsed = self.elapsed()
        save_resume(self.output, self.model_config, self.config, self.vocab, self.net,
                    self.optimizer, self.schedule, self.position, self.state, self.sampler_rng)


@contextmanager
def torch_threads(threads: int | None):
    """torch.set_num_threads(threads) inside the block, the caller's count again after it."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _flag(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


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
