"""The `nextword` command: flags -> dataclasses -> library calls. No maths here.

Every user mistake ends in one line on stderr (``nextword: error: ...``) and a non-zero exit.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from nextword.commands.common import Counted, evaluate, open_corpus, progress, read_training, report
from nextword.errors import NextwordError

SMOOTHINGS = ["mle", "add-delta", "laplace", "kneser-ney", "modified-kneser-ney", "katz",
              "witten-bell", "absolute", "stupid-backoff"]
NEURAL_MODELS = ["window", "rnn", "lstm", "gru"]          # nextword.neural (issue 5)
# = nextword.neural.optim.OPTIMIZERS, spelled out so that the CLI starts without importing torch
NEURAL_OPTIMIZERS = ["sgd", "adagrad", "rmsprop", "adam", "adamw", "nadamw"]


# Commands that live in their own module under nextword/commands: name -> "module:attribute".
# A new command is one file there plus one line here; its module is imported only when the
# command runs (or `--help` lists it), so `nextword eval` on an n-gram model never imports torch.
COMMANDS: dict[str, str] = {
    "serve": "nextword.commands.serve:serve",
}


class LazyGroup(click.Group):
    """A click group whose COMMANDS are imported on first use."""

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx, name):
        if name in COMMANDS:
            from nextword.model import resolve

            return resolve(COMMANDS[name])
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nextword")
def cli():
    """nextword: build, evaluate and sample language models.

    CORPUS is a file path, `default` (Python's own documentation, embedded), or a standard
    corpus with a split: ptb:train, ptb:valid, ptb:test, wikitext-2:train, ..., tinyshakespeare.
    Standard corpora are read from $NEXTWORD_DATA (fallback: ../shared/data).
    """


# ---- options of nextword train --model numpy-rnn (issue 4) ------------------------------------
# The neural models (issue 5) take flags of the same names; a merge keeps one definition of each.
NUMPY_RNN_FLAGS = ("embedding_dim", "hidden_dim", "epochs", "lr", "bptt", "clip", "seed")


def numpy_rnn_options(function):
    """Flags of the NumPy RNN; None means the TrainConfig default."""
    options = [
        click.option("--embedding-dim", type=int, default=None,
                     help="Embedding size d [numpy-rnn: 32]."),
        click.option("--hidden-dim", type=int, default=None, help="Hidden size H [numpy-rnn: 64]."),
        click.option("--epochs", type=int, default=None,
                     help="Passes over the corpus [numpy-rnn: 3]."),
        click.option("--lr", type=float, default=None, help="SGD learning rate [numpy-rnn: 0.25]."),
        click.option("--bptt", type=int, default=None, help="numpy-rnn: each loss sends gradient "
                     "back this many steps (truncated BPTT); 0 = full [20]."),
        click.option("--clip", type=float, default=None, help="Max global gradient norm; 0 = off "
                     "[numpy-rnn: 5]."),
        click.option("--seed", type=int, default=None, help="Seed of weights and order [numpy-rnn: 0]."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


# ---- neural training options (issue 5): nextword train --model window|rnn|lstm|gru --------
def _duration(ctx, param, value):
    """'90', '90s', '30m', '1.5h' -> seconds."""
    from nextword.neural.train import parse_duration

    if value is None:
        return None
    try:
        return parse_duration(value)
    except NextwordError as error:
        raise click.BadParameter(str(error)) from None


def neural_options(function):
    """Flags of the neural models beyond the shared NUMPY_RNN_FLAGS (--embedding-dim,
    --hidden-dim, --epochs, --lr, --bptt, --clip, --seed, which they also take); None means
    'from the preset, else the default'."""
    options = [
        click.option("--preset", default=None, help="Named configuration (see docs/neural.md); "
                     "flags override its fields."),
        click.option("--layers", "num_layers", type=int, default=None, help="Recurrent layers."),
        click.option("--window", type=int, default=None, help="Words of context of the window model."),
        click.option("--activation", type=click.Choice(["tanh", "relu"]), default=None,
                     help="Hidden activation of the window model."),
        click.option("--dropout", type=float, default=None, help="Dropout probability p."),
        click.option("--tie/--no-tie", default=None, help="Tie input embeddings and output matrix."),
        click.option("--init", type=click.Choice(["xavier", "xavier-normal", "uniform", "kaiming",
                                                  "pytorch"]), default=None, help="Weight init."),
        click.option("--optimizer", type=click.Choice(NEURAL_OPTIMIZERS), default=None,
                     help="sgd, adagrad, rmsprop, adam, adamw, nadamw (NAdam, decoupled decay)."),
        click.option("--weight-decay", type=float, default=None),
        click.option("--schedule", type=click.Choice(["plateau", "cosine"]), default=None,
                     help="Learning rate: plateau (x lr-factor when validation stalls) or cosine "
                     "(annealed to 0 over the time budget or the epochs)."),
        click.option("--batch-size", type=int, default=None, help="Parallel streams B."),
        click.option("--time-budget", callback=_duration, default=None,
                     help="Stop training after this wall-clock time, e.g. 30m (evaluation included)."),
        click.option("--softmax", type=click.Choice(["full", "sampled"]), default=None,
                     help="Training softmax (evaluation always uses the full one)."),
        click.option("--precision", type=click.Choice(["fp32", "bf16"]), default=None,
                     help="bf16: autocast matrix products (CPUs with avx512_bf16/AMX, GPUs)."),
        click.option("--device", type=click.Choice(["cpu", "cuda"]), default=None),
        click.option("--threads", type=int, default=None, help="torch.set_num_threads."),
        click.option("--resume", is_flag=True, help="Continue the interrupted run in OUTPUT."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _train_neural(model_type, corpus, valid_spec, output, min_count, max_vocab, tokenizer, stream,
                  flags):
    """Flags -> (model config, train config) -> nextword.neural.train."""
    from nextword.neural.checkpoint import config_from_dict
    from nextword.neural.presets import preset_fields
    from nextword.neural.train import TrainConfig, train as train_neural
    from nextword.text.vocabulary import Vocabulary

    resume = flags.pop("resume")
    given = {k: v for k, v in flags.items() if v is not None and k != "preset"}
    model_fields, train_fields = preset_fields(model_type, flags["preset"], given)
    if not valid_spec:
        raise NextwordError("neural models need a validation corpus: pass --valid (e.g. ptb:valid)")
    if (flags["preset"] or "").endswith("-budget") and "time_budget" not in given \
            and "epochs" not in given:
        # their 1000 epochs mean "until the budget"; cosine would anneal over all of them
        raise NextwordError(f"preset {flags['preset']} trains until a time budget: pass "
                            f"--time-budget (e.g. 30m) or --epochs N")
    train_config = TrainConfig(**train_fields)
    sentences = read_training(corpus, tokenizer, stream)
    vocab = Vocabulary.build(sentences, min_count=min_count, max_size=max_vocab)
    model_config = config_from_dict(model_type, {"vocab_size": len(vocab), **model_fields})
    result = train_neural(model_config, train_config, vocab, sentences,
                          list(open_corpus(valid_spec, tokenizer)), output, resume=resume,
                          progress=lambda desc, total: progress(total, desc))
    click.echo(f"{result.status}: {model_type} after {result.position.step:,} steps "
               f"({result.position.tokens:,} tokens, {result.position.elapsed:.0f} s, "
               f"{result.tokens_per_second:,.0f} training tokens/s); best {valid_spec} perplexity "
               f"{result.best_valid_perplexity:.2f}", err=True)
    click.echo(f"saved to {output} (best model on validation; log {output}/train_log.jsonl)", err=True)


# ---- train ----------------------------------------------------------------------------------
@cli.command()
@click.option("--model", "model_type", default="ngram", show_default=True,
              type=click.Choice(["ngram", "numpy-rnn", *NEURAL_MODELS]),
              help="Which kind of model to train.")
@click.option("--corpus", default="default", show_default=True, help="Training corpus.")
@click.option("--valid", "valid_spec", default=None, help="Held-out corpus to report perplexity on.")
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True,
              help="Directory the model is saved in.")
@click.option("--order", "-n", default=3, show_default=True, type=int, help="n of the n-gram model.")
@click.option("--smoothing", default="modified-kneser-ney", show_default=True,
              type=click.Choice(SMOOTHINGS), help="N-gram estimator.")
@click.option("--delta", default=0.25, show_default=True, type=float, help="δ of add-δ smoothing.")
@click.option("--min-count", default=1, show_default=True, type=int,
              help="Words seen fewer times become <unk>.")
@click.option("--max-vocab", default=None, type=int, help="Keep at most this many vocabulary entries.")
@click.option("--tokenizer", default=None, type=click.Choice(["whitespace", "word", "word-lower"]),
              help="How to split lines of a plain file (default: whitespace).")
@click.option("--stream", is_flag=True, help="Treat each file as one stream, not one sentence per line.")
# ---- n-gram engine options (issue 3) ----
@click.option("--prune", "prune_spec", default=None, metavar="'T1 T2 ...'",
              help="Count cut-offs per order, KenLM style: '0 0 1' drops 3-grams (and longer) "
                   "seen once. The first must be 0; they must not decrease.")
@click.option("--prune-to", "prune_to", default=None, type=int, metavar="SIZE",
              help="Relative-entropy (Stolcke) pruning until at most SIZE n-grams remain.")
@click.option("--discount-fallback", is_flag=True,
              help="Kneser-Ney: use discounts 0.5, 1, 1.5 where the count-of-counts cannot give them.")
@click.option("--discount", default=None, type=float, help="Fixed D of absolute discounting.")
@click.option("--alpha", default=0.4, show_default=True, type=float,
              help="Backoff factor of stupid backoff.")
@click.option("--chunk-tokens", default=None, type=int, metavar="N",
              help="Count the corpus N tokens at a time and merge (bounded memory for the text).")
# ---- end of n-gram engine options ----
@numpy_rnn_options
@neural_options
def train(model_type, corpus, valid_spec, output, order, smoothing, delta, min_count, max_vocab,
          tokenizer, stream, prune_spec, prune_to, discount_fallback, discount, alpha,
          chunk_tokens, **neural):
    """Train a model on CORPUS and save it in OUTPUT."""
    _reject_flags_that_do_not_apply(model_type, smoothing)
    if model_type == "numpy-rnn":
        return _train_numpy_rnn(corpus, valid_spec, output, min_count, max_vocab, tokenizer,
                                stream, neural)
    if model_type in NEURAL_MODELS:
        return _train_neural(model_type, corpus, valid_spec, output, min_count, max_vocab,
                             tokenizer, stream, neural)
    from nextword.ngram.estimators import make_estimator
    from nextword.ngram.model import NgramModel, check_order

    check_order(order)
    estimator = make_estimator(smoothing, delta=delta, discount_fallback=discount_fallback,
                               discount=discount, alpha=alpha)
    prune = _parse_prune(prune_spec)
    started = time.perf_counter()
    # Two passes over the text (vocabulary, then counts), never a list of it: the PTB 5-gram
    # build then peaks well under 300 MB. One chunk unless --chunk-tokens asks for smaller ones.
    if chunk_tokens is not None and chunk_tokens < 1:
        raise NextwordError(f"--chunk-tokens must be >= 1, got {chunk_tokens}")
    with progress(desc="reading (vocabulary, then counts)", unit="sent") as bar:
        lm = NgramModel.fit_stream(Counted(open_corpus(corpus, tokenizer, stream), bar), order=order,
                                   estimator=estimator, min_count=min_count, max_vocab=max_vocab,
                                   prune=prune, chunk_tokens=chunk_tokens or DEFAULT_CHUNK_TOKENS)
    if prune_to is not None:
        from nextword.ngram.entropy_pruning import entropy_prune

        lm = entropy_prune(lm, prune_to)
    for note in lm.estimator.get("notes", []):
        click.echo(f"nextword: note: {note}", err=True)
    lm.save(output)
    elapsed = time.perf_counter() - started
    sizes = ", ".join(f"{k}-grams {v:,}" for k, v in lm.describe()["ngrams"].items())
    click.echo(f"trained {order}-gram {estimator.name} model on {corpus} in {elapsed:.2f} s: "
               f"vocabulary {len(lm.vocab):,}; {sizes}", err=True)
    click.echo(f"saved to {output}", err=True)
    if valid_spec:
        report(evaluate(lm, valid_spec, tokenizer), valid_spec, as_json=False)


NGRAM_FLAGS = ("order", "smoothing", "delta", "prune_spec", "prune_to", "discount_fallback",
               "discount", "alpha", "chunk_tokens")
SMOOTHING_FLAGS = {"delta": ("add-delta",), "discount": ("absolute",), "alpha": ("stupid-backoff",),
                   "discount_fallback": ("kneser-ney", "modified-kneser-ney")}
WINDOW_FLAGS = ("window", "activation")
# options every model type takes
TRAIN_COMMON = ("model_type", "corpus", "valid_spec", "output", "min_count", "max_vocab",
                "tokenizer", "stream")


def _reject_flags_that_do_not_apply(model_type: str, smoothing: str) -> None:
    """A flag typed on the command line that the chosen model would ignore is an error, not a
    silent no-op: `--delta 0.5` with Kneser-Ney, `--lr` with an n-gram model, and so on."""
    context = click.get_current_context()
    flags = {p.name: p.opts[0] for p in context.command.params}
    given = [name for name in flags
             if context.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE]
    for name in given:
        if model_type == "ngram":
            if name not in (*NGRAM_FLAGS, *TRAIN_COMMON):
                owners = "neural and numpy-rnn models" if name in NUMPY_RNN_FLAGS else "neural models"
                raise NextwordError(f"{flags[name]} is an option of the {owners}, not of the "
                                    f"n-gram model")
            if smoothing not in SMOOTHING_FLAGS.get(name, (smoothing,)):
                raise NextwordError(f"{flags[name]} applies to --smoothing "
                                    f"{' or '.join(SMOOTHING_FLAGS[name])}, not {smoothing}")
        elif name in NGRAM_FLAGS:
            raise NextwordError(f"{flags[name]} is an option of the n-gram model, not of {model_type}")
        elif name in WINDOW_FLAGS and model_type not in ("window", "numpy-rnn"):
            raise NextwordError(f"{flags[name]} is an option of the window model, not of {model_type}")
        elif name == "num_layers" and model_type == "window":
            raise NextwordError(f"{flags[name]} is an option of the recurrent models, not of window")
        elif model_type == "numpy-rnn" and name not in (*NUMPY_RNN_FLAGS, *TRAIN_COMMON):
            raise NextwordError(f"{flags[name]} is an option of the neural models, not of numpy-rnn")


# ---- train --model numpy-rnn (issue 4) --------------------------------------------------------
def _train_numpy_rnn(corpus, valid_spec, output, min_count, max_vocab, tokenizer, stream, flags):
    from nextword.reference.train import TrainConfig, train_numpy_rnn

    options = {name: flags[name] for name in NUMPY_RNN_FLAGS if flags.get(name) is not None}
    for name in ("bptt", "clip"):
        if options.get(name) == 0:
            options[name] = None                                # 0 on the command line: off
    config = TrainConfig(min_count=min_count, max_vocab=max_vocab, **options)
    sentences = read_training(corpus, tokenizer, stream)
    started = time.perf_counter()
    steps = sum(len(sentence) + 1 for sentence in sentences)
    with progress(total=steps * config.epochs, desc="training numpy-rnn") as bar:
        lm = train_numpy_rnn(sentences, config, progress=bar)
    lm.save(output)
    elapsed = time.perf_counter() - started
    click.echo(f"trained numpy-rnn (H {config.hidden_dim}, d {config.embedding_dim}, "
               f"bptt {config.bptt or 'full'}) on {corpus} in {elapsed:.2f} s: vocabulary "
               f"{len(lm.vocab):,}; {lm.describe()['parameters']:,} parameters", err=True)
    for entry in lm.training["history"]:
        click.echo(f"  epoch {entry['epoch']}: train cross-entropy "
                   f"{entry['train_cross_entropy']:.4f} nats/token", err=True)
    click.echo(f"saved to {output}", err=True)
    if valid_spec:
        report(evaluate(lm, valid_spec, tokenizer), valid_spec, as_json=False)


DEFAULT_CHUNK_TOKENS = 1 << 26      # 67M tokens: a corpus the size of PTB or WikiText-103 is one chunk


def _parse_prune(spec):
    """'0 0 1' or '0,0,1' -> (0, 0, 1); checked against the order by the estimator."""
    if spec is None:
        return None
    try:
        return tuple(int(part) for part in spec.replace(",", " ").split())
    except ValueError:
        raise NextwordError(f"--prune takes whole numbers, one per order, got {spec!r}") from None


# ---- export (issue 3) ------------------------------------------------------------------------
@cli.command()
@click.argument("model_path", type=click.Path(path_type=Path))
@click.option("--arpa", "arpa_path", type=click.Path(path_type=Path), required=True,
              help="ARPA file to write (log10 probabilities, readable by KenLM and SRILM).")
def export(model_path, arpa_path):
    """Write a saved n-gram model as an ARPA file."""
    from nextword.model import load_model
    from nextword.ngram.arpa import write_arpa
    from nextword.ngram.model import NgramModel

    lm = load_model(model_path)
    if not isinstance(lm, NgramModel):
        raise NextwordError(f"{model_path}: only n-gram models can be written as ARPA files")
    sizes = write_arpa(lm, arpa_path)
    click.echo(f"wrote {arpa_path}: " + ", ".join(f"{k}-grams {v:,}" for k, v in sizes.items()),
               err=True)


# ---- eval -----------------------------------------------------------------------------------
@cli.command("eval")
@click.argument("model_path", type=click.Path(path_type=Path))
@click.option("--corpus", default="default:test", show_default=True, help="Corpus to score.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.option("--tokenizer", default=None, type=click.Choice(["whitespace", "word", "word-lower"]))
@click.option("--unnormalised", is_flag=True,
              help="Report a 'perplexity' even for a model that gives scores, not probabilities.")
@click.option("--per-sentence", is_flag=True,
              help="Neural models: reset the hidden state at each line (default: one stream).")
def eval_command(model_path, corpus, as_json, tokenizer, unnormalised, per_sentence):
    """Perplexity of a saved model (directory or ARPA file) on CORPUS."""
    from nextword.model import load_model

    lm = load_model(model_path)
    if per_sentence and hasattr(lm, "per_sentence"):   # n-gram models are per sentence anyway
        lm.per_sentence = True
    report(evaluate(lm, corpus, tokenizer, unnormalised), corpus, as_json)


# ---- generate -------------------------------------------------------------------------------
@cli.command()
@click.argument("model_path", type=click.Path(path_type=Path))
@click.option("--count", "-k", default=5, show_default=True, type=int, help="Sentences to sample.")
@click.option("--seed", default=None, type=int, help="Random seed (same seed, same sentences).")
@click.option("--temperature", default=1.0, show_default=True, type=float)
@click.option("--top-k", default=None, type=int, help="Sample among the k most likely tokens.")
@click.option("--top-p", default=None, type=float, help="Nucleus sampling: smallest set reaching p.")
@click.option("--max-length", default=100, show_default=True, type=int,
              help="Stop a sentence after this many words.")
def generate(model_path, count, seed, temperature, top_k, top_p, max_length):
    """Sample COUNT sentences from a saved model, one per line."""
    from nextword.generate import SamplingConfig, generate as sample
    from nextword.model import load_model

    config = SamplingConfig(temperature, top_k, top_p, max_length)
    lm = load_model(model_path)
    for sentence in sample(lm, count, seed, config):
        click.echo(" ".join(sentence))


# ---- info -----------------------------------------------------------------------------------
@cli.command()
@click.argument("model_path", type=click.Path(path_type=Path))
def info(model_path):
    """What a saved model is: type, order or size, vocabulary."""
    from nextword.model import load_model

    click.echo(json.dumps(load_model(model_path).describe(), indent=2, sort_keys=True))


# ---- demo -----------------------------------------------------------------------------------
@cli.command()
@click.option("--output", "-o", type=click.Path(path_type=Path), default=Path("runs/demo"),
              show_default=True, help="Where the demo model is saved.")
@click.option("--seed", default=0, show_default=True, type=int)
def demo(output, seed):
    """The main job on the embedded corpus: train, measure held-out perplexity, sample."""
    from nextword.evaluate import evaluate
    from nextword.generate import SamplingConfig, generate as sample
    from nextword.ngram.estimators import make_estimator
    from nextword.ngram.model import NgramModel

    train_spec, test_spec = "default:train", "default:test"
    sentences = list(open_corpus(train_spec))
    tokens = sum(len(sentence) + 1 for sentence in sentences)
    click.echo(f"corpus: Python's built-in documentation, {len(sentences):,} training sentences "
               f"({tokens:,} tokens); perplexity on {test_spec}")
    # the lecture's arc: add-δ gets worse as n grows, Kneser–Ney keeps improving
    for smoothing, order in [("add-delta", 1), ("add-delta", 2), ("add-delta", 3),
                             ("modified-kneser-ney", 2), ("modified-kneser-ney", 3),
                             ("modified-kneser-ney", 4)]:
        lm = NgramModel.fit(sentences, order=order, estimator=make_estimator(smoothing))
        result = evaluate(lm, open_corpus(test_spec))
        click.echo(f"  {order}-gram {smoothing:<20} perplexity {result.perplexity:8.2f} "
                   f"({result.tokens:,} tokens, {result.oov} OOV)")
    lm.save(output)
    click.echo(f"saved the last model to {output}; samples (seed {seed}, temperature 0.8):")
    for sentence in sample(lm, 5, seed, SamplingConfig(temperature=0.8, max_length=30)):
        click.echo("  " + " ".join(sentence))
    click.echo(f"next: nextword eval {output} --corpus default:valid; nextword generate {output}")


# ---- explain (issue 4) -----------------------------------------------------------------------
@cli.group()
def explain():
    """Show the maths behind a model, computed on the spot."""


@explain.command("bptt")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path), default=None,
              help="Also draw the table as a PNG plot in this file.")
@click.option("--steps", default=20, show_default=True, type=int, help="Sequence length T.")
@click.option("--hidden-dim", default=16, show_default=True, type=int, help="Hidden size H.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of weights and tokens.")
def explain_bptt_command(as_json, plot_path, steps, hidden_dim, seed):
    """Backpropagation through time, step by step, on a small random RNN.

    ∂J(t)/∂W_h is a sum over the steps i = 1..t at which W_h was used. For the loss at the last
    step t = T, each row is the term ∂J(t)/∂W_h |_(i); the checks (finite differences, sum,
    truncation) are run now.
    """
    from nextword.reference.explain import ExplainConfig, explain_bptt, plot_bptt

    report = explain_bptt(ExplainConfig(steps=steps, hidden_dim=hidden_dim, seed=seed))
    if plot_path is not None:
        plot_bptt(report, plot_path)
    if as_json:
        click.echo(json.dumps({**report.as_dict(), "plot": str(plot_path) if plot_path else None},
                              sort_keys=True))
        return
    c = report.config
    click.echo(f"random Elman RNN: H {c.hidden_dim}, d {c.embedding_dim}, |V| {c.vocab_size}, "
               f"T {c.steps}, seed {c.seed}; loss J(t) at t = {report.t}, "
               f"‖∂J(t)/∂W_h‖ = {report.full_norm:.4e}")
    click.echo(f"{'i':>4} {'t-i':>4} {'‖∂J(t)/∂W_h|(i)‖':>18} {'share':>10} "
               f"{'error if k = t-i+1':>19}")
    for row in report.rows:
        click.echo(f"{row.i:>4} {row.distance:>4} {row.norm:>18.4e} {row.ratio:>10.3e} "
                   f"{row.truncation_error:>19.3e}")
    click.echo("share = ‖term‖ / ‖∂J(t)/∂W_h‖; the i = 1 term is 0 because h(0) = 0")
    click.echo(f"gradient check (vs central differences, largest relative error): "
               f"{report.gradient_check_max:.2e}")
    click.echo(f"sum check ((1/T) Σ_t Σ_i terms vs backward): {report.sum_check:.2e}")
    click.echo(f"truncation check (backward(k) vs last-k sums, all k): {report.truncation_check:.2e}")
    if plot_path is not None:
        click.echo(f"plot written to {plot_path}")


def main(argv=None) -> int:
    """Entry point: one-line errors, no tracebacks for user mistakes."""
    try:
        cli.main(args=argv, prog_name="nextword", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as error:   # bare group: show help, exit 0
        click.echo(error.ctx.get_help())
    except click.ClickException as error:
        click.echo(f"nextword: error: {error.format_message()}", err=True)
        return error.exit_code if error.exit_code else 2
    except click.exceptions.Abort:
        click.echo("nextword: interrupted", err=True)
        return 130
    except NextwordError as error:
        click.echo(f"nextword: error: {error}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("nextword: interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
