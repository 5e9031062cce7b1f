"""The one exception type for mistakes a user can fix (bad file, bad flag, bad model)."""


class NextwordError(Exception):
    """A user-facing error: the CLI prints its message on one line and exits non-zero."""


def where(path, line: int | None = None) -> str:
    """'file' or 'file:line', the prefix of every message about a place in a file."""
    return f"{path}:{line}" if line is not None else str(path)


class Interrupted(Exception):
    """Ctrl-C, with what the user can do next (the CLI prints it after 'interrupted'). Not a
    KeyboardInterrupt, which click would turn into a bare Abort after printing a blank line."""
