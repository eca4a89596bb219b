"""``ScamperAddr``: the address value type warts records carry.

CAIDA's module wraps scamper's C ``scamper_addr_t``; here the address is a
family tag plus its raw bytes. It is defined with the warts codec, not with
the client, because both sides decode addresses: the mux reads them out of
results as much as ``scamperlab.scamper`` hands them to scripts, and
``scamperlab.scamper.addr`` is where scripts find it. Text forms come from
``socket.inet_ntop`` so they match what scamper itself prints (scamper also
uses ``inet_ntop``; in particular IPv4-mapped IPv6 addresses keep their
dotted tail, which ``ipaddress`` would not produce).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Final

__all__ = ["ADDR_ETHERNET", "ADDR_IPV4", "ADDR_IPV6", "ScamperAddr"]

#: Address type numbers, as used by scamper (warts) and by ``__getstate__``.
ADDR_IPV4: Final = 1
ADDR_IPV6: Final = 2
ADDR_ETHERNET: Final = 3

_LENGTHS: Final = {ADDR_IPV4: 4, ADDR_IPV6: 16, ADDR_ETHERNET: 6}
_TYPE_BY_LEN: Final = {4: ADDR_IPV4, 16: ADDR_IPV6, 6: ADDR_ETHERNET}

_V4_RESERVED: Final = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)
_V6_RESERVED: Final = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "2002::/16",
        "2001::/32",
        "2001:2::/48",
        "2001:3::/32",
        "2001:4:112::/48",
        "2001:10::/28",
        "2001:20::/28",
    )
)
_V6_GLOBAL: Final = ipaddress.IPv6Network("2000::/3")
_V4_RFC1918: Final = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


def _parse_text(text: str) -> tuple[int, bytes] | None:
    """Parse an IPv4/IPv6 literal; None when it is neither."""
    for family, atype in ((socket.AF_INET, ADDR_IPV4), (socket.AF_INET6, ADDR_IPV6)):
        try:
            return atype, socket.inet_pton(family, text)
        except (OSError, ValueError):
            continue
    return None


class ScamperAddr:
    """An IPv4, IPv6 or Ethernet address (immutable, hashable, ordered).

    Constructible from a textual IP address or from 4/16/6 raw bytes, like
    the real module.  Comparison also accepts a string holding an address,
    because scripts routinely write ``hop.src == "192.0.2.1"``.
    """

    __slots__ = ("_addr", "_type")

    _type: int
    _addr: bytes

    def __init__(self, addr: str | bytes) -> None:
        if isinstance(addr, (bytes, bytearray)):
            raw = bytes(addr)
            atype = _TYPE_BY_LEN.get(len(raw))
            if atype is None:
                raise ValueError("expected bytes array of 4/6/16 bytes")
            self._type, self._addr = atype, raw
            return
        if isinstance(addr, str):
            parsed = _parse_text(addr)
            if parsed is not None:
                self._type, self._addr = parsed
                return
        raise ValueError("invalid address")

    @classmethod
    def _from_raw(cls, atype: int, raw: bytes) -> ScamperAddr:
        """Build from a warts (type, bytes) pair without re-validation cost."""
        if _LENGTHS.get(atype) != len(raw):
            raise ValueError(f"address type {atype} with {len(raw)} bytes")
        obj = cls.__new__(cls)
        obj._type, obj._addr = atype, bytes(raw)
        return obj

    # -- text forms -------------------------------------------------------

    def __str__(self) -> str:
        if self._type == ADDR_IPV4:
            return socket.inet_ntop(socket.AF_INET, self._addr)
        if self._type == ADDR_IPV6:
            return socket.inet_ntop(socket.AF_INET6, self._addr)
        return ":".join(f"{b:02x}" for b in self._addr)

    def __repr__(self) -> str:
        return f"ScamperAddr('{self}')"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    # -- identity and ordering ---------------------------------------------

    def _key(self) -> tuple[int, bytes]:
        return self._type, self._addr

    @staticmethod
    def _coerce(other: object) -> ScamperAddr | None:
        if isinstance(other, ScamperAddr):
            return other
        if isinstance(other, str):
            parsed = _parse_text(other)
            if parsed is not None:
                return ScamperAddr._from_raw(*parsed)
        return None

    def __eq__(self, other: object) -> bool:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self._key() == o._key()

    def __ne__(self, other: object) -> bool:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self._key() != o._key()

    def __lt__(self, other: object) -> bool:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self._key() < o._key()

    def __le__(self, other: object) -> bool:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self._key() <= o._key()

    def __gt__(self, other: object) -> bool:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self._key() > o._key()

    def __ge__(self, other: object) -> bool:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self._key() >= o._key()

    def __hash__(self) -> int:
        return hash(self._key())

    # -- pickling ------------------------------------------------------------

    def __getstate__(self) -> dict[str, object]:
        return {"type": self._type, "addr": self._addr}

    def __setstate__(self, state: dict[str, object]) -> None:
        atype = state["type"]
        raw = state["addr"]
        if not isinstance(atype, int) or not isinstance(raw, (bytes, bytearray)):
            raise TypeError("invalid ScamperAddr state")
        if _LENGTHS.get(atype) != len(raw):
            raise ValueError("invalid ScamperAddr state")
        self._type, self._addr = atype, bytes(raw)

    # -- properties and predicates -----------------------------------------

    @property
    def packed(self) -> bytes | None:
        """The raw address bytes (4, 16 or 6 of them)."""
        return self._addr

    def is_ipv4(self) -> bool:
        return self._type == ADDR_IPV4

    def is_ipv6(self) -> bool:
        return self._type == ADDR_IPV6

    def _ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        if self._type == ADDR_IPV4:
            return ipaddress.IPv4Address(self._addr)
        if self._type == ADDR_IPV6:
            return ipaddress.IPv6Address(self._addr)
        return None

    def is_linklocal(self) -> bool:
        ip = self._ip()
        if isinstance(ip, ipaddress.IPv4Address):
            return ip in ipaddress.IPv4Network("169.254.0.0/16")
        if isinstance(ip, ipaddress.IPv6Address):
            return ip in ipaddress.IPv6Network("fe80::/10")
        return False

    def is_rfc1918(self) -> bool:
        ip = self._ip()
        return isinstance(ip, ipaddress.IPv4Address) and any(ip in n for n in _V4_RFC1918)

    def is_unicast(self) -> bool:
        ip = self._ip()
        return isinstance(ip, ipaddress.IPv6Address) and ip in _V6_GLOBAL

    def is_6to4(self) -> bool:
        ip = self._ip()
        return isinstance(ip, ipaddress.IPv6Address) and ip in ipaddress.IPv6Network("2002::/16")

    def is_reserved(self) -> bool:
        ip = self._ip()
        if isinstance(ip, ipaddress.IPv4Address):
            return any(ip in n for n in _V4_RESERVED)
        if isinstance(ip, ipaddress.IPv6Address):
            return ip not in _V6_GLOBAL or any(ip in n for n in _V6_RESERVED)
        return False
