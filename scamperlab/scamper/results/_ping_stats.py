"""A ping's replies grouped by probe, and scamper's statistics over them.

Both the result class (``nreplies``, ``min_rtt``, ...) and the renderings
(the text summary, the JSON ``statistics`` object) need the same numbers,
so they are computed here once, from the plain data, by scamper's own
algorithm: a probe "exists" only when warts recorded a reply for it, which
is why ``nloss`` counts only probes with replies none of which came from the
target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scamperlab.wire.warts.ping import PingData, PingReplyData

__all__ = ["PingStats", "RttStats", "ping_stats", "replies_by_probe"]


@dataclass(frozen=True)
class RttStats:
    """RTT statistics of the replies from the target, in microseconds."""

    min: int
    max: int
    avg: int
    stddev: int


@dataclass(frozen=True)
class PingStats:
    """scamper_ping_stats: counts, and RTTs when some reply came from the target."""

    nreplies: int
    ndups: int
    nloss: int
    nerrs: int
    rtt: RttStats | None


def replies_by_probe(d: PingData) -> dict[int, list[PingReplyData]]:
    """Replies grouped by probe id, in probe id order (each group in the
    order warts stored it)."""
    probes: dict[int, list[PingReplyData]] = {}
    for r in d.replies:
        probes.setdefault(r.probe_id, []).append(r)
    return dict(sorted(probes.items()))


def ping_stats(d: PingData) -> PingStats:
    """The statistics scamper prints for ``d`` (probes past ``ping_sent``
    are ignored, as scamper ignores them)."""
    nreplies = ndups = nloss = nerrs = 0
    rtts: list[int] = []
    for pid, rs in replies_by_probe(d).items():
        if pid >= d.ping_sent:
            continue
        rx = 0
        for r in rs:
            if d.is_from_target(r):
                rtts.append(r.rtt)
                rx += 1
            else:
                nerrs += 1
        if rx:
            nreplies += 1
            ndups += rx - 1
        else:
            nloss += 1
    rtt = None
    if rtts:
        mean = float(sum(rtts)) / len(rtts)
        var = sum((x - mean) * (x - mean) for x in rtts) / len(rtts)
        rtt = RttStats(min(rtts), max(rtts), int(mean), int(math.sqrt(var)))
    return PingStats(nreplies, ndups, nloss, nerrs, rtt)
