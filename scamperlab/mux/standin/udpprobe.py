"""The UDP probe stand-in: an ``udpprobe`` command performed by the lab, as modern scamper would.

Debian's scamper (20211212) has no ``udpprobe``. Here each probe is a real
datagram with the user's payload, sent from a UDP socket made in the VP's
network namespace (:func:`scamperlab.emulation.netns.socket_in`) and bound
to the VP's address, at the VP's ``-p`` rate (:class:`.vp.Pacer`). Every
datagram that comes back on that socket is a reply: its bytes as received,
the kernel's receive timestamp (``SO_TIMESTAMPNS``, so a busy event loop
adds nothing to the RTT) and the interface it arrived on (``IP_PKTINFO``,
named in the VP's namespace). Nothing is made up: no reply, no reply block.

What the command line means follows scamper's udpprobe: ``-d`` the port,
``-p`` the payload in hex, ``-c`` the number of probes (1 - 20), sent
``-W`` apart (default 1 s), the last one waited for ``-w`` (default 2 s),
``-o`` the stop count (recorded; modern scamper sends every probe whatever
it is, as the golden corpus shows: two probes, two replies, stop count 1),
``-O exitfirst`` to end at the first reply, ``-S`` the source address,
``-U`` the userid. One probe uses one socket; several probes each use a
socket of their own, so each has its own source port, as scamper's do
(and then the record's ``sport`` is 0, as scamper's is).

The result is the warts udpprobe record with the fields modern scamper
writes (those with a value; checked against the golden corpus).
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import ipaddress
import socket
import struct
import time
from dataclasses import dataclass, field

from scamperlab.emulation.netns import socket_in
from scamperlab.mux.standin.dns import _readable, _rx_time, _timeval, halted
from scamperlab.mux.standin.vp import SO_TIMESTAMPNS, StandinRefused, StandinVp
from scamperlab.wire.tagging import command_userid
from scamperlab.wire.warts.addr import ScamperAddr
from scamperlab.wire.warts.udpprobe import UdpprobeData, UdpprobeProbeData, UdpprobeReplyData

__all__ = ["UdpprobeCommand", "parse_udpprobe", "run_udpprobe", "udpprobe_for", "udpprobe_record"]

STOP_DONE, STOP_HALTED, STOP_ERROR = 1, 2, 3  # udpprobe's own stop reasons
FLAG_EXITFIRST = 0x01
_MAX_PAYLOAD = 1000  # bytes, scamper's limit
_IN_PKTINFO = struct.Struct("@i4s4s")  # struct in_pktinfo
_IN6_PKTINFO = struct.Struct("@16sI")  # struct in6_pktinfo
# Linux's values; typeshed does not list all of them
IP_PKTINFO: int = getattr(socket, "IP_PKTINFO", 8)
IPV6_RECVPKTINFO: int = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO: int = getattr(socket, "IPV6_PKTINFO", 50)
_SIOCGIFNAME = 0x8910
# what a connected UDP socket reports of an ICMP error its probe met on the path
_ICMP_ERRORS = frozenset(
    {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EPROTO, errno.EMSGSIZE}
)
_ANCILLARY = (
    socket.CMSG_SPACE(16)  # struct timespec
    + socket.CMSG_SPACE(_IN6_PKTINFO.size)  # the larger of the two pktinfos
)


@dataclass
class UdpprobeCommand:
    """An ``udpprobe`` command line, parsed as scamper reads it."""

    dst: str
    dport: int
    payload: bytes
    probe_count: int = 1
    stop_count: int = 1
    wait_timeout: float = 2.0  # seconds after the last probe
    wait_probe: float = 1.0  # seconds between probes
    src: str | None = None
    userid: int = 0
    flags: int = 0

    @property
    def family(self) -> int:
        return socket.AF_INET6 if ":" in self.dst else socket.AF_INET


def _count(opt: str, value: str, what: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 20:
        raise StandinRefused(f"-{opt} failed: {what} must be within 1 - 20")
    return int(value)


def _wait(opt: str, value: str, what: str) -> float:
    try:
        seconds = float(value.removesuffix("s"))
    except ValueError:
        raise StandinRefused(f"-{opt} failed: malformed {what}") from None
    if not 0.5 <= seconds <= 5:
        raise StandinRefused(f"-{opt} failed: {what} must be within 0.5s - 5s")
    return seconds


def _payload(value: str) -> bytes:
    try:
        data = bytes.fromhex(value)
    except ValueError:
        raise StandinRefused("-p failed: payload must be specified in hex") from None
    if len(data) > _MAX_PAYLOAD:
        raise StandinRefused(f"-p failed: payload limit is {_MAX_PAYLOAD} bytes")
    return data


def _option(cmd: UdpprobeCommand, opt: str, value: str) -> None:
    if opt == "c":
        cmd.probe_count = _count(opt, value, "probe-count")
    elif opt == "o":
        cmd.stop_count = _count(opt, value, "stop-count")
    elif opt == "d":
        if not value.isdigit() or not 1 <= int(value) <= 65535:
            raise StandinRefused("-d failed: dport must be within 1 - 65535")
        cmd.dport = int(value)
    elif opt == "p":
        cmd.payload = _payload(value)
    elif opt == "w":
        cmd.wait_timeout = _wait(opt, value, "wait-timeout")
    elif opt == "W":
        cmd.wait_probe = _wait(opt, value, "wait-probe")
    elif opt == "O" and value.lower() == "exitfirst":
        cmd.flags |= FLAG_EXITFIRST
    elif opt == "O":
        raise StandinRefused("-O failed: unknown option")
    elif opt == "S":
        cmd.src = value
    elif opt != "U":  # -U is read by command_userid
        raise StandinRefused(f"-{opt} {value}: not done by the UDP probe stand-in")


def parse_udpprobe(line: str) -> UdpprobeCommand:
    """The command ``line`` (``udpprobe -d 7 -p 68656c6c6f -c 2 192.0.2.7``), or
    StandinRefused with scamper's reason."""
    words = line.split()
    cmd = UdpprobeCommand(dst="", dport=0, payload=b"", userid=command_userid(line))
    options: list[tuple[str, str]] = []
    i = 1
    while i < len(words) and words[i].startswith("-") and len(words[i]) == 2:
        if i + 1 >= len(words):
            raise StandinRefused(f"{words[i]} needs a value")
        options.append((words[i][1], words[i + 1]))
        i += 2
    rest = words[i:]
    if len(rest) != 1:  # scamper looks for the address before it reads the options
        raise StandinRefused("expected address to probe")
    seen: set[str] = set()
    for opt, value in options:
        if opt in seen and opt != "O":
            raise StandinRefused(f"repeated option -{opt}")
        seen.add(opt)
        _option(cmd, opt, value)
    if not cmd.payload:
        raise StandinRefused("missing payload parameter")
    if not cmd.dport:
        raise StandinRefused("missing destination port parameter")
    if cmd.stop_count > cmd.probe_count:
        raise StandinRefused("stop-count cannot be larger than probe-count")
    try:
        cmd.dst = str(ipaddress.ip_address(rest[0]))
    except ValueError:
        raise StandinRefused("invalid destination address") from None
    if cmd.src is not None:
        try:
            src = ipaddress.ip_address(cmd.src)
        except ValueError:
            raise StandinRefused("-S failed: invalid source address") from None
        if (src.version == 6) != (cmd.family == socket.AF_INET6):
            raise StandinRefused("-S failed: source and destination are different families")
        cmd.src = str(src)
    return cmd


