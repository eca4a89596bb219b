"""Decoded DNS (host) data: what a warts host record holds.

Filled by :mod:`..warts.host`; viewed by :mod:`.host`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..addr import ScamperAddr
from ._util import Timeval
from .common import ScamperCycle, ScamperList

__all__ = ["HostData", "HostQueryData", "HostRRData", "MxData", "RRValue", "SoaData", "TxtData"]


@dataclass
class SoaData:
    mname: str | None = None
    rname: str | None = None
    serial: int = 0
    refresh: int = 0
    retry: int = 0
    expire: int = 0
    minimum: int = 0


@dataclass
class MxData:
    preference: int = 0
    exchange: str | None = None


@dataclass
class TxtData:
    strc: int = 0
    strs: list[str] = field(default_factory=list)


#: Decoded RR data: an address, a name, or one of the structures above.
RRValue = ScamperAddr | str | SoaData | MxData | TxtData | None


@dataclass
class HostRRData:
    rclass: int = 0
    rtype: int = 0
    name: str | None = None
    ttl: int = 0
    data: RRValue = None


@dataclass
class HostQueryData:
    tx: Timeval | None = None
    rx: Timeval | None = None
    id: int = 0
    ancount: int = 0
    nscount: int = 0
    arcount: int = 0
    rcode: int = 0
    flags: int = 0
    an: list[HostRRData] = field(default_factory=list)
    ns: list[HostRRData] = field(default_factory=list)
    ar: list[HostRRData] = field(default_factory=list)


@dataclass
class HostData:
    list_: ScamperList | None = None
    cycle: ScamperCycle | None = None
    userid: int = 0
    src: ScamperAddr | None = None
    dst: ScamperAddr | None = None
    start: Timeval | None = None
    flags: int = 0
    wait: int = 0  # milliseconds
    stop: int = 0
    retries: int = 0
    qtype: int = 0
    qclass: int = 0
    qname: str | None = None
    qcount: int = 0
    ecs: str | None = None
    queries: list[HostQueryData] = field(default_factory=list)
