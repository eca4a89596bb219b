"""Formatting and validation helpers shared by the command builders.

CAIDA's module does very little type or range checking: it mostly runs
``str()`` on whatever it is given and lets scamper reject the command
later.  Its few checks surface as ordinary Python exceptions raised by
the operation it happens to perform (``timedelta(seconds="x")``,
``binascii.hexlify("x")``, ``"abc" < 1``).  The helpers below therefore
perform the *same* operations rather than validating up front, so that
scripts see identical exception types and messages.
"""

from __future__ import annotations

import binascii
import datetime
import importlib
from collections.abc import Iterator
from typing import Any

__all__ = [
    "CommandLine",
    "check_ports",
    "hexlify",
    "is_scamper_addr",
    "iterate",
    "lower_method",
    "quote",
    "seconds_arg",
    "to_timedelta",
    "whole_ms",
    "whole_s",
]


class CommandLine:
    """A scamper command under construction.

    Items are joined with single spaces and never filtered, because the
    module sends empty values as-is (``ping -B  127.0.0.1`` for an empty
    payload): a scamper emulator must receive the same text.
    """

    def __init__(self, *words: str) -> None:
        self._items: list[str] = list(words)

    def add(self, *items: str) -> None:
        """Append items (an option and, usually, its value)."""
        self._items.extend(items)

    def render(self) -> str:
        """Return the command line without a trailing newline."""
        return " ".join(self._items)


def to_timedelta(value: Any) -> datetime.timedelta:
    """Accept a timedelta or a number of seconds, like the module does.

    Going through ``timedelta(seconds=...)`` (rather than ``float()``)
    matters: it rounds to microseconds and raises the module's exact
    ``TypeError`` text for strings.
    """
    if isinstance(value, datetime.timedelta):
        return value
    return datetime.timedelta(seconds=value)


def seconds_arg(value: Any) -> str:
    """Format a duration as scamper's ``<float seconds>s`` (``2.0s``)."""
    return f"{to_timedelta(value).total_seconds()}s"


def whole_ms(value: datetime.timedelta) -> int:
    """Milliseconds as midarest computes them (the ``days`` field is ignored)."""
    return value.seconds * 1000 + int(value.microseconds / 1000)


def whole_s(value: datetime.timedelta) -> int:
    """Whole seconds as midarest/midardisc/sniff compute them (``days`` ignored)."""
    return value.seconds


def hexlify(payload: Any) -> str:
    """Hex-encode a bytes-like payload; ``str`` raises the module's TypeError."""
    return binascii.hexlify(payload).decode("ascii")


def quote(text: Any) -> str:
    """Single-quote a URL for http/tbit, escaping embedded single quotes."""
    return "'" + str(text).replace("'", "\\'") + "'"


def lower_method(method: Any) -> Any:
    """Lower-case a method name for the module's own checks.

    Like the module, this calls ``.lower()`` on any non-None value, so a
    non-string method raises ``AttributeError`` even when no check needs it.
    """
    if method is None:
        return None
    return method.lower()


def check_ports(sport: Any, dport: Any, method: Any, lowered: Any) -> None:
    """Reject ports without a TCP/UDP method (trace, tracelb, ping, dealias)."""
    if sport is None and dport is None:
        return
    if lowered is None:
        raise ValueError("specify method when specifying the source or destination port")
    if not (lowered.startswith("tcp") or lowered.startswith("udp")):
        raise ValueError("cannot specify source or destination ports with " + method)


def _addr_class() -> type | None:
    try:
        module = importlib.import_module("scamperlab.scamper.addr")
    except ImportError:
        return None
    cls = getattr(module, "ScamperAddr", None)
    return cls if isinstance(cls, type) else None


def is_scamper_addr(value: object) -> bool:
    """Whether ``value`` is a ScamperAddr.

    The real class lives in ``scamperlab.scamper.addr`` (written
    separately and possibly absent); until it exists, any class named
    ``ScamperAddr`` is accepted so tests can use a stand-in.
    """
    cls = _addr_class()
    if cls is not None and isinstance(value, cls):
        return True
    return type(value).__name__ == "ScamperAddr"


def iterate(value: Any) -> Iterator[Any]:
    """Iterate like the module's ``for x in value`` loops.

    The compiled module names its own classes ``scamper.<Name>`` in the
    "not iterable" error; ours live elsewhere, so the name is rewritten.
    """
    try:
        return iter(value)
    except TypeError:
        cls = type(value)
        module = cls.__module__
        if module == "scamper" or module.startswith(("scamper.", "scamperlab.scamper")):
            raise TypeError(f"'scamper.{cls.__name__}' object is not iterable") from None
        raise
