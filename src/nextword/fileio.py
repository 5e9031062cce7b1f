"""Reading text safely, and the one path every writer takes.

Reading: :func:`open_binary` recognises gzip, bzip2 and xz files by their magic bytes and
decompresses them on the fly (KenLM reads them too); :func:`read_lines` decodes UTF-8 line by
line, skips a byte-order mark (saying so once) and refuses control characters, naming file,
line and column.

Writing: every file goes through :func:`atomic_path` (a temporary sibling, renamed onto the
target only when the block succeeds) and every model folder through :func:`model_folder` (a
whole temporary sibling folder, swapped into place at the end). Both turn any ``OSError`` into a
one-line :class:`NextwordError` naming the path and the reason, and remove their temporaries on
any failure, Ctrl-C included. :func:`check_destination` looks at an output folder *before* the
work starts: a file in the way, a folder that cannot be written, another model or a training
run already there. A model folder's ``model.json`` lists every file beside it with its size and
SHA-256 (:func:`write_manifest`); :func:`verify_folder` checks them on load.
"""
from __future__ import annotations

import bz2
import contextlib
import ctypes
import errno
import gzip
import hashlib
import json
import lzma
import os
import re
import shutil
import stat
import sys
import tempfile
import zlib
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterable, Iterator

from nextword.errors import NextwordError, where

MODEL_FILE = "model.json"
RUN_FILE = "resume.pt"          # a folder holding it is a training run (`--resume` continues it)

# ---- reading ------------------------------------------------------------------------------------
# magic bytes -> (name, opener); the name is what messages say
COMPRESSIONS = (
    (b"\x1f\x8b", "gzip", gzip.open),
    (b"BZh", "bzip2", bz2.open),
    (b"\xfd7zXZ\x00", "xz", lzma.open),
)
BOM = b"\xef\xbb\xbf"
# C0 controls other than the whitespace ones (tab, LF, VT, FF, CR), and DEL: in a text corpus
# they are damage (a binary file, a bad conversion); read silently they end up inside tokens
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")
_NOT_CONTROL = bytes(b for b in range(256) if not _CONTROL.match(bytes([b])))
READ_ERRORS = (OSError, EOFError, lzma.LZMAError, zlib.error)   # truncated or damaged archives
_noted: set = set()


def note(message: str) -> None:
    """Say something the user should know, once per process, on stderr (not an error)."""
    if message not in _noted:
        _noted.add(message)
        print(f"nextword: note: {message}", file=sys.stderr)


def compression(path: str | os.PathLike) -> str | None:
    """'gzip', 'bzip2', 'xz' (by magic bytes) or None for a plain file."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(6)
    except OSError as error:
        raise NextwordError(f"{path}: cannot read ({error.strerror})") from None
    for magic, name, _ in COMPRESSIONS:
        if head.startswith(magic):
            return name
    return None


def open_binary(path: str | os.PathLike) -> BinaryIO:
    """A binary handle on the file's content, decompressed if it is gzip, bzip2 or xz."""
    path = Path(path)
    if not path.exists():
        raise NextwordError(f"{path}: no such file")
    if path.is_dir():
        raise NextwordError(f"{path}: is a directory, expected a file")
    kind = compression(path)
    try:
        if kind is None:
            return open(path, "rb")
        opener = next(o for _, name, o in COMPRESSIONS if name == kind)
        return opener(path, "rb")
    except OSError as error:
        raise NextwordError(f"{path}: cannot read ({error.strerror or error})") from None


def read_error(path, line: int | None, error: BaseException) -> NextwordError:
    """A failure while reading (truncated archive, I/O error) as one line."""
    reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return NextwordError(f"{where(path, line)}: cannot read ({reason})")


