"""Small helpers shared by the result classes.

Kept private: the public surface is the classes of the real module.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, NoReturn, TypeVar

__all__ = [
    "EPOCH",
    "NoInit",
    "Timeval",
    "fmt_ms",
    "to_datetime",
    "us_to_timedelta",
]

#: (seconds, microseconds), as stored in warts.
Timeval = tuple[int, int]

EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)

T = TypeVar("T", bound="NoInit")


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
