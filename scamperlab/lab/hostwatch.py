"""The controller host's watch over its lab hosts: a silent host's VPs are let go at once.

A lab host that crashes with its kernel (a power cut) or is cut off (a
cable, a firewall) closes nothing: its VPs' TCP connections stay
established on the controller, sc_remoted keeps their sockets and the mux
keeps listing them until TCP gives up, many minutes later, while every
measurement sent to them waits. So the controller pings each lab host's end
of the tunnel every second from its own namespace, and when one has not
answered for a few seconds it destroys that host's VPs' connections in the
kernel (``SOCK_DESTROY``, what ``ss -K`` does): sc_remoted sees them fail,
and the VPs depart from the mux as if their host had gone down in order.
When the host answers again, its scampers dial in by themselves.

The ping is a raw ICMP socket made in the controller's namespace (root has
one; the ``ping`` sockets of unprivileged users are off in a new namespace);
``ss`` from iproute2, which the lab needs anyway, does the destroying.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from scamperlab.emulation.netns import socket_in
from scamperlab.wire.icmp import echo_reply, echo_request

__all__ = ["HostWatch", "kill_argv"]

# (host, what happened), for the owner's events and status.
Notify = Callable[[str, str], None]


def kill_argv(addresses: Sequence[str], port: int) -> list[str]:
    """``ss -K`` for every TCP connection to sc_remoted's ``port`` from these VP addresses."""
    expr: list[str] = []
    for address in addresses:
        expr += [*(["or"] if expr else []), "dst", address]
    return ["ss", "-K", "-t", "-n", "sport", "=", f":{port}", "(", *expr, ")"]


@dataclass
class HostWatch:
    """Pings each lab host's tunnel end; lets a silent one's VPs go (see the module's text)."""

    #: the controller namespace's holder, where the pings and sc_remoted's connections are
    netns_pid: int
    #: lab host -> its tunnel address (its gateway answers there)
    hosts: Mapping[str, str]
    #: lab host -> its VPs' measurement addresses
    vp_addresses: Mapping[str, Sequence[str]]
    #: sc_remoted's port
    port: int
    notify: Notify
    interval: float = 1.0
    silent_after: float = 4.0
    _last: dict[str, float] = field(default_factory=dict, init=False)
    _silent: set[str] = field(default_factory=set, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    @property
    def silent(self) -> frozenset[str]:
        return frozenset(self._silent)

    def start(self) -> None:
        sock = socket_in(self.netns_pid, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        now = time.monotonic()
        self._last = dict.fromkeys(self.hosts, now)
        self._thread = threading.Thread(
            target=self._run, args=(sock,), name="scamperlab-hostwatch", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self, sock: socket.socket) -> None:
        ident = os.getpid() & 0xFFFF
        by_address = {address: host for host, address in self.hosts.items()}
        seq = 0
        with sock:
            while not self._stop.is_set():
                seq = (seq + 1) & 0xFFFF
                for address in self.hosts.values():
                    with contextlib.suppress(OSError):  # no route yet, a full queue: unanswered
                        sock.sendto(echo_request(ident, seq), (address, 0))
                deadline = time.monotonic() + self.interval
                while (left := deadline - time.monotonic()) > 0 and not self._stop.is_set():
                    ready, _, _ = select.select([sock], [], [], left)
                    if not ready:
                        continue
                    packet, (source, _) = sock.recvfrom(2048)
                    host = by_address.get(source)
                    reply = echo_reply(packet)
                    if host is not None and reply is not None and reply[0] == ident:
                        self._answered(host)
                self._check(time.monotonic())

    def _answered(self, host: str) -> None:
        self._last[host] = time.monotonic()
        if host in self._silent:
            self._silent.discard(host)
            self.notify(host, "answers again over the tunnel")

    def _check(self, now: float) -> None:
        for host, last in self._last.items():
            if host not in self._silent and now - last > self.silent_after:
                self._silent.add(host)
                killed = self._let_go(host)
                self.notify(
                    host,
                    f"silent over the tunnel for {now - last:.0f} s:"
                    f" its VPs' {killed} connections to sc_remoted closed",
                )

    def _let_go(self, host: str) -> int:
        """Destroy the connections of ``host``'s VPs; how many there were."""
        addresses = list(self.vp_addresses.get(host, ()))
        if not addresses:
            return 0
        done = subprocess.run(
            ["mnexec", "-a", str(self.netns_pid), *kill_argv(addresses, self.port)],
            capture_output=True,
            text=True,
            check=False,
        )
        # ss prints a header and one line per destroyed connection.
        return max(len(done.stdout.splitlines()) - 1, 0)
