"""tcpdump on every VP's measurement interfaces, inside the VP's namespace.

Why tcpdump and these options (measured in ``benchmarks/audit.py``):

- one C process per interface costs a fraction of a Python sniffer per packet;
- ``-Q out``: only what the VP sent, which halves what is written;
- ``--immediate-mode``: with libpcap's default buffering, packets still in the
  ring when tcpdump is stopped are lost (the last second of a run vanished
  in testing); ``-U`` writes each packet at once, so even a SIGKILLed
  capture keeps what it saw;
- ``-Z root``: Debian's tcpdump drops to its own user by default and could
  then not write into a root-owned output directory.

The management veth (``mgmt0``, scamper to sc_remoted) is deliberately not
captured: it is not measurement traffic. Every tcpdump is recorded in the
lab's ``state.json`` (PID and start time), so a crashed audit's captures die
with the lab's stale cleanup; a normal stop kills exactly those PIDs.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scamperlab.errors import MissingDependencyError, ScamperlabError, needs_extra

with needs_extra("audit", "scamperlab audit"):
    from scapy.utils import PcapWriter, rdpcap

if TYPE_CHECKING:
    from scamperlab.audit.analyse import SentPacket
    from scamperlab.lab.core import Lab

# Enough for every header scamper writes and a DNS question; lengths come from the wire.
SNAPLEN = 512
_DROPPED = re.compile(r"(\d+) packets? dropped by kernel")


@dataclass(frozen=True)
class VpInfo:
    """What the analysis needs to know of a VP, kept after the lab is gone."""

    name: str
    ipv4: str
    ipv6: str
    budget_pps: int
    interfaces: tuple[str, ...]


@dataclass
class _Tcpdump:
    vp: str
    interface: str
    pcap: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def listening(self) -> bool:
        try:
            return "listening on" in self.log.read_text(errors="replace")
        except OSError:
            return False

    def dropped(self) -> int | None:
        try:
            found = _DROPPED.search(self.log.read_text(errors="replace"))
        except OSError:
            return None
        return int(found.group(1)) if found else None


@dataclass
class Capture:
    """Packet capture of what each VP sends; ``with Capture(lab, dir) as cap:``.

    After :meth:`stop`, ``pcaps`` maps each VP to one pcap file and
    :meth:`sent` returns its packets, classified.
    """

    lab: Lab
    directory: Path
    vps: list[str] | None = None  # None: every VP of the lab
    snaplen: int = SNAPLEN
    info: dict[str, VpInfo] = field(default_factory=dict)
    pcaps: dict[str, Path] = field(default_factory=dict)
    dropped: dict[str, int | None] = field(default_factory=dict)
    started: float | None = None
    stopped: float | None = None
    _dumps: list[_Tcpdump] = field(default_factory=list)

    def __enter__(self) -> Capture:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 10.0) -> None:
        """Start one tcpdump per measurement interface; return once all are listening."""
        net = self.lab.net  # LabStateError if the lab is not running: nothing to capture
        tcpdump = shutil.which("tcpdump")
        if tcpdump is None:
            raise MissingDependencyError("tcpdump is needed for audits: apt-get install tcpdump")
        by_name = {vp.name: vp for vp in self.lab.vps}
        names = list(by_name) if self.vps is None else list(self.vps)
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise ScamperlabError(f"no VP named {', '.join(map(repr, unknown))} in the lab")
        self.directory.mkdir(parents=True, exist_ok=True)
        for name in names:
            vp = by_name[name]
            interfaces = tuple(i.name for i in self.lab.node(name).interfaces)
            self.info[name] = VpInfo(
                name, vp.ipv4, vp.ipv6, self.lab.topology.vp_rate(vp.metadata), interfaces
            )
            for intf in interfaces:
                stem = name if len(interfaces) == 1 else f"{name}.{intf}"
                self._dumps.append(
                    _Tcpdump(
                        name, intf, self.directory / f"{stem}.pcap", self.directory / f"{stem}.log"
                    )
                )
        try:
            for dump in self._dumps:
                argv = [
                    tcpdump, "-i", dump.interface, "-n", "-Q", "out", "--immediate-mode",
                    "-U", "-s", str(self.snaplen), "-Z", "root", "-w", str(dump.pcap),
                ]  # fmt: skip
                with open(dump.log, "wb") as log:
                    dump.proc = net.popen(
                        dump.vp, argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log
                    )
                self.lab.state.track("tcpdump", dump.vp, dump.proc.pid)
            self._wait_listening(timeout)
        except BaseException:
            self._stop_all()
            raise
        self.started = time.time()

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(self._dumps)
        while waiting:
            for dump in list(waiting):
                if dump.listening():
                    waiting.remove(dump)
                elif dump.proc is not None and dump.proc.poll() is not None:
                    text = dump.log.read_text(errors="replace").strip()
                    raise ScamperlabError(
                        f"tcpdump on {dump.vp} {dump.interface} exited: {text or 'no message'}"
                    )
            if waiting and time.monotonic() > deadline:
                raise ScamperlabError(
                    f"tcpdump did not start within {timeout:.0f} s on"
                    f" {', '.join(d.vp for d in waiting[:5])}"
                )
            if waiting:
                time.sleep(0.01)

    def stop(self) -> dict[str, Path]:
        """Stop every tcpdump (by its PID), then gather one pcap per VP. Safe to call twice."""
        if self.stopped is not None:
            return self.pcaps
        self.stopped = time.time()
        self._stop_all()
        by_vp: dict[str, list[_Tcpdump]] = {}
        for dump in self._dumps:
            by_vp.setdefault(dump.vp, []).append(dump)
        for name, dumps in by_vp.items():
            drops = [d.dropped() for d in dumps]
            self.dropped[name] = None if None in drops else sum(d for d in drops if d is not None)
            if len(dumps) == 1:
                self.pcaps[name] = dumps[0].pcap
            else:
                self.pcaps[name] = _merge([d.pcap for d in dumps], self.directory / f"{name}.pcap")
        return self.pcaps

    def _stop_all(self) -> None:
        running = [d for d in self._dumps if d.proc is not None and d.proc.poll() is None]
        for dump in running:
            assert dump.proc is not None
            with contextlib.suppress(ProcessLookupError):
                dump.proc.send_signal(signal.SIGTERM)
        for dump in self._dumps:
            if dump.proc is None:
                continue
            try:
                dump.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                dump.proc.kill()
                dump.proc.wait()
            self.lab.state.untrack(dump.proc.pid)

    def sent(self, vp: str) -> list[SentPacket]:
        """What ``vp`` sent during the capture (call after :meth:`stop`)."""
        from scamperlab.audit.analyse import sent_packets

        if vp not in self.pcaps:
            raise ScamperlabError(f"no capture of VP {vp!r} (captured: {', '.join(self.pcaps)})")
        info = self.info[vp]
        intf = info.interfaces[0] if len(info.interfaces) == 1 else ""
        return sent_packets(self.pcaps[vp], (info.ipv4, info.ipv6), intf)

    @property
    def pids(self) -> list[int]:
        return [d.proc.pid for d in self._dumps if d.proc is not None]


def _merge(parts: list[Path], target: Path) -> Path:
    """One time-ordered pcap from a VP's per-interface captures."""
    packets = sorted((p for part in parts for p in rdpcap(str(part))), key=lambda p: p.time)
    with PcapWriter(str(target), linktype=1, sync=True) as writer:
        for packet in packets:
            writer.write(packet)
    return target