def check_text(path, number: int, raw: bytes) -> str:
    """Decode one line (bytes, newline kept or not); refuse bad UTF-8 and control characters."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NextwordError(
            f"{where(path, number)}: invalid UTF-8 at byte {error.start} of the line"
            + ("; the file looks compressed or binary" if number == 1 else "")) from None
    bad = _CONTROL.search(raw)
    if bad:
        column = len(raw[:bad.start()].decode("utf-8")) + 1
        raise NextwordError(
            f"{where(path, number)}:{column}: control character U+{raw[bad.start()]:04X} in the "
            f"text (a binary or damaged file?); only tab, newline, CR, VT and FF are allowed")
    return text


READ_BLOCK = 1 << 20        # bytes decoded and checked at once (whole lines)


def read_lines(path: str | os.PathLike) -> Iterator[str]:
    """Yield the lines of a UTF-8 text file (plain or compressed) without their newline.

    A leading byte-order mark is skipped (and said once); bad UTF-8 or a control character is an
    error naming file, line and column. Blocks of whole lines are decoded and searched at once:
    one C call per megabyte, not per line (the vocabulary of a saved model is read this way
    at every load)."""
    for _, text in _blocks(path, decode=True):
        yield from (line.rstrip("\r") for line in block_lines(text))


def block_lines(text: str) -> list:
    """The lines of a block of whole lines (the last may lack its newline), without newlines."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return lines


def line_count(block: bytes) -> int:
    """How many lines a block of whole lines holds (the last may lack its newline)."""
    return block.count(b"\n") + (not block.endswith(b"\n"))


def read_blocks(path: str | os.PathLike) -> Iterator[bytes]:
    """The bytes of a UTF-8 text file in blocks of whole lines (the last may lack its newline),
    checked as `read_lines` checks them: for readers that split the bytes themselves
    (`nextword.text.byteread`)."""
    for block, _ in _blocks(path, decode=False):
        yield block


def _blocks(path: str | os.PathLike, decode: bool) -> Iterator[tuple]:
    """(block, its text if `decode`, else None) of about READ_BLOCK bytes of whole lines."""
    path = Path(path)
    handle = open_binary(path)
    done = 0                                    # lines of the blocks already yielded
    pending = b""
    try:
        with handle:
            while True:
                chunk = handle.read(READ_BLOCK)
                data = pending + chunk
                cut = data.rfind(b"\n") + 1 if chunk else len(data)
                block, pending = data[:cut], data[cut:]
                if done == 0 and block.startswith(BOM):
                    block = block[len(BOM):]
                    note(f"{path}: skipped the UTF-8 byte-order mark at its start")
                if block:
                    yield block, _check_block(path, done, block, decode)
                    done += line_count(block)
                if not chunk:
                    return
    except READ_ERRORS as error:
        raise read_error(path, done + 1, error) from None


def refuse_control(name, before: int, block: bytes) -> None:
    """Refuse a control character in a block of whole lines that is UTF-8 already (encoded from
    strings), naming its line (counted from `before`) as `read_lines` names a file's."""
    if block.translate(None, _NOT_CONTROL):
        _check_block(name, before, block)


def _check_block(path, before: int, block: bytes, decode: bool = True) -> str | None:
    """Decode whole lines (None without `decode`: a block of ASCII is then only searched); a
    failure names the line (counted from `before`) as check_text does. Control characters are
    looked for by deleting every other byte (`bytes.translate`, 0.4 ns a byte; the regular
    expression takes 4), then placed by the expression."""
    bad = _CONTROL.search(block) if block.translate(None, _NOT_CONTROL) else None
    try:
        text = block.decode("utf-8") if decode or not block.isascii() else None
    except UnicodeDecodeError as error:
        position = error.start
    else:
        if bad is None:
            return text if decode else None
        position = bad.start()
    if bad is not None:
        position = min(position, bad.start())
    start = block.rfind(b"\n", 0, position) + 1
    end = block.find(b"\n", position)
    number = before + block.count(b"\n", 0, start) + 1
    check_text(path, number, block[start:end if end >= 0 else len(block)])
    raise AssertionError("unreachable: check_text found the fault")    # pragma: no cover


def read_json(path: str | os.PathLike, expect: type = dict):
    """A JSON file holding an object (or `expect`); anything else is a one-line error."""
    path = Path(path)
    if not path.exists():
        raise NextwordError(f"{path}: no such file")
    if path.is_dir():
        raise NextwordError(f"{path}: is a directory, expected a JSON file")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise NextwordError(f"{path}: not a valid JSON file ({str(error)[:120]})") from None
    except OSError as error:
        raise NextwordError(f"{path}: cannot read ({error.strerror})") from None
    if not isinstance(value, expect):
        raise NextwordError(f"{path}: expected a JSON {_JSON_NAMES.get(expect, expect.__name__)}, "
                            f"got a {_JSON_NAMES.get(type(value), type(value).__name__)}")
    return value


