"""Measure that every link's configured delay and loss is really in effect.

Emulators built on Mininet commonly fail silently: a qdisc that did not
apply, a missing module, a rule in the wrong namespace, and the lab runs at
full speed while claiming 50 ms. So after shaping, each delayed or lossy
link is measured with real pings between its two ends (concurrently, all
links at once) and the lab refuses to start if any link is off.

The bounds are deliberately one-sided where load can only make things worse:
a busy machine adds delay, it never removes it, so the lower bound is tight
and the upper one generous. Loss is checked when enough probes fit in the
budget to tell configured loss from none, with bounds wide enough (5 sigma)
that a correct link essentially never fails.
"""

from __future__ import annotations

import math
import re
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scamperlab.errors import LabStartError
from scamperlab.topology.plan import LinkPlan

InNode = Callable[[str, Sequence[str]], list[str]]

DELAY_PINGS = 5
LOSS_PINGS_MAX = 1500
# Below this many expected round-trip losses, "no loss at all" is too likely by chance.
LOSS_MIN_EXPECTED = 8.0


@dataclass
class LinkCheck:
    link: LinkPlan
    family: int
    sent: int = 0
    received: int = 0
    min_rtt: float | None = None
    problem: str | None = None

    @property
    def name(self) -> str:
        return link_name(self.link)


def link_name(link: LinkPlan) -> str:
    return f"{link.a.node}:{link.a.name} -- {link.b.node}:{link.b.name}"


def expected_rtt(link: LinkPlan) -> tuple[float, float]:
    """(lowest plausible, highest plausible) minimum RTT across one link, in ms."""
    p = link.params
    low = 2 * max(0.0, p.delay - 3 * p.jitter)
    high = 2 * (p.delay + 3 * p.jitter)
    # Generous on the high side: under load a whole round of pings may wait.
    return max(0.0, low * 0.97 - 0.05), high + max(15.0, 0.3 * high)


def round_trip_loss(loss_percent: float) -> float:
    """Probability a ping or its reply is lost, each crossing the link once."""
    p = loss_percent / 100.0
    return 1 - (1 - p) ** 2


def loss_probes(loss_percent: float) -> int:
    """How many pings a loss check needs, or 0 if it cannot tell within the budget."""
    q = round_trip_loss(loss_percent)
    if q <= 0:
        return 0
    needed = math.ceil(3 * LOSS_MIN_EXPECTED / q)
    if q * LOSS_PINGS_MAX < LOSS_MIN_EXPECTED:
        return 0
    return max(100, min(LOSS_PINGS_MAX, needed))


def loss_bounds(loss_percent: float, sent: int) -> tuple[float, float]:
    """Acceptable range of lost pings (5 sigma of the binomial, at least one loss)."""
    q = round_trip_loss(loss_percent)
    mean = sent * q
    sigma = math.sqrt(sent * q * (1 - q))
    return max(1.0, mean - 5 * sigma - 1), mean + 5 * sigma + 1


_STATS_RE = re.compile(r"(\d+) packets transmitted, (\d+) received")
_RTT_RE = re.compile(r"= ([\d.]+)/([\d.]+)/([\d.]+)/")


def _parse(out: str) -> tuple[int, int, float | None]:
    stats = _STATS_RE.search(out)
    rtt = _RTT_RE.search(out)
    if stats is None:
        return 0, 0, None
    return int(stats[1]), int(stats[2]), float(rtt[1]) if rtt else None


Pings = list[tuple[LinkCheck, "subprocess.Popen[str]", int]]


