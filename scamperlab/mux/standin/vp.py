"""A VP as stand-ins see it: its namespace, addresses, resolver and probing rate.

The lab describes each VP once (:class:`StandinVp`); every channel to that
VP shares it, so its :class:`Pacer` spaces the stand-in packets of all the
VP's users at the VP's ``-p`` rate, as scamper spaces its own probes.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scamperlab.emulation.netns import socket_in

__all__ = ["SO_TIMESTAMPNS", "Pacer", "StandinRefused", "StandinVp", "StandinVps"]

# Linux's SO_TIMESTAMPNS (and SCM_TIMESTAMPNS); typeshed does not list it
SO_TIMESTAMPNS: int = getattr(socket, "SO_TIMESTAMPNS", 35)


class StandinRefused(ValueError):
    """A command a stand-in cannot perform: its text is the ``ERR``'s reason."""


@dataclass
class Pacer:
    """Packets leave at most ``rate`` a second, evenly spaced; a burst waits its turn."""

    rate: float
    _next: float = 0.0

    async def take(self, packets: int = 1) -> None:
        await self._reserve(packets / self.rate)

    async def take_burst(self, packets: int) -> None:
        """Room for ``packets`` that leave close together (a TCP exchange, whose segments
        the kernel sends when it will): such bursts are spaced so that no 1-s window
        holds more than ``rate`` packets, even where ``packets`` does not divide it."""
        per_second = int(self.rate // packets)
        await self._reserve(1 / per_second if per_second else packets / self.rate)

    async def _reserve(self, seconds: float) -> None:
        now = time.monotonic()
        at = max(now, self._next)
        self._next = at + seconds
        if at > now:
            await asyncio.sleep(at - now)


@dataclass
class StandinVp:
    name: str
    #: a process in the VP's network namespace (its holder): what sockets are made in
    netns_pid: int
    ipv4: str | None
    ipv6: str | None
    rate: int  # packets per second, the VP's scamper -p
    #: the VP's own resolv.conf, where its default nameserver is (scamper reads it too)
    resolv_conf: Path | None = None
    pacer: Pacer = field(init=False)

    def __post_init__(self) -> None:
        self.pacer = Pacer(float(max(self.rate, 1)))

    def source_for(self, family: int) -> str:
        src = self.ipv6 if family == socket.AF_INET6 else self.ipv4
        if src is None:
            kind = "IPv6" if family == socket.AF_INET6 else "IPv4"
            raise StandinRefused(f"VP {self.name} has no {kind} address")
        return src

    def socket_to(self, dst: str, kind: int) -> socket.socket:
        """A non-blocking socket of the VP's namespace, bound to its address of
        ``dst``'s family, with the kernel's receive times (``SO_TIMESTAMPNS``): a
        stand-in's RTTs are then the wire's, not a busy event loop's."""
        family = socket.AF_INET6 if ":" in dst else socket.AF_INET
        src = self.source_for(family)
        sock = socket_in(self.netns_pid, family, kind)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            sock.bind((src, 0))
        except OSError:
            sock.close()
            raise
        return sock

    def resolver(self) -> str | None:
        """The first nameserver of the VP's resolv.conf, as scamper takes it."""
        if self.resolv_conf is None:
            return None
        try:
            text = self.resolv_conf.read_text()
        except OSError:
            return None
        for line in text.splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] == "nameserver":
                return words[1]
        return None


class StandinVps:
    """The VPs stand-ins may act for, by name, made on first use by ``describe``
    (the lab's: it knows namespaces, addresses and rates) and then kept."""

    def __init__(self, describe: Callable[[str], StandinVp | None]) -> None:
        self._describe = describe
        self._vps: dict[str, StandinVp | None] = {}

    def get(self, name: str) -> StandinVp | None:
        if name not in self._vps:
            self._vps[name] = self._describe(name)
        return self._vps[name]
