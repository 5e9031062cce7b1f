import os
import stat

import pytest

from nextword.fileio import atomic_path, write_text_atomic


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.txt"
    write_text_atomic(target, "first\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half-written")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "first\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]      # no temp file left behind


def test_a_lost_connection_is_not_blamed_on_the_file(tmp_path):
    """An OSError of the disk names the file; a socket's (the data's source went away, as
    Spark's JVM does when it runs out of heap) passes through for its caller to explain."""
    from nextword.errors import NextwordError

    target = tmp_path / "out.txt"
    with pytest.raises(NextwordError, match="out.txt: cannot write"):
        with atomic_path(target):
            raise OSError(28, "No space left on device")
    with pytest.raises(ConnectionRefusedError):
        with atomic_path(target):
            raise ConnectionRefusedError(111, "Connection refused")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_gives_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "f.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o644