def udpprobe_for(line: str, vp: StandinVp) -> UdpprobeCommand:
    """``line`` parsed, its source settled: the VP's address of the destination's family
    (``-S`` may name only that one: the VP has no other)."""
    cmd = parse_udpprobe(line)
    own = vp.source_for(cmd.family)
    if cmd.src is not None and ipaddress.ip_address(cmd.src) != ipaddress.ip_address(own):
        raise StandinRefused(f"-S failed: {cmd.src} is not an address of VP {vp.name}")
    cmd.src = own
    return cmd


# -- the record ----------------------------------------------------------------------


def _present(*pairs: tuple[int, object]) -> frozenset[int]:
    """The flag ids of the fields modern scamper writes: those with a value."""
    return frozenset(fid for fid, value in pairs if value)


@dataclass
class _Probe:
    tx: float
    sport: int
    replies: list[UdpprobeReplyData] = field(default_factory=list)


def _reply(rx: float, data: bytes, ifname: str | None) -> UdpprobeReplyData:
    rep = UdpprobeReplyData(rx=_timeval(rx), len=len(data), data=data, ifname=ifname)
    rep._wflags = _present((1, rep.rx), (2, rep.len), (3, rep.data), (4, rep.ifname))  # type: ignore[attr-defined]
    return rep


def udpprobe_record(
    cmd: UdpprobeCommand, src: str, start: float, stop: int, probes: list[_Probe], sport: int
) -> UdpprobeData:
    """The udpprobe record of ``cmd``'s probes, with the fields modern scamper writes.
    ``sport``: the source port all probes shared (one probe), else 0."""
    out = []
    for p in probes:
        probe = UdpprobeProbeData(
            tx=_timeval(p.tx), sport=p.sport, replyc=len(p.replies), replies=p.replies
        )
        probe._wflags = _present((1, probe.tx), (2, probe.sport), (3, probe.replyc))  # type: ignore[attr-defined]
        out.append(probe)
    first = out[0] if out else None
    u = UdpprobeData(
        userid=cmd.userid,
        src=ScamperAddr(src),
        dst=ScamperAddr(cmd.dst),
        p0_sport=first.sport if first else 0,
        dport=cmd.dport,
        start=_timeval(start),
        wait_timeout=round(cmd.wait_timeout * 1e6),
        flags=cmd.flags,
        stop=stop,
        len=len(cmd.payload),
        data=cmd.payload,
        p0_replyc=first.replyc if first else 0,
        probe_count=cmd.probe_count,
        probe_sent=len(out),
        stop_count=cmd.stop_count,
        sport=sport,
        wait_probe=round(cmd.wait_probe * 1e6),
        probes=out,
    )
    u._wflags = frozenset({1, 2}) | _present(  # type: ignore[attr-defined]
        (3, u.userid),
        (4, u.src),
        (5, u.dst),
        (6, first is not None),
        (7, u.dport),
        (8, u.start),
        (9, u.wait_timeout),
        (10, u.flags),
        (11, u.stop),
        (12, u.len),
        (13, u.data),
        (14, u.p0_replyc),
        (15, u.probe_count != 1),
        (16, len(out) > 1),
        (17, u.stop_count),
        (18, u.sport),
        (19, u.wait_probe),
    )
    return u


