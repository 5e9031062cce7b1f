"""Checkpoints that load without executing code, written atomically.

A model directory holds
    model.json    {"type": "lstm", "config": {...}, ...}   the frozen config, plain JSON
    vocab.txt     the vocabulary (token<TAB>count per line)
    weights.pt    the state_dict of the best model on validation: tensors only, read back with
                  torch.load(weights_only=True), which refuses anything but tensors and primitives
    resume.pt     (training only) the last position: weights, optimizer state, random states,
                  carried hidden state, epoch and segment, schedule; what --resume continues from
Each file is written to a temporary name and renamed, so a crash leaves the previous version.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from nextword.errors import NextwordError
from nextword.fileio import atomic_path, cannot_write, inside, read_json, write_json_atomic, write_manifest
from nextword.model import MODEL_FILE, VOCAB_FILE
from nextword.neural.config import config_from_dict
from nextword.neural.recurrent import build_net
from nextword.text.vocabulary import Vocabulary

WEIGHTS_FILE = "weights.pt"
RESUME_FILE = "resume.pt"
FORMAT = "nextword-neural/1"


def save_tensors(path: Path, obj) -> None:
    try:
        with atomic_path(path) as tmp:
            torch.save(obj, tmp)
    except RuntimeError as error:     # torch reports a failed write (disk full) this way
        reason = str(error).strip().splitlines()[0][:160] if str(error).strip() else "write failed"
        raise cannot_write(path, reason) from None


def load_tensors(path: Path, what: str = "checkpoint"):
    """torch.load with weights_only=True; any failure is a one-line NextwordError."""
    path = Path(path)
    if not path.exists():
        raise NextwordError(f"{path}: no such file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:                       # zip, pickle, EOF, unsafe type: all unreadable
        reason = str(error).strip().splitlines()[0][:120] if str(error).strip() else type(error).__name__
        raise NextwordError(f"{path}: corrupt or truncated {what}, cannot read it ({reason})") from None


def write_model_files(directory: Path, config, vocab: Vocabulary, extra: dict | None = None) -> None:
    """model.json and vocab.txt: written once, before any weights."""
    directory.mkdir(parents=True, exist_ok=True)
    vocab.save(directory / VOCAB_FILE)
    write_json_atomic(directory / MODEL_FILE, {
        "type": config.kind, "format": FORMAT, "config": config_dict(config),
        "weights": WEIGHTS_FILE, **(extra or {}),
    })


def config_dict(config) -> dict:
    values = asdict(config)
    values.pop("cell", None)                  # the type says it
    return values


def save_weights(directory: Path, net: torch.nn.Module) -> None:
    """weights.pt, then the sizes and checksums in model.json (when it is there) follow it."""
    directory = Path(directory)
    save_tensors(directory / WEIGHTS_FILE, net.state_dict())
    if (directory / MODEL_FILE).exists():
        write_manifest(directory, [VOCAB_FILE, WEIGHTS_FILE])


def load_net(directory: str | Path, meta: dict | None = None):
    """(network in eval mode, config, vocabulary) of a saved neural model, all checked."""
    directory = Path(directory)
    meta = meta if meta is not None else read_json(directory / MODEL_FILE)
    type_name = meta.get("type")
    try:
        config = config_from_dict(type_name, dict(meta["config"]))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise NextwordError(f"{directory / MODEL_FILE}: malformed {type_name} model ({error})") from None
    vocab = Vocabulary.load(directory / VOCAB_FILE)
    if len(vocab) != config.vocab_size:
        raise NextwordError(
            f"{directory / VOCAB_FILE}: {len(vocab):,} entries, but the model was built for a "
            f"vocabulary of {config.vocab_size:,}: the vocabulary belongs to another model"
        )
    net = build_net(config)
    weights = inside(directory, meta.get("weights", WEIGHTS_FILE), "weights file")
    state = load_tensors(weights, "weights file")
    check_state_dict(weights, net, state, type_name)
    net.load_state_dict(state)
    net.eval()
    return net, config, vocab


def check_state_dict(path: Path, net: torch.nn.Module, state, type_name: str) -> None:
    """The weights must be exactly the tensors this model type and size has."""
    if not isinstance(state, dict):
        raise NextwordError(f"{path}: not a state dict of tensors")
    expected = net.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        names = ", ".join((missing or unexpected)[:3])
        raise NextwordError(
            f"{path}: these weights are not those of the {type_name} model in {MODEL_FILE} "
            f"({'missing' if missing else 'unexpected'}: {names}); was it saved by another model type?"
        )
    for name, tensor in expected.items():
        if not isinstance(state[name], torch.Tensor) or state[name].shape != tensor.shape:
            shape = tuple(getattr(state[name], "shape", ()))
            raise NextwordError(
                f"{path}: weight {name} has shape {shape}, the {type_name} model in {MODEL_FILE} "
                f"needs {tuple(tensor.shape)} (another vocabulary or size?)"
            )
