"""resume.pt: everything --resume needs to continue a run exactly where it stopped (weights,
optimizer state, schedule, position, random states, the carried hidden state), and the checks
that the run being resumed is the one asked for."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from nextword.errors import NextwordError
from nextword.model import VOCAB_FILE
from nextword.neural.checkpoint import RESUME_FILE, config_dict, load_tensors, save_tensors
from nextword.text.vocabulary import Vocabulary


def save_resume(output: Path, model_config, train_config, vocab, net, optimizer, schedule,
                position, state, sampler_rng) -> None:
    save_tensors(output / RESUME_FILE, {
        "type": model_config.kind,
        "model_config": config_dict(model_config),
        "train_config": asdict(train_config),
        "vocab_size": len(vocab),
        "model": net.state_dict(),
        "optimizer": optimizer.state_dict(),
        "schedule": schedule.state(),
        "position": asdict(position),
        "rng": torch.get_rng_state(),
        "sampler_rng": sampler_rng.get_state(),
        "state": _cpu(state),
    })


def load_resume(output: Path, model_config, vocab: Vocabulary) -> dict:
    """The saved run in `output`, checked against the model and vocabulary asked for."""
    path = output / RESUME_FILE
    if not path.exists():
        raise NextwordError(f"{path}: nothing to resume (no resume.pt in {output}); "
                            f"train without --resume first")
    saved = load_tensors(path, "resume checkpoint")
    try:
        kind, saved_config = saved["type"], saved["model_config"]
        saved["train_config"], saved["model"], saved["position"]
    except (KeyError, TypeError):
        raise NextwordError(f"{path}: not a nextword resume checkpoint") from None
    saved_vocab = Vocabulary.load(output / VOCAB_FILE)
    if saved_vocab != vocab or saved["vocab_size"] != len(vocab):
        raise NextwordError(
            f"{output / VOCAB_FILE}: the run being resumed has another vocabulary "
            f"({len(saved_vocab):,} entries, not {len(vocab):,}); resume with the same "
            f"training corpus and vocabulary options")
    asked = config_dict(model_config)
    if kind != model_config.kind or saved_config != asked:
        differ = ", ".join(f"{k}={saved_config.get(k)} (asked {asked.get(k)})"
                           for k in sorted(set(saved_config) | set(asked))
                           if saved_config.get(k) != asked.get(k))
        raise NextwordError(
            f"{path}: the run being resumed is a {kind} model, not the "
            f"{model_config.kind} model asked for{': ' + differ if differ else ''}; "
            f"repeat the original model options")
    return saved


def _cpu(state):
    if isinstance(state, (tuple, list)):
        return tuple(s.to("cpu") for s in state)
    return state.to("cpu")
