"""User-constructible dealias helper classes.

``ScamperDealiasProbedef`` and ``ScamperDealiasMidardiscRound`` are the
only inputs to ``do_radargun``/``do_midarest``/``do_midardisc`` that are
not plain values; their ``str()`` is spliced verbatim into the command
line (``-p '<probedef>'``, ``-S <round>``), so the text must match the
module exactly.  The module keeps these values in scamper's C structs,
which is why unset numbers read back as ``0`` rather than ``None`` and
why round indexes behave like ``uint32_t``.
"""

from __future__ import annotations

import datetime
import importlib
import ipaddress
import socket
from typing import Any

from .common import is_scamper_addr

__all__ = [
    "PROBEDEF_METHODS",
    "ScamperDealiasMidardiscRound",
    "ScamperDealiasProbedef",
    "probedef_from_result",
]

#: scamper's probedef method names and the transport each one uses.
PROBEDEF_METHODS: dict[str, str] = {
    "icmp-echo": "icmp",
    "tcp-ack": "tcp",
    "udp": "udp",
    "tcp-ack-sport": "tcp",
    "udp-dport": "udp",
    "tcp-syn-sport": "tcp",
}

_UINT32_MAX = 0xFFFFFFFF


def _canonical_ip(text: str) -> str | None:
    """Parse an address the way scamper's numeric-host lookup does.

    IPv4 shorthand accepted by ``inet_aton`` (``127.1``) is allowed, as
    glibc's numeric ``getaddrinfo`` allows it; the text form is the one
    ``inet_ntop`` gives, which is what scamper prints.
    """
    if not text or any(c.isspace() for c in text):
        return None
    try:
        if ":" in text:
            packed = ipaddress.IPv6Address(text.split("%", 1)[0]).packed
            return socket.inet_ntop(socket.AF_INET6, packed)
        return socket.inet_ntop(socket.AF_INET, socket.inet_aton(text))
    except (ValueError, OSError):
        return None


