"""The command shape: one `train` subcommand per family, the older `train --model KIND` spelling,
defaults in --help, and n-gram work that never imports PyTorch."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nextword.cli import main


@pytest.fixture
def corpus_file(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("the cat sat\nthe dog sat\nthe cat ran\n\n")
    return path


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("spelling", [
    ["train", "ngram"],                          # the family's own command
    ["train", "--model", "ngram"],               # the older spelling, dispatched to it
    ["train", "--model=ngram"],
    ["train"],                                   # no --model: ngram
])
def test_both_spellings_train_the_same_ngram_model(capsys, tmp_path, corpus_file, spelling):
    out = tmp_path / "m"
    code, _, err = run(capsys, *spelling, "--corpus", corpus_file, "-o", out, "-n", 2,
                       "--smoothing", "add-delta", "--delta", 0.5)
    assert code == 0, err
    estimator = json.loads((out / "model.json").read_text())["estimator"]
    assert estimator == {"name": "add-delta", "delta": 0.5}


@pytest.mark.parametrize("spelling", [["train", "numpy-rnn", "--truncation", "3"],
                                      ["train", "--model", "numpy-rnn", "--bptt", "3"]])
def test_numpy_rnn_truncation_both_spellings(capsys, tmp_path, corpus_file, spelling):
    """--bptt has one meaning (the neural segment length); the NumPy RNN's truncation K is
    --truncation, and the older `--model numpy-rnn --bptt K` is read as --truncation K."""
    out = tmp_path / "m"
    code, _, err = run(capsys, *spelling, "--corpus", corpus_file, "-o", out, "--epochs", 1,
                       "--hidden-dim", 4, "--embedding-dim", 2)
    assert code == 0, err
    assert json.loads((out / "model.json").read_text())["training"]["config"]["bptt"] == 3


def test_help_lists_families_presets_and_defaults(capsys):
    code, out, _ = run(capsys, "train", "--help")
    assert code == 0
    for family in ("ngram", "numpy-rnn", "window", "rnn", "lstm", "gru"):
        assert f"  {family} " in out
    code, out, _ = run(capsys, "train", "lstm", "--help")
    assert code == 0 and "lstm-budget" in out and "pytorch-example-lstm" in out
    assert "--layers" in out and "--window" not in out
    from nextword.neural.presets import family_defaults

    _, train_defaults = family_defaults("lstm")
    from nextword.neural.config import TrainConfig

    lr = train_defaults.get("lr", TrainConfig.lr)
    assert f"[default: {lr}]" in " ".join(out.split())
    code, out, _ = run(capsys, "train", "window", "--help")
    assert "--window" in out and "--layers" not in out and "bengio-window" in out
    code, out, _ = run(capsys, "train", "ngram", "--help")
    assert "[default: modified-kneser-ney]" in " ".join(out.split())


def test_every_flag_has_help(capsys):
    from nextword.cli import COMMANDS
    from nextword.commands.train import TrainGroup
    from nextword.model import resolve

    import click

    def commands(command, path):
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                yield from commands(command.get_command(ctx, name), f"{path} {name}")
        else:
            yield path, command

    for name, target in COMMANDS.items():
        for path, command in commands(resolve(target), name):
            for param in command.params:
                if isinstance(param, click.Option):
                    assert param.help, f"nextword {path} {param.opts[0]} has no help"
    assert TrainGroup


TORCH_FREE = """
import sys
from nextword.cli import main

def call(*args):
    try:
        code = main([str(a) for a in args])
    except SystemExit as e:
        code = e.code
    assert code in (0, None), (args, code)

d = sys.argv[1]
call("--help")
call("train", "--help")
call("train", "ngram", "--help")
call("train", "lstm", "--help")          # its defaults and choices come from torch-free config
call("train", "ngram", "--corpus", f"{d}/train.txt", "-o", f"{d}/m", "-n", "2", "--smoothing", "witten-bell")
call("train", "--corpus", f"{d}/train.txt", "-o", f"{d}/m2", "-n", "2", "--discount-fallback")
call("eval", f"{d}/m", "--corpus", f"{d}/train.txt")
call("info", f"{d}/m")
call("generate", f"{d}/m", "--seed", "1")
call("export", f"{d}/m", "--arpa", f"{d}/m.arpa")
call("eval", f"{d}/m.arpa", "--corpus", f"{d}/train.txt")
call("info", f"{d}/m.arpa")
call("generate", f"{d}/m.arpa", "--seed", "1")
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "matplotlib"))
print("HEAVY", heavy, file=sys.stderr)
assert not heavy, heavy
"""


def test_ngram_commands_never_import_torch(tmp_path, corpus_file):
    (tmp_path / "train.txt").write_text(corpus_file.read_text())
    import nextword

    src = str(Path(nextword.__file__).parents[1])          # this checkout, not an installed copy
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(TORCH_FREE), str(tmp_path)],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "HEAVY []" in result.stderr


WITHOUT_TORCH = """
import sys
sys.modules["torch"] = None              # as if torch were not installed: `import torch` fails
from nextword.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("command", [
    ["train", "lstm", "--valid", "{d}/train.txt"],
    ["train", "--model", "window", "--valid", "{d}/train.txt"],
    ["eval", "{d}/lstm"],
    ["info", "{d}/lstm"],
])
def test_neural_work_without_torch_names_the_extra(tmp_path, corpus_file, command):
    import nextword

    (tmp_path / "lstm").mkdir()
    (tmp_path / "lstm" / "model.json").write_text('{"type": "lstm", "config": {}}')
    args = [a.format(d=tmp_path) for a in command]
    if args[0] == "train":
        args += ["--corpus", str(corpus_file), "-o", str(tmp_path / "out")]
    src = str(Path(nextword.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", WITHOUT_TORCH, *args], capture_output=True,
                            text=True, env=env)
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["nextword: error: this needs torch, which is not "
                                          "installed: pip install 'nextword[neural]'"]


def test_public_names_are_the_functions_even_after_their_submodules_are_imported():
    """`evaluate` and `generate` are also submodules: importing those must not replace the
    functions the package exports (README: `from nextword import evaluate`)."""
    code = ("import nextword.evaluate, nextword.generate\n"
            "from nextword import evaluate, generate\n"
            "import types, sys\n"
            "sys.exit(isinstance(evaluate, types.ModuleType) or isinstance(generate, types.ModuleType))")
    import nextword

    src = str(Path(nextword.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0