_JSON_NAMES = {dict: "object", list: "list", str: "string", int: "number", float: "number",
               bool: "boolean", type(None): "null"}


# ---- writing one file ---------------------------------------------------------------------------
def _temp_prefix(path: Path) -> str:
    """Hidden, and naming the writing process: a temporary left by a killed process is found
    (its pid is gone) and removed by the next write to the same target."""
    return f".{path.name}.{os.getpid()}."


def _remove_stale(path: Path) -> None:
    """Remove temporaries of `path` left behind by processes that no longer exist (kill -9)."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\..*\.(tmp|old)$")
    with contextlib.suppress(OSError):
        for entry in os.scandir(path.parent):
            match = pattern.match(entry.name)
            if match and not _alive(int(match.group(1))):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def cannot_write(path, error: OSError | str) -> NextwordError:
    """A failed write of `path` (an OSError, or a library's own message) as one line."""
    if isinstance(error, str) or error.errno is None:
        # NumPy ("2918 requested and 1008 written") and torch ("enforce fail ...") report a
        # short write without errno: on a full disk, say so
        if _disk_full(Path(path)):
            error = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        elif not isinstance(error, str):
            error = str(error)
    if isinstance(error, str):
        return NextwordError(f"{path}: cannot write ({error})")
    reason = error.strerror or str(error)
    hint = {errno.ENOSPC: "; free some space or choose another output on another disk",
            errno.EROFS: "; choose an output on a writable filesystem",
            errno.EACCES: "; choose an output folder you may write to",
            errno.EPERM: "; choose an output folder you may write to",
            errno.EDQUOT: "; free some space"}.get(error.errno, "")
    return NextwordError(f"{path}: cannot write ({reason}){hint}")


def _disk_full(path: Path) -> bool:
    """Less than 1 MiB free where `path` would be written."""
    for place in (path, *path.parents):
        if place.exists():
            try:
                return shutil.disk_usage(place).free < (1 << 20)
            except OSError:
                return False
    return False


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NextwordError(f"{path.parent}: exists and is a file, not a folder") from None
    except NotADirectoryError:
        raise NextwordError(f"{path}: a parent of it is a file, not a folder") from None
    except OSError as error:
        raise cannot_write(path.parent, error) from None


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    On any failure (disk full, Ctrl-C, an exception of the block) the temporary is removed and
    `path` is what it was. OSErrors become one-line NextwordErrors naming `path`."""
    path = Path(path)
    if path.is_dir():
        raise NextwordError(f"{path}: is a folder; give a file name to write")
    _make_parent(path)
    _remove_stale(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())      # mkstemp makes 0600; give what open() would give
    except OSError as error:
        raise cannot_write(path, error) from None
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        # a socket's error (a lost connection to a server, to Spark's JVM) is not the file's
        if isinstance(error, OSError) and not isinstance(error, ConnectionError):
            raise cannot_write(path, error) from None
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | os.PathLike, obj) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


# ---- what a folder holds, checked before the work starts -------------------------------------
def folder_holds(path: Path) -> str | None:
    """What a nextword folder holds, in words ('an lstm training run (resume.pt)', 'an ngram
    model'), or None for a missing or empty folder. Not a nextword folder: NextwordError."""
    if not path.exists():
        return None
    if not path.is_dir():
        raise NextwordError(f"{path}: exists and is a file, not a model folder; choose another "
                            f"output folder")
    try:
        entries = [e for e in os.listdir(path) if not e.startswith(".")]
    except OSError as error:
        raise NextwordError(f"{path}: cannot read the folder ({error.strerror})") from None
    if not entries:
        return None
    if MODEL_FILE not in entries:
        shown = ", ".join(sorted(entries)[:3]) + (", ..." if len(entries) > 3 else "")
        raise NextwordError(f"{path}: holds files that are not a nextword model ({shown}); "
                            f"choose another output folder (--force only replaces a model folder)")
    try:
        kind = read_json(path / MODEL_FILE).get("type")
    except NextwordError:
        kind = None
    what = f"{_article(kind)} {kind}" if isinstance(kind, str) else "an unreadable"
    if RUN_FILE in entries:
        return f"{what} training run ({RUN_FILE})"
    return f"{what} model"


def _article(word: str) -> str:
    """'an' before a vowel sound: an lstm, an ngram, an rnn; a gru, a numpy-rnn."""
    return "an" if word[:1].lower() in "aeiou" or word in ("ngram", "lstm", "rnn") else "a"


def check_destination(path: str | os.PathLike, kind: str, force: bool = False,
                      resume: bool = False) -> None:
    """Before any work: may a `kind` model be written to folder `path`?

    Refused (unless `force`, which replaces the folder whole): a folder holding another kind of
    model, or a training run (unless `resume`, which continues it). Always refused: a file in the
    way, a folder of other files, a place that cannot be written."""
    path = Path(path)
    holds = folder_holds(path)
    if holds is not None and not force:
        is_run = holds.endswith(f"training run ({RUN_FILE})")
        same = holds.startswith(f"{_article(kind)} {kind} ")
        if is_run and not (resume and same):
            also = "pass --resume to continue it, " if same else ""
            raise NextwordError(f"{path}: holds {holds}; {also}choose another output folder, or "
                                f"pass --force to replace it whole")
        if not is_run and not same:
            raise NextwordError(f"{path}: holds {holds}, not {_article(kind)} {kind} model; "
                                f"choose another output folder, or pass --force to replace it whole")
    probe_writable(path)


def check_file_destination(path: str | os.PathLike) -> None:
    """Before any work: may the file `path` (an ARPA file, a plot) be written?"""
    path = Path(path)
    if path.is_dir():
        raise NextwordError(f"{path}: is a folder; give a file name to write")
    probe_writable(path.parent / ".probe")


def probe_writable(path: Path) -> None:
    """Create and remove a temporary folder where `path` will be written: the honest test of
    permissions, read-only filesystems and missing parents (os.access is wrong for root)."""
    target = path if path.is_dir() else path.parent
    _make_parent(target / "x")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=_temp_prefix(path), suffix=".tmp", dir=target))
    except OSError as error:
        raise cannot_write(target, error) from None