# -- the probes ------------------------------------------------------------------------


class _Ifnames:
    """Interface names by index, asked of the kernel through a socket of the VP's
    namespace (an index means nothing in the namespace the mux runs in)."""

    def __init__(self) -> None:
        self._names: dict[int, str | None] = {}

    def name(self, sock: socket.socket, index: int) -> str | None:
        if index not in self._names:
            ifreq = struct.pack("16si20x", b"", index)
            try:
                got = fcntl.ioctl(sock.fileno(), _SIOCGIFNAME, ifreq)
                self._names[index] = got[:16].split(b"\0", 1)[0].decode() or None
            except OSError:
                self._names[index] = None
        return self._names[index]


def _ifindex(ancdata: list[tuple[int, int, bytes]]) -> int | None:
    for level, kind, data in ancdata:
        if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
            return int(_IN_PKTINFO.unpack(data[: _IN_PKTINFO.size])[0])
        if level == socket.IPPROTO_IPV6 and kind == IPV6_PKTINFO:
            return int(_IN6_PKTINFO.unpack(data[: _IN6_PKTINFO.size])[1])
    return None


def _probe_socket(vp: StandinVp, cmd: UdpprobeCommand, src: str) -> socket.socket:
    """A UDP socket of the VP's namespace, from ``src``, connected to the destination:
    the kernel then gives it only datagrams from the port probed, as a reply is."""
    sock = socket_in(vp.netns_pid, cmd.family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        if cmd.family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
        else:
            sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        sock.bind((src, 0))
        sock.connect((cmd.dst, cmd.dport))
    except OSError:
        sock.close()
        raise
    return sock


async def _collect(
    sock: socket.socket, probe: _Probe, ifnames: _Ifnames, answered: asyncio.Event
) -> None:
    """Every datagram that arrives on ``sock`` until cancelled, as ``probe``'s replies."""
    while True:
        try:
            data, ancdata, _flags, _addr = sock.recvmsg(65535, _ANCILLARY)
        except BlockingIOError:
            await _readable(sock)
            continue
        except OSError as exc:
            if exc.errno in _ICMP_ERRORS:  # an ICMP error for the probe: not a reply
                continue
            return  # the socket is unusable: nothing more will come
        index = _ifindex(ancdata)
        ifname = ifnames.name(sock, index) if index is not None else None
        probe.replies.append(_reply(_rx_time(ancdata), data, ifname))
        answered.set()


async def run_udpprobe(cmd: UdpprobeCommand, vp: StandinVp) -> UdpprobeData:
    """Perform ``cmd`` from ``vp``: every probe a real datagram, paced at the VP's rate.

    A task cancelled with :data:`.dns.HALT` (the user's ``halt``) stops where it is and
    still reports, with stop reason halted, as scamper does."""
    src = cmd.src or vp.source_for(cmd.family)  # udpprobe_for has settled it
    start = time.time()
    probes: list[_Probe] = []
    socks: list[socket.socket] = []
    readers: list[asyncio.Task[None]] = []
    ifnames = _Ifnames()
    answered = asyncio.Event()
    stop = STOP_DONE
    loop = asyncio.get_running_loop()
    try:
        for i in range(cmd.probe_count):
            sock = _probe_socket(vp, cmd, src)
            socks.append(sock)
            await vp.pacer.take(1)
            probe = _Probe(time.time(), sock.getsockname()[1])
            if i == 0:
                start = probe.tx
            probes.append(probe)
            readers.append(loop.create_task(_collect(sock, probe, ifnames, answered)))
            sock.send(cmd.payload)
            last = i == cmd.probe_count - 1
            until = probe.tx + (cmd.wait_timeout if last else cmd.wait_probe)
            if cmd.flags & FLAG_EXITFIRST:
                try:
                    await asyncio.wait_for(answered.wait(), max(0.0, until - time.time()))
                    break
                except TimeoutError:
                    continue
            await asyncio.sleep(max(0.0, until - time.time()))
    except OSError:
        stop = STOP_ERROR
    except asyncio.CancelledError as exc:
        if not halted(exc):
            raise
        stop = STOP_HALTED
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for sock in socks:
            sock.close()
    sport = probes[0].sport if cmd.probe_count == 1 and probes else 0
    return udpprobe_record(cmd, src, start, stop, probes, sport)
