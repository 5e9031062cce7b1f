"""The training loop, checkpoints and the CLI: carried state, resume, optimizers, bad input."""
import importlib
import json
import math
import shutil

import pytest
import torch

from nextword.cli import main
from nextword.errors import NextwordError
from nextword.evaluate import evaluate
from nextword.model import load_model
from nextword.neural.checkpoint import RESUME_FILE, WEIGHTS_FILE
from nextword.neural.optim import OPTIMIZERS, PlateauSchedule
from nextword.neural.recurrent import RecurrentNet
from nextword.neural.train import LOG_FILE, PLOT_FILE, TrainConfig, train
from nextword.text.vocabulary import Vocabulary

from neural_fixtures import tiny_config, tiny_train

train_module = importlib.import_module("nextword.neural.train")   # the package exports train()


def test_truncated_bptt_carries_the_state_and_detaches_it(vocab, sentences, tmp_path, monkeypatch):
    """Each segment starts from the state the previous segment ended in (not from zeros), and
    that state has no gradient history (truncation). Reset every segment would fail this."""
    seen = []
    original = RecurrentNet.forward

    def spy(self, inputs, state):
        features, new_state = original(self, inputs, state)
        if self.training:
            seen.append((state, new_state))
        return features, new_state

    monkeypatch.setattr(RecurrentNet, "forward", spy)
    train(tiny_config("gru", len(vocab)), tiny_train(epochs=1, max_steps=4), vocab, sentences,
          sentences[:4], tmp_path)
    assert len(seen) == 4
    assert not seen[0][0].any()                                     # h(0) = 0 at the start
    for (_, ended), (started, _) in zip(seen, seen[1:]):
        assert started.abs().sum() > 0
        assert torch.equal(started, ended.detach())                # carried ...
        assert not started.requires_grad and ended.requires_grad   # ... and truncated


def test_resume_equals_uninterrupted(vocab, sentences, tmp_path):
    """Interrupted after 5 steps (mid-epoch, between evaluations), then resumed: same weights and
    same validation perplexities, bit for bit, as one run (dropout exercises the RNG state)."""
    model = tiny_config("lstm", len(vocab), dropout=0.3, num_layers=2)
    config = tiny_train(epochs=2, evals_per_epoch=2)
    whole = train(model, config, vocab, sentences, sentences[:8], tmp_path / "whole")
    first = train(model, TrainConfig(**{**config.__dict__, "max_steps": 5}), vocab, sentences,
                  sentences[:8], tmp_path / "split")
    assert first.status == "interrupted" and first.position.step == 5
    second = train(model, config, vocab, sentences, sentences[:8], tmp_path / "split", resume=True)
    assert second.status == "done" and second.position.step == whole.position.step
    assert [r["valid_perplexity"] for r in second.position.history] == \
        [r["valid_perplexity"] for r in whole.position.history]
    a = torch.load(tmp_path / "whole" / RESUME_FILE, weights_only=True)["model"]
    b = torch.load(tmp_path / "split" / RESUME_FILE, weights_only=True)["model"]
    for name in a:
        assert torch.equal(a[name], b[name]), name


@pytest.mark.parametrize("name,lr", [("sgd", 1.0), ("adagrad", 0.1), ("rmsprop", 0.01),
                                     ("adam", 0.01), ("adamw", 0.01), ("nadamw", 0.01)])
def test_every_optimizer_trains(name, lr, vocab, sentences, tmp_path):
    """Two epochs of each: validation perplexity ends well below the uniform |V| = 12."""
    assert name in OPTIMIZERS
    result = train(tiny_config("rnn", len(vocab)), tiny_train(optimizer=name, lr=lr, epochs=2,
                   weight_decay=0.01), vocab, sentences, sentences[:8], tmp_path)
    assert result.best_valid_perplexity < 0.6 * 12


def test_unknown_optimizer_is_a_one_line_error():
    with pytest.raises(NextwordError, match=r"unknown optimizer 'adamax'; choose one of sgd, "):
        TrainConfig(optimizer="adamax")


def test_schedule_decays_on_plateau_and_stops_early():
    """lr 1 · 0.5 per stalled evaluation; stop after 2 evaluations without improvement."""
    s = PlateauSchedule(lr=1.0, factor=0.5, patience=0, stop_after=2)
    assert [s.update(p) for p in (10.0, 9.0, 9.5, 9.2)] == ["best", "best", "decay", "stop"]
    assert s.lr == 0.5 and s.best == 9.0


def test_a_factor_of_one_never_decays():
    """The cosine schedule keeps a PlateauSchedule with factor 1 only for 'best' and stopping."""
    s = PlateauSchedule(lr=1.0, factor=1.0, patience=0, stop_after=3)
    assert [s.update(p) for p in (10.0, 11.0, 12.0, 13.0)] == ["best", "wait", "wait", "stop"]
    assert s.lr == 1.0


