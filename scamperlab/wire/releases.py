"""Which scamper release a command line needs: one table for the client and the mux.

CAIDA's module sends options that older scamper releases reject. Both sides
of scamperlab name the missing feature: the client (``scamperlab.scamper``)
when a VP answers ``ERR``, the mux (``scamperlab.mux.legacy``) when it
refuses a command for a VP whose release it knows, before the VP sees it.
So the table lives here, below both.

A release is the first one in scamper's source history whose command parser
accepts the option, except where :data:`Feature.first` is False: then it is
the oldest release known to accept it (the DNS query types and class, which
appeared between 20211212 and the releases named; scamper's source dated
2023-06-04 has NS and SOA, that of 2024-05-02 TXT and ``-c``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

__all__ = [
    "DURATIONS",
    "FEATURES",
    "NO_RELEASE",
    "Feature",
    "describe",
    "lacking",
    "needed_release",
]

#: release of a feature no scamper release known to scamperlab accepts
NO_RELEASE = 99999999
#: the feature name of durations with a unit, which scamperlab's mux translates
DURATIONS = "durations with a unit (e.g. 2.0s)"
# The query types scamper's host command has parsed since 20240117 at the latest.
_KNOWN_QTYPES = "a|aaaa|ptr|mx|ns|soa|txt"


class Feature(NamedTuple):
    name: str
    pattern: re.Pattern[str]
    release: int
    first: bool = True  # ``release`` is the first to accept it, not only one known to


#: every feature newer than 20211212 that a command line can use, with its release
FEATURES: tuple[Feature, ...] = (
    Feature("http", re.compile(r"^http\b"), 20240117),
    Feature("udpprobe", re.compile(r"^udpprobe\b"), 20240117),
    Feature("owamp", re.compile(r"^owamp\b"), 20260105),
    Feature("dealias -m midarest", re.compile(r"^dealias\b.*-m midarest\b"), 20240117),
    Feature("dealias -m midardisc", re.compile(r"^dealias\b.*-m midardisc\b"), 20240117),
    Feature(DURATIONS, re.compile(r" -[a-zA-Z] [0-9.e+-]+s\b"), 20240117),
    Feature("udpprobe attempts/stop_count", re.compile(r"^udpprobe\b.* -[co] "), 20240503),
    Feature("udpprobe src", re.compile(r"^udpprobe\b.* -S "), 20241112),
    Feature("ping -O mss=", re.compile(r"^ping\b.*-O mss="), 20240229),
    Feature("ping -O dltx", re.compile(r"^ping\b.*-O dltx\b"), 20250505),
    Feature("host -T (DNS over TCP)", re.compile(r"^host\b.* -T\b"), 20240503),
    Feature("host -O nsid", re.compile(r"^host\b.*-O nsid\b"), 20241112),
    Feature("host -O subnet=", re.compile(r"^host\b.*-O subnet="), 20250227),
    Feature("http -O grease / -O ecl=", re.compile(r"^http\b.*-O (grease|ecl=)"), 20260331),
    Feature("host -O mqtypes=", re.compile(r"^host\b.*-O mqtypes="), 20260421),
    Feature("host -t NS (DNS NS queries)", re.compile(r"^host\b.* -t (?i:ns)\s"), 20240117, False),
    Feature(
        "host -t SOA (DNS SOA queries)", re.compile(r"^host\b.* -t (?i:soa)\s"), 20240117, False
    ),
    Feature(
        "host -t TXT (DNS TXT queries)", re.compile(r"^host\b.* -t (?i:txt)\s"), 20240503, False
    ),
    Feature("host -c (DNS query class)", re.compile(r"^host\b.* -c \S"), 20240503, False),
    Feature(
        "host -t of a type other than A, AAAA, PTR, MX, NS, SOA and TXT",
        re.compile(rf"^host\b.* -t (?!(?i:{_KNOWN_QTYPES})\s)\S+\s"),
        NO_RELEASE,
    ),
)


def lacking(line: str, version: str) -> list[Feature]:
    """The features ``line`` uses that scamper ``version`` (``"20211212"``) lacks,
    oldest release first; none for a version that is not a release date."""
    digits = version[:8]
    if not digits.isdigit():
        return []
    have = int(digits)
    found = [f for f in FEATURES if f.release > have and f.pattern.search(line)]
    return sorted(found, key=lambda f: f.release)


def describe(features: Sequence[Feature]) -> str | None:
    """One phrase naming each feature and the release that has it, or None for none."""
    if not features:
        return None
    parts = []
    for f in sorted(features, key=lambda f: f.release):
        if f.release == NO_RELEASE:
            parts.append(f"{f.name}: no scamper release known to scamperlab accepts it")
        elif f.release == 20260421:
            parts.append(f"{f.name} needs a scamper newer than 20260420")
        elif f.first:
            parts.append(f"{f.name} needs scamper {f.release} or newer")
        else:
            parts.append(f"{f.name} needs a scamper newer than 20211212 ({f.release} has it)")
    return "; ".join(parts)


def needed_release(line: str) -> str | None:
    """A phrase naming each feature of ``line`` newer than 20211212 and the release
    that has it, or None when every option it uses is that old."""
    return describe(lacking(line, "20211212"))
