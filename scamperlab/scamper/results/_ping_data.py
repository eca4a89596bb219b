"""Decoded ping data: what a warts ping record holds, as plain fields.

Filled by :mod:`..warts.ping`; viewed by :mod:`.ping`.  The data classes
live here rather than in the warts package so that result classes never
import format code (only the decoder imports results), which keeps the
package import graph acyclic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..addr import ScamperAddr
from ._util import Timeval
from .common import ScamperCycle, ScamperList

__all__ = ["PingData", "PingReplyData"]


@dataclass
class PingReplyData:
    """One reply as stored in warts (raw field values)."""

    addr: ScamperAddr | None = None
    flags: int = 0
    reply_ttl: int = 0
    reply_size: int = 0
    icmp_type: int = 0
    icmp_code: int = 0
    rtt: int = 0  # microseconds
    probe_id: int = 0
    reply_ipid: int = 0
    probe_ipid: int = 0
    reply_proto: int = 0
    tcp_flags: int = 0
    v4rr: list[ScamperAddr] | None = None
    v4ts: tuple[list[int], list[ScamperAddr] | None] | None = None
    reply_ipid32: int = 0
    tx: Timeval | None = None
    tsreply: tuple[int, int, int] | None = None
    probe_sport: int = 0
    reply_tos: int = 0
    ifname: str | None = None
    # fields written by newer scamper releases than any we have seen
    tcp_mss: int = 0
    icmp_nhmtu: int = 0


@dataclass
class PingData:
    """A ping measurement as stored in warts."""

    list_: ScamperList | None = None
    cycle: ScamperCycle | None = None
    src: ScamperAddr | None = None
    dst: ScamperAddr | None = None
    rtr: ScamperAddr | None = None
    start: Timeval | None = None
    stop_reason: int = 0
    stop_data: int = 0
    datalen: int = 0
    data: bytes | None = None
    probe_count: int = 0
    probe_size: int = 0
    wait_probe_s: int = 0
    probe_ttl: int = 0
    reply_count: int = 0
    ping_sent: int = 0
    method: int = 0
    sport: int = 0
    dport: int = 0
    userid: int = 0
    flags8: int = 0
    tos: int = 0
    tsps: list[ScamperAddr] | None = None
    icmpsum: int = 0
    reply_pmtu: int = 0
    wait_timeout_s: int = 0
    wait_probe_us: int = 0
    tcpack: int = 0
    flags: int = 0
    tcpseq: int = 0
    wait_timeout_us: int = 0
    tcp_mss: int = 0
    replies: list[PingReplyData] = field(default_factory=list)

    @property
    def wait_probe(self) -> int:
        """Inter-probe gap in microseconds."""
        return self.wait_probe_s * 1_000_000 + self.wait_probe_us

    @property
    def wait_timeout(self) -> int:
        """Reply timeout in microseconds."""
        return self.wait_timeout_s * 1_000_000 + self.wait_timeout_us
