"""`nextword query DIR "students opened their"`: counts, continuations and the longest
matching suffix from a suffix-array index; with --corpus, the ∞-gram over a whole corpus."""
from __future__ import annotations

import json
from pathlib import Path

import click

from nextword.errors import NextwordError


@click.command("query")
@click.argument("index_path", type=click.Path(path_type=Path))
@click.argument("texts", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per query on stdout.")
@click.option("--top", default=10, show_default=True, type=int,
              help="Continuations shown (0 = all; --json lists them all).")
@click.option("--corpus", default=None,
              help="Instead of TEXTS: the ∞-gram's next-token accuracy over this corpus, the "
                   "share of tokens it answers and of suffixes longer than 4 tokens.")
def query_command(index_path, texts, as_json, top, corpus):
    """Count each of TEXTS (whitespace-separated words; <s> = a sentence start) in the
    indexed corpus, list what followed it, and find its longest suffix that occurs."""
    from nextword.infinigram.index import SuffixArrayIndex

    index = SuffixArrayIndex.open(index_path)
    if corpus is not None:
        if texts:
            raise NextwordError("give TEXTS or --corpus, not both")
        _corpus_report(index, corpus, as_json)
        return
    if not texts:
        raise NextwordError("nothing to query: give one or more TEXTS (or --corpus)")
    for text in texts:
        words = text.split()
        continuations = index.continuations(words)
        length, count = index.longest_suffix(words)
        result = {"query": text, "count": index.count(words),
                  "continuations": continuations, "following": sum(continuations.values()),
                  "longest_suffix": {"length": length, "count": count,
                                     "text": " ".join(words[len(words) - length:])}}
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False))
            continue
        click.echo(f"{text!r}: count {result['count']:,}; followed by {len(continuations):,} "
                   f"distinct words ({result['following']:,} times)")
        shown = list(continuations.items())[: top or None]
        for word, c in shown:
            click.echo(f"  {c:>10,}  {word}")
        if len(shown) < len(continuations):
            click.echo(f"  ... {len(continuations) - len(shown):,} more")
        if length < len(words):
            click.echo(f"  longest suffix that occurs: {result['longest_suffix']['text']!r} "
                       f"({length} words, count {count:,})")


def _corpus_report(index, spec, as_json):
    from nextword.commands.common import open_corpus, progress
    from nextword.infinigram.model import infinigram_report

    with progress(desc=f"∞-gram over {spec}", unit="sent") as bar:
        def encoded():
            for sentence in open_corpus(spec):
                bar.update()
                yield index.vocab.encode(sentence)       # OOV -> <unk>, as evaluation does
        report = infinigram_report(index, encoded())
    if as_json:
        click.echo(json.dumps({"corpus": spec, **report}, sort_keys=True))
        return
    click.echo(f"{spec}: {report['tokens']:,} tokens; ∞-gram next-token accuracy "
               f"{report['accuracy']:.2%}, answers {report['answered']:.2%} of tokens "
               f"(P > 0); longest suffix > 4 tokens for {report['suffix_longer_than_4']:.2%}, "
               f"mean {report['mean_suffix_length']:.2f}")