def _probedef_addr(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not (isinstance(value, str) or is_scamper_addr(value)):
        raise TypeError(f"invalid {name}")
    text = _canonical_ip(str(value))
    if text is None:
        raise ValueError(f"invalid address {value}")
    return text


def _bounded(value: Any, upper: int, message: str) -> int:
    number = int(value)
    if number < 0 or number > upper:
        raise ValueError(message)
    return number


def _as_addr(text: str | None) -> Any:
    """Return a ScamperAddr when that class is available, else the text."""
    if text is None:
        return None
    try:
        module = importlib.import_module("scamperlab.scamper.addr")
    except ImportError:
        return text
    return module.ScamperAddr(text)


class ScamperDealiasProbedef:
    """One probe definition for alias resolution (method, addresses, header fields)."""

    _method: str
    _src: str | None
    _dst: str | None
    _ttl: int
    _size: int
    _ports: list[int]  # [sport, dport], TCP/UDP only
    _icmp: list[int]  # [icmp_id, icmp_sum], ICMP only

    def __init__(
        self,
        method: Any,
        src: Any = None,
        dst: Any = None,
        ttl: Any = None,
        size: Any = None,
        sport: Any = None,
        dport: Any = None,
        icmp_id: Any = None,
        icmp_sum: Any = None,
    ) -> None:
        if not isinstance(method, str):
            raise TypeError("expected string for method")
        if method.lower() not in PROBEDEF_METHODS:
            raise ValueError(f"unknown method {method}")
        self._set_method(method.lower())
        self._src = _probedef_addr(src, "src")
        self._dst = _probedef_addr(dst, "dst")
        if ttl is not None:
            self._ttl = _bounded(ttl, 255, "invalid TTL")
        if size is not None:
            self._size = _bounded(size, 65535, "invalid size")
        for index, name, value in ((1, "dport", dport), (0, "sport", sport)):
            if value is not None:
                number = _bounded(value, 65535, f"invalid {name}")
                if self.is_icmp():
                    raise ValueError(f"{name} invalid for method {method}")
                self._ports[index] = number
        for index, name, value in ((0, "icmp_id", icmp_id), (1, "icmp_sum", icmp_sum)):
            if value is not None:
                number = _bounded(value, 65535, f"invalid {name}")
                if not self.is_icmp():
                    raise ValueError(f"{name} invalid for method {method}")
                self._icmp[index] = number

    def _set_method(self, method: str) -> None:
        self._method = method
        self._src = self._dst = None
        self._ttl = self._size = 0
        self._ports = [0, 0]
        self._icmp = [0, 0]

    @property
    def src(self) -> Any:
        """Source address (ScamperAddr), or None."""
        return _as_addr(self._src)

    @property
    def dst(self) -> Any:
        """Destination address (ScamperAddr), or None."""
        return _as_addr(self._dst)

    @property
    def ttl(self) -> int:
        """IP TTL; 0 when unset."""
        return self._ttl

    @property
    def size(self) -> int:
        """Probe size; 0 when unset."""
        return self._size

    @property
    def sport(self) -> int | None:
        """Source port for TCP/UDP methods, else None."""
        return None if self.is_icmp() else self._ports[0]

    @property
    def dport(self) -> int | None:
        """Destination port for TCP/UDP methods, else None."""
        return None if self.is_icmp() else self._ports[1]

    @property
    def icmp_id(self) -> int | None:
        """ICMP identifier for ICMP methods, else None."""
        return self._icmp[0] if self.is_icmp() else None

    @property
    def icmp_sum(self) -> int | None:
        """ICMP checksum for ICMP methods, else None."""
        return self._icmp[1] if self.is_icmp() else None

    def is_udp(self) -> bool:
        """Whether the method sends UDP probes."""
        return PROBEDEF_METHODS.get(self._method) == "udp"

    def is_icmp(self) -> bool:
        """Whether the method sends ICMP probes."""
        return PROBEDEF_METHODS.get(self._method) == "icmp"

    def is_tcp(self) -> bool:
        """Whether the method sends TCP probes."""
        return PROBEDEF_METHODS.get(self._method) == "tcp"

    def __str__(self) -> str:
        # src and icmp_id are deliberately absent: the module never sends them.
        out = "-P " + self._method
        if self.is_icmp():
            if self._icmp[1]:
                out += f" -c {self._icmp[1]}"
        else:
            if self._ports[1]:
                out += f" -d {self._ports[1]}"
            if self._ports[0]:
                out += f" -F {self._ports[0]}"
        if self._dst is not None:
            out += " -i " + self._dst
        if self._size:
            out += f" -s {self._size}"
        if self._ttl:
            out += f" -t {self._ttl}"
        return out

    def __repr__(self) -> str:
        out = f"ScamperDealiasProbedef('{self._method}'"
        if self._src is not None:
            out += f", src='{self._src}'"
        if self._dst is not None:
            out += f", dst='{self._dst}'"
        if self._ttl:
            out += f", ttl={self._ttl}"
        if self._size:
            out += f", size={self._size}"
        names = ("icmp_id", "icmp_sum") if self.is_icmp() else ("sport", "dport")
        values = self._icmp if self.is_icmp() else self._ports
        for name, value in zip(names, values, strict=True):
            if value:
                out += f", {name}={value}"
        return out + ")"


def probedef_from_result(
    method: str,
    *,
    src: str | None = None,
    dst: str | None = None,
    ttl: int = 0,
    size: int = 0,
    sport: int = 0,
    dport: int = 0,
    icmp_id: int = 0,
    icmp_sum: int = 0,
) -> ScamperDealiasProbedef:
    """Build a probedef from decoded result data, without user-input checks.

    For the dealias results: they carry scamper's own values, which the
    constructor's checks would only get in the way of.  A function of this
    module (not a private classmethod) so that the results need no access
    to the class's private members.
    """
    pd = ScamperDealiasProbedef.__new__(ScamperDealiasProbedef)
    pd._set_method(method)
    pd._src, pd._dst, pd._ttl, pd._size = src, dst, ttl, size
    pd._ports = [sport, dport]
    pd._icmp = [icmp_id, icmp_sum]
    return pd


def _uint32(value: int) -> int:
    """Mimic Cython's conversion of a Python int to ``uint32_t``."""
    if value < 0:
        raise OverflowError("can't convert negative value to uint32_t")
    if value > _UINT32_MAX:
        raise OverflowError("value too large to convert to uint32_t")
    return value


class ScamperDealiasMidardiscRound:
    """One midardisc round: start offset and the probedef index range to use."""

    def __init__(self, start: Any, begin: Any, end: Any) -> None:
        if not isinstance(start, datetime.timedelta):
            raise TypeError("expected timedelta for start")
        if not isinstance(begin, int):
            raise TypeError("expected int for begin")
        if not isinstance(end, int):
            raise TypeError("expected int for end")
        # scamper stores a struct timeval built from .seconds/.microseconds,
        # so whole days are dropped, exactly as in the module.
        self._sec = start.seconds
        self._usec = start.microseconds
        self._begin = _uint32(int(begin))
        self._end = _uint32(int(end))

    @property
    def start(self) -> datetime.timedelta:
        """Offset of this round from the measurement start."""
        return datetime.timedelta(seconds=self._sec, microseconds=self._usec)

    @property
    def begin(self) -> int:
        """Index of the first probedef probed in this round."""
        return self._begin

    @property
    def end(self) -> int:
        """Index of the last probedef probed in this round."""
        return self._end

    def __str__(self) -> str:
        return f"{self._sec}.{self._usec:06d}:{self._begin}:{self._end}"
