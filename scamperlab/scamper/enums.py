"""The eleven ``IntEnum`` classes of the ``scamper`` module.

Names and values are those of the module's inventory (reference §7.12).
They are ``IntEnum`` so that, like the real module, members compare equal
to the raw integers scamper stores in warts records.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "ScamperHostStop",
    "ScamperHostType",
    "ScamperHttpEchStatus",
    "ScamperHttpStop",
    "ScamperOwampResult",
    "ScamperOwampSchedType",
    "ScamperPingStop",
    "ScamperSniffStop",
    "ScamperTraceStop",
    "ScamperTracelbMethod",
    "ScamperUdpprobeStop",
]


class ScamperPingStop(IntEnum):
    NoReason = 0
    Completed = 1
    Error = 2
    Halted = 3
    InProgress = 4


class ScamperTraceStop(IntEnum):
    NoReason = 0
    Completed = 1
    Unreach = 2
    Icmp = 3
    Loop = 4
    GapLimit = 5
    Error = 6
    HopLimit = 7
    GSS = 8
    Halted = 9
    InProgress = 10


class ScamperHostStop(IntEnum):
    NoReason = 0
    Completed = 1
    Timeout = 2
    Halted = 3
    Error = 4


class ScamperHttpStop(IntEnum):
    NoReason = 0
    Halted = 1
    NoConnection = 2
    Completed = 3
    Error = 4
    Timeout = 5
    Insecure = 6


class ScamperHttpEchStatus(IntEnum):
    NoStatus = 0
    Unknown = 1
    Failed = 2
    Success = 3
    Grease = 4
    GreaseEch = 5
    Backend = 6
    BadCall = 7
    NotTried = 8
    BadName = 9
    NotConfigured = 10
    FailedEch = 11
    FailedEchBadName = 12


class ScamperUdpprobeStop(IntEnum):
    NoReason = 0
    Completed = 1
    Halted = 2
    Error = 3


class ScamperOwampResult(IntEnum):
    NoReason = 0
    Completed = 1
    Halted = 2
    Error = 3
    NoConn = 4
    NotAccepted = 5
    NoMode = 6
    Timeout = 7


class ScamperOwampSchedType(IntEnum):
    Fixed = 0
    Exponential = 1


class ScamperSniffStop(IntEnum):
    NoReason = 0
    Error = 1
    LimitTime = 2
    LimitPktC = 3
    Halted = 4


class ScamperTracelbMethod(IntEnum):
    UdpDport = 1
    IcmpEcho = 2
    UdpSport = 3
    TcpSport = 4
    TcpAckSport = 5


class ScamperHostType(IntEnum):
    A = 1
    NS = 2
    CNAME = 5
    SOA = 6
    PTR = 12
    MX = 15
    TXT = 16
    AAAA = 28
    OPT = 41
    DS = 43
    SSHFP = 44
    RRSIG = 46
    NSEC = 47
    DNSKEY = 48
    SVCB = 64
    HTTPS = 65