def test_cosine_schedule_anneals_over_the_epochs(vocab, sentences, tmp_path):
    """η = η0 (1 + cos πf) / 2, set before each step from the fraction f of the run done before
    it. With S segments per epoch and 2 epochs, the evaluation after epoch e logs the rate of
    its last step, f = (e - 1 + (S - 1)/S) / 2; a stalled validation never lowers it further."""
    config = tiny_train(epochs=2, schedule="cosine", lr=0.02)
    result = train(tiny_config("rnn", len(vocab)), config, vocab, sentences, sentences[:8], tmp_path)
    history = result.position.history
    per_epoch = history[0]["step"]                                  # S steps in epoch 1
    for epoch, record in enumerate(history, start=1):
        f = (epoch - 1 + (per_epoch - 1) / per_epoch) / 2
        assert record["lr"] == pytest.approx(0.02 * 0.5 * (1 + math.cos(math.pi * f)), rel=1e-12)
    assert history[0]["lr"] > history[1]["lr"] > 0
    assert train_module.cosine_lr(0.02, 1.0) == 0.0 and train_module.cosine_lr(0.02, 0.0) == 0.02


def test_unknown_schedule_is_a_one_line_error():
    with pytest.raises(NextwordError, match=r"unknown schedule 'step'; choose one of plateau, cosine"):
        TrainConfig(schedule="step")


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_checkpoint(
        vocab, sentences, tmp_path, monkeypatch):
    """The loss turns NaN at step 7, after the evaluation at step 4 saved weights.pt.
    Stream: 12 x (18 words + 4 </s>) + the opening </s> = 265 tokens; B = 4 streams of 66;
    ceil(65 / 8) = 9 segments per epoch; 2 evaluations per epoch: after segments 4 and 9."""
    calls = {"n": 0}
    original = train_module.full_softmax_loss

    def poisoned(net, features, targets):
        calls["n"] += 1
        loss = original(net, features, targets)
        return loss * float("nan") if calls["n"] == 7 else loss

    monkeypatch.setattr(train_module, "full_softmax_loss", poisoned)
    config = tiny_train(epochs=2, evals_per_epoch=2)
    with pytest.raises(NextwordError) as error:
        train(tiny_config("lstm", len(vocab)), config, vocab, sentences, sentences[:8], tmp_path)
    message = str(error.value)
    assert "\n" not in message and "loss became nan at epoch 1, step 7" in message
    assert "last good checkpoint" in message
    lm = load_model(tmp_path)                                        # the step-4 model
    assert math.isfinite(evaluate(lm, sentences[:8]).perplexity)
    saved = torch.load(tmp_path / RESUME_FILE, weights_only=True)
    assert saved["position"]["step"] == 4                            # the last good position


@pytest.fixture
def trained(vocab, sentences, tmp_path):
    train(tiny_config("lstm", len(vocab)), tiny_train(epochs=1), vocab, sentences, sentences[:4],
          tmp_path / "lstm")
    train(tiny_config("gru", len(vocab)), tiny_train(epochs=1), vocab, sentences, sentences[:4],
          tmp_path / "gru")
    return tmp_path


def test_weights_of_another_model_type(trained):
    shutil.copy(trained / "gru" / WEIGHTS_FILE, trained / "lstm" / WEIGHTS_FILE)
    with pytest.raises(NextwordError, match=r"weights.pt: .*(not those of the lstm model|shape)"):
        load_model(trained / "lstm")


def test_vocabulary_of_another_model(trained):
    Vocabulary.build([["x", "y"]]).save(trained / "lstm" / "vocab.txt")
    with pytest.raises(NextwordError, match=r"vocab.txt: 5 entries, but the model was built for "
                                            r"a vocabulary of 13"):
        load_model(trained / "lstm")


@pytest.mark.parametrize("damage", ["truncate", "garbage", "code"])
def test_corrupt_truncated_or_unsafe_weights(trained, damage):
    path = trained / "lstm" / WEIGHTS_FILE
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a checkpoint at all")
    else:                                   # a pickle that would run code: refused, not run
        torch.save({"embedding.weight": torch.zeros(1), "hook": print}, path)
    with pytest.raises(NextwordError, match=r"weights.pt: corrupt or truncated weights file") as error:
        load_model(trained / "lstm")
    assert "\n" not in str(error.value)


def test_resume_errors(trained, vocab, sentences):
    with pytest.raises(NextwordError, match="nothing to resume"):
        train(tiny_config("lstm", len(vocab)), tiny_train(), vocab, sentences, sentences[:4],
              trained / "empty", resume=True)
    with pytest.raises(NextwordError, match="is a lstm model, not the gru model asked for"):
        train(tiny_config("gru", len(vocab)), tiny_train(), vocab, sentences, sentences[:4],
              trained / "lstm", resume=True)
    other = Vocabulary.build(sentences + [["zebra"]])
    with pytest.raises(NextwordError, match="another vocabulary"):
        train(tiny_config("lstm", len(other)), tiny_train(), other, sentences, sentences[:4],
              trained / "lstm", resume=True)
    resume = trained / "lstm" / RESUME_FILE
    resume.write_bytes(resume.read_bytes()[:100])
    with pytest.raises(NextwordError, match="resume.pt: corrupt or truncated resume checkpoint"):
        train(tiny_config("lstm", len(vocab)), tiny_train(), vocab, sentences, sentences[:4],
              trained / "lstm", resume=True)


