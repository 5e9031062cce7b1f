"""Folders of combinations: a model.json that names its components, never copies of them.

    mixture/model.json  {"type": "mixture", "combination": "linear",
                         "components": [{"path": "../ptb-kn5", "weight": 0.42}, ...],
                         "fit": {...what fitting printed...}}
    adapted/model.json  {"type": "adapted", "base": "../ptb-lstm", "cache": {...}, "dynamic": {...}}

A component path is stored relative to the combination's own folder (os.path.relpath), so a
tree of models moved or copied together still loads (a path written by hand may be absolute).
A component built in memory (no path) is saved inside the folder, as component-K/.
"""
from __future__ import annotations

import os
from pathlib import Path

from nextword.errors import NextwordError
from nextword.fileio import check_destination, model_folder, write_json_atomic
from nextword.model import MODEL_FILE, load_model


def stored_path(component: str | Path, directory: Path) -> str:
    """How `component` (a path as the user gave it) is written in `directory`/model.json."""
    return os.path.relpath(Path(component).resolve(), directory.resolve())


def check_output(directory, kind: str, components, force: bool = False) -> None:
    """Before any work: may a `kind` folder that refers to `components` be written at
    `directory`? Never over or around one of its own components (replacing that folder would
    delete what the combination refers to); over another model only with `force`."""
    directory = Path(directory).resolve()
    for component in components:
        if component is None:
            continue
        path = Path(component).resolve()
        if path == directory or directory in path.parents:
            raise NextwordError(f"{directory}: is (or holds) {component}, one of the models "
                                f"combined; choose another output folder")
    check_destination(directory, kind, force)


def load_component(directory: Path, stored: str, what: str):
    path = directory / stored                    # an absolute stored path stays itself
    if not path.exists():
        raise NextwordError(f"{directory / MODEL_FILE}: {what} {stored!r} not found "
                            f"(looked for {path}); paths are relative to the folder of the combination")
    return load_model(path)


def save_mixture(mixture, directory, force: bool = False) -> None:
    """Write the folder whole or not at all (fileio.model_folder)."""
    directory = Path(directory)
    paths = mixture.paths or [None] * len(mixture.components)
    check_output(directory, "mixture", paths, force)
    with model_folder(directory, "mixture", force) as tmp:
        entries = []
        for k, (component, weight) in enumerate(zip(mixture.components, mixture.weights), start=1):
            if paths[k - 1] is not None:
                path = stored_path(paths[k - 1], directory)
            else:
                path = f"component-{k}"
                component.save(tmp / path)
            entries.append({"path": path, "weight": weight})
        write_json_atomic(tmp / MODEL_FILE, {
            "type": "mixture", "combination": mixture.combination, "components": entries,
            "fit": mixture.fit,
        })


def load_mixture(directory, meta: dict):
    from nextword.combine.mixture import Mixture

    directory = Path(directory)
    try:
        entries = list(meta["components"])
        paths = [str(e["path"]) for e in entries]
        weights = [float(e["weight"]) for e in entries]
    except (KeyError, TypeError, ValueError) as error:
        raise NextwordError(f"{directory / MODEL_FILE}: malformed mixture ({error})") from None
    components = [load_component(directory, p, "component") for p in paths]
    return Mixture(components, weights, meta.get("combination", "linear"), names=paths,
                   paths=[directory / p for p in paths], fit=meta.get("fit"))
