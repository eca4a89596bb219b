"""Which scamper release a command line needs (reference §9.2).

The module's ``do_*`` methods send options that older scamper releases
reject: the VP answers ``ERR`` and the script sees a ``ScamperInstError``.
Ark's VPs, and this lab's (Debian's 20211212), may be older than what a
script was written against, so the error names the release needed: that is
the difference between "my script is wrong" and "this VP is too old".
"""

from __future__ import annotations

import re

__all__ = ["FEATURES", "needed_release"]

#: (feature, pattern over the command line, first scamper release that
#: accepts it), checked in order; the most recent match is reported
FEATURES: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("http", re.compile(r"^http\b"), 20240117),
    ("udpprobe", re.compile(r"^udpprobe\b"), 20240117),
    ("owamp", re.compile(r"^owamp\b"), 20260105),
    ("dealias -m midarest", re.compile(r"^dealias\b.*-m midarest\b"), 20240117),
    ("dealias -m midardisc", re.compile(r"^dealias\b.*-m midardisc\b"), 20240117),
    ("durations with a unit (e.g. 2.0s)", re.compile(r" -[a-zA-Z] [0-9.e+-]+s\b"), 20240117),
    ("udpprobe attempts/stop_count", re.compile(r"^udpprobe\b.* -[co] "), 20240503),
    ("udpprobe src", re.compile(r"^udpprobe\b.* -S "), 20241112),
    ("ping -O mss=", re.compile(r"^ping\b.*-O mss="), 20240229),
    ("ping -O dltx", re.compile(r"^ping\b.*-O dltx\b"), 20250505),
    ("host -T (DNS over TCP)", re.compile(r"^host\b.* -T\b"), 20240503),
    ("host -O nsid", re.compile(r"^host\b.*-O nsid\b"), 20241112),
    ("host -O subnet=", re.compile(r"^host\b.*-O subnet="), 20250227),
    ("http -O grease / -O ecl=", re.compile(r"^http\b.*-O (grease|ecl=)"), 20260331),
    ("host -O mqtypes=", re.compile(r"^host\b.*-O mqtypes="), 20260421),
)


def needed_release(line: str) -> str | None:
    """A phrase naming the release ``line`` needs, or None when every
    option it uses is older than any scamper the module can drive."""
    best: tuple[int, str] | None = None
    for feature, pattern, release in FEATURES:
        if pattern.search(line) and (best is None or release > best[0]):
            best = (release, feature)
    if best is None:
        return None
    release, feature = best
    if release == 20260421:
        return f"{feature} needs a scamper newer than 20260420"
    return f"{feature} needs scamper {release} or newer"
