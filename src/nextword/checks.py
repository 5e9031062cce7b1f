"""Range and finiteness checks of numbers a user gives, with the flag's own name in the message.

The library's configs call these with the command-line spelling of the value (``--lr``), so a
bad value is refused with the same words whether it came from the CLI or from Python, before
any work starts. ``inf`` and ``nan`` are never a valid setting: compared with ``<`` they slip
through (``inf > 0``), so finiteness is checked first, always.
"""
from __future__ import annotations

import math

from nextword.errors import NextwordError

MAX_SEED = 2**63 - 1        # the widest range NumPy and torch both accept


def check_number(flag: str, value, low=None, high=None, *, low_open: bool = False,
                 high_open: bool = False, whole: bool = False, allow_none: bool = False):
    """Return `value` if it is a finite number in [low, high] (open ends where asked, whole
    numbers where `whole`); else a one-line NextwordError naming `flag`."""
    if value is None and allow_none:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise NextwordError(f"{flag} must be a number, got {value!r}")
    if whole and not (isinstance(value, int) or float(value).is_integer()):
        raise NextwordError(f"{flag} must be a whole number, got {value}")
    if not math.isfinite(value):
        raise NextwordError(f"{flag} must be a finite number, got {value}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise NextwordError(f"{flag} must be {describe_range(low, high, low_open, high_open)}, "
                            f"got {value}")
    return value


def describe_range(low, high, low_open=False, high_open=False) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return "a number"


def check_seed(value, flag: str = "--seed", allow_none: bool = True):
    return check_number(flag, value, 0, MAX_SEED, whole=True, allow_none=allow_none)
