"""nextword adapt: a recurrent model with the continuous cache and/or dynamic evaluation,
settings tuned on validation text (or given), saved as a model folder of its own."""
from __future__ import annotations

import time
from pathlib import Path

import click

from nextword.commands.common import combination_force
from nextword.commands.mix import encoded
from nextword.errors import NextwordError
from nextword.text.tokenize import TOKENIZERS


def _floats(text: str | None, flag: str) -> tuple | None:
    if text is None:
        return None
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise NextwordError(f"{flag}: expected numbers separated by commas, got {text!r}") from None


@click.command("adapt")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path),
              help="Folder of the adapted model (it refers to MODEL, relative to itself).")
@combination_force
@click.option("--valid", default=None, help="Validation corpus the settings are tuned on.")
@click.option("--cache", "cache_sizes", default=None,
              help="Continuous cache of L past positions; a list (100,500,2000) is tuned on --valid.")
@click.option("--theta", default=None, help="Cache θ; a list is tuned [0.1,0.3,0.6,1.0].")
@click.option("--cache-lambda", "cache_lambda", default=None, type=float,
              help="Cache weight λ [fitted by EM on --valid].")
@click.option("--dynamic", is_flag=True, help="Dynamic evaluation (score a segment, then learn from it).")
@click.option("--lr", default=None, help="Dynamic evaluation η; a list is tuned "
              "[0.1,0.3,1,3].")
@click.option("--decay", default=None, help="Dynamic evaluation decay towards the trained weights "
              "(0: plain SGD); a list is tuned [0,0.001,0.01].")
@click.option("--segment", default=20, show_default=True, type=int,
              help="Dynamic evaluation: tokens scored before each update.")
@click.option("--tune-sentences", default=None, type=int,
              help="Tune dynamic evaluation on the first N validation lines only (faster).")
@click.option("--tokenizer", default=None, type=click.Choice(list(TOKENIZERS)),
              help="How to split lines of a plain file [default: whitespace].")
def adapt(model, output, force, valid, cache_sizes, theta, cache_lambda, dynamic, lr, decay, segment,
          tune_sentences, tokenizer):
    """MODEL (rnn, lstm or gru) read with a continuous cache (--cache) and/or dynamic evaluation
    (--dynamic); what is not given is tuned on --valid."""
    from nextword.model import import_optional, load_model

    tuning = import_optional("nextword.combine.tuning")        # torch: a one-line error if absent
    from nextword.combine.adapted import AdaptedLM
    from nextword.combine.cache import CacheConfig
    from nextword.combine.storage import check_output
    from nextword.combine.dynamic import DynamicConfig

    if cache_sizes is None and not dynamic:
        raise NextwordError("nothing to do: give --cache L and/or --dynamic")
    check_output(output, "adapted", [model], force)            # before the tuning, not after it
    base = load_model(model)
    sizes = tuple(int(s) for s in _floats(cache_sizes, "--cache")) if cache_sizes else None
    thetas = _floats(theta, "--theta")
    lrs, decays = _floats(lr, "--lr"), _floats(decay, "--decay")
    needs_tuning = (dynamic and (lrs is None or len(lrs) > 1 or decays is None or len(decays) > 1)) \
        or (sizes is not None and (len(sizes) > 1 or thetas is None or len(thetas) > 1
                                   or cache_lambda is None))
    if needs_tuning and valid is None:
        raise NextwordError("give --valid CORPUS to tune the settings not given (or give them all)")
    AdaptedLM(base)                                   # a recurrent model, or a one-line error
    sentences = encoded(base.vocab, valid, tokenizer) if valid is not None else None
    fit: dict = {"valid": valid} if valid else {}
    dynamic_config = None
    if dynamic:
        if lrs is not None and len(lrs) == 1 and decays is not None and len(decays) == 1:
            dynamic_config = DynamicConfig(lrs[0], decays[0], segment)
        else:
            tune = sentences[:tune_sentences] if tune_sentences else sentences
            click.echo(f"dynamic evaluation: tuning on {len(tune):,} lines of {valid}")
            began = time.perf_counter()
            dynamic_config, rows = tuning.tune_dynamic(
                base, tune, lrs or tuning.LEARNING_RATES, decays or tuning.DECAYS, segment,
                report=lambda r: click.echo(f"  lr {r['lr']:g} decay {r['decay']:g}: "
                                            f"perplexity {r['perplexity']:.2f}"))
            fit["dynamic"] = {"grid": rows, "seconds": round(time.perf_counter() - began, 1),
                              "lines": len(tune)}
        click.echo(f"dynamic evaluation: lr {dynamic_config.lr:g}, decay {dynamic_config.decay:g}, "
                   f"segment {dynamic_config.segment}")
    cache_config = None
    if sizes is not None:
        if len(sizes) == 1 and thetas is not None and len(thetas) == 1 and cache_lambda is not None:
            cache_config = CacheConfig(sizes[0], thetas[0], cache_lambda)
        else:
            click.echo(f"cache: tuning L, θ, λ on {valid}")
            began = time.perf_counter()
            cache_config, rows = tuning.tune_cache(
                AdaptedLM(base, dynamic=dynamic_config), sentences, sizes, thetas or tuning.THETAS,
                report=lambda r: click.echo(f"  L {r['size']:5d} θ {r['theta']:.2f}: λ {r['lam']:.4f} "
                                            f"perplexity {r['perplexity']:.2f}"))
            if cache_lambda is not None:
                cache_config = CacheConfig(cache_config.size, cache_config.theta, cache_lambda)
            fit["cache"] = {"grid": rows, "seconds": round(time.perf_counter() - began, 1)}
        click.echo(f"cache: L {cache_config.size}, θ {cache_config.theta:g}, λ {cache_config.lam:.4f}")
    adapted = AdaptedLM(base, cache_config, dynamic_config, base_path=model, fit=fit)
    adapted.save(output, force)
    click.echo(f"saved to {output}; next: nextword eval {output} --corpus CORPUS", err=True)
