"""Progress where stderr is not a terminal: a plain line every few seconds."""
import io

from nextword.commands.common import LogProgress


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_log_progress_writes_a_line_every_interval():
    out, clock = io.StringIO(), Clock()
    bar = LogProgress(total=1000, desc="epoch 1", unit="tok", every=5.0, stream=out)
    bar.clock, bar.start, bar.last = clock, clock.now, clock.now
    bar.update(100)                                   # 0 s: nothing yet
    clock.now += 4.9
    bar.update(100)                                   # 4.9 s: still nothing
    assert out.getvalue() == ""
    clock.now += 0.1
    bar.set_postfix(loss="5.000")
    bar.update(300)                                   # 5 s: 500 tokens, 100 tok/s
    assert out.getvalue() == "nextword: epoch 1: 500/1,000 (50%) tok, 5 s, 100 tok/s; loss 5.000\n"
    clock.now += 1.0
    bar.update(100)                                   # 1 s after the last line: nothing
    assert out.getvalue().count("\n") == 1
    bar.close()                                       # a logged run logs its end
    assert out.getvalue().splitlines()[-1].startswith("nextword: epoch 1: 600/1,000 (60%) tok, 6 s")
    bar.close()                                       # once: `with` closes what was closed
    assert out.getvalue().count("\n") == 2


def test_a_short_run_writes_nothing():
    out = io.StringIO()
    with LogProgress(total=10, desc="scoring", stream=out, every=60.0) as bar:
        bar.update(10)
    assert out.getvalue() == ""


def test_a_counted_corpus_moves_the_bar_by_lines_of_its_blocks(tmp_path, monkeypatch):
    """Reading a file's bytes (Corpus.blocks) moves the training bar by the sentences read, as
    reading its token lists does; the last line may lack its newline."""
    from nextword import fileio
    from nextword.commands.common import Counted
    from nextword.text.corpora import load_corpus

    monkeypatch.setattr(fileio, "READ_BLOCK", 8)
    path = tmp_path / "c.txt"
    path.write_text("a b\n\nc d e\nf")
    for read in (lambda c: list(c.blocks()), list):
        bar = LogProgress(stream=io.StringIO())
        read(Counted(load_corpus(str(path)), bar))
        assert bar.n == 4
    assert Counted(load_corpus(str(path), stream=True), bar).blocks is None