# ---- writing a whole model folder ---------------------------------------------------------------
@contextlib.contextmanager
def model_folder(path: str | os.PathLike, kind: str, force: bool = False,
                 mapped: Iterable[str] = ()):
    """Yield an empty temporary folder beside `path`; the block writes a whole model into it
    (MODEL_FILE included). On success its manifest is added to MODEL_FILE and the folder
    replaces `path` at once; on any failure (disk full, Ctrl-C, an exception) it is removed and
    `path` is untouched. `mapped`: path prefixes of files the loader memory-maps (checked by
    size and a sample hash on load, see `verify_folder`)."""
    path = Path(path)
    check_destination(path, kind, force)
    _remove_stale(path)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent))
        os.chmod(tmp, 0o777 & ~_umask())
    except OSError as error:
        raise cannot_write(path, error) from None
    try:
        yield tmp
        write_manifest(tmp, mapped=mapped)
        _swap_into_place(tmp, path)
    except BaseException as error:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(error, OSError):
            raise cannot_write(path, error) from None
        raise


def _swap_into_place(new: Path, path: Path) -> None:
    """`new` becomes `path`. An existing `path` is exchanged with `new` in one atomic step
    (Linux renameat2 RENAME_EXCHANGE) then removed; where that call is missing, two renames
    (the old folder is parked as a hidden sibling between them, for microseconds)."""
    if not path.exists():
        os.rename(new, path)
        return
    if _exchange(new, path):
        shutil.rmtree(new, ignore_errors=True)              # `new` now holds the old folder
        return
    old = path.parent / f"{_temp_prefix(path)}{os.urandom(4).hex()}.old"
    os.rename(path, old)
    os.rename(new, path)
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    result = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