def test_a_fresh_run_does_not_overwrite_a_resumable_one(trained, vocab, sentences):
    before = (trained / "lstm" / WEIGHTS_FILE).read_bytes()
    with pytest.raises(NextwordError, match="holds a training run .* pass --resume"):
        train(tiny_config("lstm", len(vocab)), tiny_train(), vocab, sentences, sentences[:4],
              trained / "lstm")
    assert (trained / "lstm" / WEIGHTS_FILE).read_bytes() == before


def test_log_and_plot_are_written(trained):
    lines = (trained / "lstm" / LOG_FILE).read_text().splitlines()
    record = json.loads(lines[-1])
    assert record["epoch"] == 1.0 and record["valid_perplexity"] > 1
    assert (trained / "lstm" / PLOT_FILE).read_bytes()[:4] == b"\x89PNG"


# ---- the CLI ----------------------------------------------------------------------------------
@pytest.fixture
def corpus_files(tmp_path):
    from neural_fixtures import LINES

    (tmp_path / "train.txt").write_text("\n".join(LINES * 10) + "\n")
    (tmp_path / "test.txt").write_text("\n".join(LINES) + "\n\na zebra\n")
    return tmp_path


def test_cli_train_eval_generate_like_an_ngram(corpus_files, capsys):
    d = corpus_files
    assert main(["train", "--model", "lstm", "--corpus", str(d / "train.txt"), "--valid",
                 str(d / "test.txt"), "-o", str(d / "lstm"), "--hidden-dim", "16",
                 "--embedding-dim", "16", "--epochs", "2", "--bptt", "8", "--batch-size", "4",
                 "--optimizer", "adam", "--lr", "0.01", "--time-budget", "2m", "--seed", "3",
                 "--schedule", "cosine"]) == 0
    assert json.loads((d / "lstm" / "model.json").read_text())["training"]["schedule"] == "cosine"
    assert main(["train", "--corpus", str(d / "train.txt"), "-o", str(d / "ngram"),
                 "--smoothing", "add-delta"]) == 0
    capsys.readouterr()
    results = []
    for model in ("lstm", "ngram"):
        assert main(["eval", str(d / model), "--corpus", str(d / "test.txt"), "--json"]) == 0
        results.append(json.loads(capsys.readouterr().out))
    assert results[0]["tokens"] == results[1]["tokens"] == 22 + 1 + 3     # words + </s>, blank line
    assert results[0]["oov"] == 1
    assert main(["eval", str(d / "lstm"), "--corpus", str(d / "test.txt"), "--per-sentence"]) == 0
    assert "26 tokens in 6 sentences, 1 OOV" in capsys.readouterr().out
    assert main(["generate", str(d / "lstm"), "--seed", "1", "-k", "3", "--max-length", "10"]) == 0
    assert capsys.readouterr().out.count("\n") == 3                    # one line per sentence


@pytest.mark.parametrize("args,message", [
    (["--optimizer", "adamax"], "Invalid value for '--optimizer'"),
    (["--time-budget", "soon"], "is not a duration"),
    (["--preset", "bengio-window"], "preset bengio-window is a window model; use `nextword train window`"),
    (["--window", "3"], "no such option --window for `nextword train lstm`"),
    (["--resume"], "nothing to resume"),
    (["--preset", "nope"], "unknown preset 'nope'"),
    (["--preset", "lstm-budget"], "preset lstm-budget trains until a time budget: pass --time-budget"),
])
def test_cli_errors_are_one_line(corpus_files, capsys, args, message):
    d = corpus_files
    code = main(["train", "--model", "lstm", "--corpus", str(d / "train.txt"), "--valid",
                 str(d / "test.txt"), "-o", str(d / "out"), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and err and err[-1].startswith("nextword: error:") and message in err[-1]


def test_cli_requires_a_validation_corpus(corpus_files, capsys):
    assert main(["train", "--model", "gru", "--corpus", str(corpus_files / "train.txt"),
                 "-o", str(corpus_files / "out")]) == 1
    assert "pass --valid" in capsys.readouterr().err


def test_cli_choices_are_the_library_ones():
    """The CLI reads its choice lists from nextword.neural.config, which the library checks."""
    from nextword.commands.train_neural import neural_command
    from nextword.neural.config import INIT_SCHEMES, PRECISIONS, SCHEDULES, SOFTMAXES

    params = {p.name: p for p in neural_command("lstm").params}
    for name, names in [("optimizer", OPTIMIZERS), ("init", INIT_SCHEMES), ("schedule", SCHEDULES),
                        ("softmax", SOFTMAXES), ("precision", PRECISIONS)]:
        assert list(params[name].type.choices) == list(names)
