"""Which commands the lab can perform itself, and for which missing features.

One :class:`Prober` per scamper command word. A prober parses a command
line (refusing what it cannot do, with scamper's reasons) and runs it from
a VP, returning the warts record type and data of its result. Adding a
prober (UDP probes) is one module like :mod:`.dns` or :mod:`.http` and one
entry in :data:`PROBERS`, naming the features of
:mod:`scamperlab.wire.releases` it covers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from scamperlab.mux.standin.dns import host_for, run_host
from scamperlab.mux.standin.http import http_for, run_http
from scamperlab.mux.standin.udpprobe import run_udpprobe, udpprobe_for
from scamperlab.mux.standin.vp import StandinVp
from scamperlab.wire.releases import DURATIONS, FEATURES, Feature
from scamperlab.wire.warts.records import T_HOST, T_HTTP, T_UDPPROBE

__all__ = ["PROBERS", "Prober", "offered", "prober_for"]


@dataclass(frozen=True)
class Prober:
    word: str
    what: str  # what status and events call it
    features: frozenset[str]  # names in wire.releases.FEATURES this prober provides
    rtype: int  # warts record type of its results
    parse: Callable[[str, StandinVp], Any]
    run: Callable[[Any, StandinVp], Awaitable[Any]]


def _host_features() -> frozenset[str]:
    not_done = {"host -O mqtypes="}  # its record layout is newer than any golden record
    return frozenset(
        f.name for f in FEATURES if f.name.startswith("host ") and f.name not in not_done
    ) | {DURATIONS}


def _udpprobe_features() -> frozenset[str]:
    return frozenset(f.name for f in FEATURES if f.name.startswith("udpprobe")) | {DURATIONS}


PROBERS: dict[str, Prober] = {
    "host": Prober("host", "DNS", _host_features(), T_HOST, host_for, run_host),
    # HTTP and HTTPS; not ECH (-O grease, -O ecl=: Python's ssl has no ECH)
    "http": Prober(
        "http", "HTTP and HTTPS", frozenset({"http", DURATIONS}), T_HTTP, http_for, run_http
    ),
    "udpprobe": Prober(
        "udpprobe", "UDP probe", _udpprobe_features(), T_UDPPROBE, udpprobe_for, run_udpprobe
    ),
}


def prober_for(word: str, missing: Sequence[Feature]) -> Prober | None:
    """The prober that can do a ``word`` command needing ``missing``, if one can."""
    prober = PROBERS.get(word)
    if prober is None or not all(f.name in prober.features for f in missing):
        return None
    return prober


def offered(version: str) -> list[str]:
    """What stand-ins give a VP running scamper ``version``, one line per prober:
    ``"DNS: host -T (DNS over TCP), host -O nsid, ..."``; nothing for a modern one."""
    digits = version[:8]
    if not digits.isdigit():
        return []
    out = []
    for prober in PROBERS.values():
        have = [
            f.name
            for f in FEATURES
            if f.name in prober.features and f.name != DURATIONS and f.release > int(digits)
        ]
        if have:
            out.append(f"{prober.what}: " + ", ".join(have))
    return out