# ---- the manifest: sizes and checksums of a folder's files -------------------------------------
SAMPLE_BYTES = 1 << 12      # a memory-mapped file's sample hash: its first and last 4 KiB (a page)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sample_sha256(path: Path, size: int) -> str:
    """SHA-256 of the size, the first and the last SAMPLE_BYTES: catches truncation, a file
    swapped for another, a rewritten header, in two small reads whatever the size."""
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as handle:
        digest.update(handle.read(SAMPLE_BYTES))
        if size > SAMPLE_BYTES:
            handle.seek(max(SAMPLE_BYTES, size - SAMPLE_BYTES))
            digest.update(handle.read(SAMPLE_BYTES))
    return digest.hexdigest()


def file_record(path: Path, mapped: bool = False) -> dict:
    size = path.stat().st_size
    record = {"bytes": size, "sha256": sha256_file(path)}
    if mapped:
        record["sample_sha256"] = sample_sha256(path, size)
    return record


def write_manifest(directory: Path, names: Iterable[str] | None = None,
                   mapped: Iterable[str] = ()) -> None:
    """Record size and SHA-256 of files of `directory` (all but MODEL_FILE, or `names`) under
    "files" in its MODEL_FILE, replacing the earlier list."""
    directory = Path(directory)
    meta = read_json(directory / MODEL_FILE)
    if names is None:
        names = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*")
                       if p.is_file() and p.name != MODEL_FILE)
    mapped = tuple(mapped)
    meta["files"] = {name: file_record(directory / name, name.startswith(mapped) if mapped else False)
                     for name in names}
    write_json_atomic(directory / MODEL_FILE, meta)


def inside(directory: Path, name, what: str = "a path", _seen: set | None = None) -> Path:
    """`directory / name` for a relative name that stays inside `directory` (no '..', no
    absolute path, no link out): paths read from a model.json cannot reach other files.
    `_seen`: folders already checked (one lstat per folder and file: loads stay fast)."""
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        raise NextwordError(f"{directory / MODEL_FILE}: {what} {name!r} is not a file name")
    parts = PurePosixPath(name)
    if parts.is_absolute() or ".." in parts.parts:
        raise NextwordError(f"{directory / MODEL_FILE}: {what} {name!r} points outside the "
                            f"model folder")
    target = directory
    for part in parts.parts:                    # a link inside the folder may point out of it
        target = target / part
        if _seen is not None and target in _seen:
            continue
        if _seen is not None:
            _seen.add(target)
        if target.is_symlink():
            try:
                target.resolve().relative_to(directory.resolve())
            except ValueError:
                raise NextwordError(f"{directory / MODEL_FILE}: {what} {name!r} points outside "
                                    f"the model folder (a link)") from None
    return target


def verify_folder(directory: Path, meta: dict, full: bool = False) -> None:
    """Check the files listed in meta["files"]: each present, of its size, with its SHA-256.
    Memory-mapped files (those with a sample hash) get the sample hash unless `full`: reading a
    100 MB array at every load would cost what mapping it saves. A folder written before
    manifests existed has none and is loaded as is."""
    files = meta.get("files")
    if files is None:
        return
    if not isinstance(files, dict):
        raise NextwordError(f"{directory / MODEL_FILE}: 'files' must be an object")
    seen: set = set()
    for name, record in files.items():
        target = inside(directory, name, "file", seen)
        if not isinstance(record, dict) or not isinstance(record.get("bytes"), int) \
                or not isinstance(record.get("sha256"), str):
            raise NextwordError(f"{directory / MODEL_FILE}: malformed entry for {name!r} in 'files'")
        try:
            status = target.stat()
        except OSError:
            status = None
        if status is None or not stat.S_ISREG(status.st_mode):
            raise NextwordError(f"{target}: missing; the model folder is incomplete")
        size = status.st_size
        if size != record["bytes"]:
            raise NextwordError(f"{target}: {size:,} bytes, but {MODEL_FILE} recorded "
                                f"{record['bytes']:,}: the file is truncated or was replaced")
        sample = record.get("sample_sha256")
        if sample is not None and not full:
            ok = sample_sha256(target, size) == sample
        else:
            ok = sha256_file(target) == record["sha256"]
        if not ok:
            raise NextwordError(f"{target}: checksum does not match the one in {MODEL_FILE}: "
                                f"the file was changed or damaged since the model was saved")