def start_checks(in_node: InNode, links: Sequence[LinkPlan]) -> Pings:
    """Start pinging across every delayed or lossy link (IPv4 and IPv6, both ends' rules),
    all at once; :func:`finish_checks` collects them, so other work can go on meanwhile."""
    runs: Pings = []
    for link in links:
        p = link.params
        if not p.needs_netem:
            continue
        count = DELAY_PINGS
        probes = loss_probes(p.loss)
        # Round trips lost to emulated loss must not starve the delay measurement.
        count = max(count, probes, math.ceil(DELAY_PINGS / max(0.05, 1 - round_trip_loss(p.loss))))
        for family, dst in ((4, str(link.b.ipv4.ip)), (6, str(link.b.ipv6.ip))):
            # Close together: iputils' ping spins (sched_yield) whenever its next
            # probe is due within 10 ms and no reply is outstanding, so pings 20 ms
            # apart across a short link cost half a core each, on a start-up that is
            # CPU-bound. 2 ms apart, a reply is nearly always outstanding.
            n, interval = count, 0.002
            if family == 6 and p.loss:
                # Neighbour discovery crosses the lossy link too, and a lost
                # solicitation holds the first pings for a second: spread them out.
                n, interval = DELAY_PINGS * 2, 0.25
            wait = 2 + 2 * (p.delay + 3 * p.jitter) / 1e3
            argv = ["ping", f"-{family}", "-n", "-q", "-c", str(n), "-i", str(interval)]
            argv += ["-W", f"{wait:.3f}", dst]
            proc = subprocess.Popen(
                in_node(link.a.node, argv),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            runs.append((LinkCheck(link, family), proc, probes if family == 4 else 0))
    return runs


def cancel_checks(runs: Pings) -> None:
    """Stop the pings of a start-up that failed meanwhile."""
    for _, proc, _ in runs:
        proc.kill()
        proc.communicate()


def finish_checks(runs: Pings) -> list[LinkCheck]:
    """Wait for the pings :func:`start_checks` started and judge each link."""
    results = []
    deadline = time.monotonic() + 60
    for check, proc, probes in runs:
        try:
            out, _ = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        check.sent, check.received, check.min_rtt = _parse(out)
        check.problem = _judge(check, probes)
        results.append(check)
    return results


def _judge(check: LinkCheck, probes: int) -> str | None:
    p = check.link.params
    if p.loss >= 100:  # a link configured down: nothing may cross it
        return None if check.received == 0 else "replies crossed a link configured 100% lossy"
    if check.received == 0 or check.min_rtt is None:
        return f"no reply to {check.sent} IPv{check.family} pings across the link"
    low, high = expected_rtt(check.link)
    want = f"{2 * p.delay:g} ms (2 x {p.delay:g} ms" + (
        f" +- {p.jitter:g} ms)" if p.jitter else ")"
    )
    if check.min_rtt < low:
        return (
            f"IPv{check.family} min RTT {check.min_rtt:.2f} ms, configured {want}:"
            " the delay is NOT in effect"
        )
    if check.min_rtt > high:
        return f"IPv{check.family} min RTT {check.min_rtt:.2f} ms, configured {want}: far too slow"
    if probes:
        lost = check.sent - check.received
        lo, hi = loss_bounds(p.loss, check.sent)
        if not lo <= lost <= hi:
            q = round_trip_loss(p.loss) * 100
            return (
                f"{lost}/{check.sent} pings lost, expected {q:.2f}% round trip from"
                f" {p.loss:g}% per direction (acceptable {lo:.0f}-{hi:.0f}):"
                " the loss is not in effect as configured"
            )
    return None


def verify_links(in_node: InNode, links: Sequence[LinkPlan], mechanisms: dict[int, str]) -> None:
    """Raise :class:`LabStartError` naming every link whose delay or loss is not in effect."""
    raise_failures(finish_checks(start_checks(in_node, links)), mechanisms)


def raise_failures(checks: Sequence[LinkCheck], mechanisms: dict[int, str]) -> None:
    """Raise :class:`LabStartError` naming every check that found a link not as configured."""
    failed = [c for c in checks if c.problem]
    if failed:
        lines = [
            f"  {c.name} ({mechanisms.get(c.link.index, '?')}): {c.problem}" for c in failed[:10]
        ]
        more = f"\n  ... and {len(failed) - 10} more" if len(failed) > 10 else ""
        raise LabStartError(
            f"link self-check failed on {len(failed)} link measurement(s):\n"
            + "\n".join(lines)
            + more
        )
