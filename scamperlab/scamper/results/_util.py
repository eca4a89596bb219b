"""Small helpers shared by the result classes.

Kept private: the public surface is the classes of the real module.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from enum import IntEnum
from typing import Any, NoReturn, TypeVar

from scamperlab.wire.warts.reader import Timeval

__all__ = [
    "EPOCH",
    "NoInit",
    "enum_or_int",
    "fmt_ms",
    "index_or_none",
    "json_str",
    "name_of",
    "to_datetime",
    "tv_us",
    "us_to_timedelta",
]

EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)

T = TypeVar("T", bound="NoInit")
T2 = TypeVar("T2")


class NoInit:
    """Base for classes only the module may create.

    The real module refuses ``ScamperPing()`` and friends with this exact
    message; objects are built with :meth:`_new`, which skips ``__init__``.
    """

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("This class cannot be instantiated directly.")

    @classmethod
    def _new(cls: type[T]) -> T:
        return cls.__new__(cls)

    def __reduce__(self) -> NoReturn:
        # Results are views on C data in the real module and cannot be
        # pickled; keep the same contract so scripts behave identically.
        raise TypeError(f"cannot pickle '{type(self).__name__}' object")


def to_datetime(tv: tuple[int, int] | None) -> _dt.datetime | None:
    """A warts (sec, usec) pair as an aware UTC datetime; None if absent."""
    if tv is None:
        return None
    return EPOCH + _dt.timedelta(seconds=tv[0], microseconds=tv[1])


def us_to_timedelta(us: int) -> _dt.timedelta:
    return _dt.timedelta(microseconds=us)


def fmt_ms(us: int) -> str:
    """Microseconds as scamper prints RTTs: milliseconds with 3 decimals."""
    return f"{us // 1000}.{us % 1000:03d}"


E = TypeVar("E", bound=IntEnum)


def enum_or_int(cls: type[E], v: int) -> E | int:
    """A stored code as the module's enum, or the raw int when the enum has
    no such member (newer scamper releases add codes)."""
    try:
        return cls(v)
    except ValueError:
        return v


def name_of(names: tuple[str, ...], v: int) -> str:
    """scamper's word for a code; unknown codes render as their number."""
    return names[v] if 0 <= v < len(names) else str(v)


def json_str(s: str) -> str:
    """Escape a string the way scamper's json_esc does (quotes, backslash,
    control characters)."""
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def tv_us(tv: Timeval | None) -> int:
    """A timeval as microseconds (0 when absent)."""
    return 0 if tv is None else tv[0] * 1_000_000 + tv[1]


def index_or_none(seq: Sequence[T2], i: object) -> T2 | None:
    """``seq[i]`` for a non-negative in-range int, else None: the module's
    accessors return None rather than raising for a bad index."""
    if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(seq):
        return None
    return seq[i]
