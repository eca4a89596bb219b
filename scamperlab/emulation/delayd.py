"""The userspace link-delay daemon: holds NFQUEUE'd packets and releases them on time.

Used where the kernel has no ``sch_netem``. In each lab node, iptables rules
send the packets crossing a delayed interface to an NFQUEUE (queue number =
the interface's index, one queue per interface; see ``delay.queue_rules``);
this one process binds every such queue in every node's network namespace (a
netlink socket belongs to the namespace it was created in, so it ``setns()``es
into each node to open one),
and gives each packet its ACCEPT verdict when the link's delay has passed, or
DROP at once for emulated loss. One process and one ``epoll`` serve the whole
lab, which is what keeps the CPU cost flat at 100+ links.

The netfilter-queue protocol is spoken directly over a netlink socket with
``struct`` rather than through ``libnetfilter_queue``: the part needed (bind a
queue, metadata-only copy mode, verdicts, batch verdicts) is five fixed-layout
messages, and doing it in-process avoids a C build dependency
(``NetfilterQueue`` from PyPI) or a ctypes layer whose per-packet callbacks
would cost more than the parsing they replace. Timers use a ``timerfd``
(through ctypes: Python 3.11 has no ``os.timerfd_*``) because ``epoll``'s own
timeout has millisecond granularity, which alone would add ~0.5 ms per hop.

Fail-safe: the rules use ``--queue-bypass``, so when this process is gone the
kernel lets packets through undelayed instead of dropping them; the lab
notices the death (the process is its child) and reports and restarts it.

Protocol on stdin/stdout, one JSON object per line:

- ``{"op": "bind", "node": NAME, "netns": PATH, "queues": {QNUM: PARAMS}}``
- ``{"op": "set", "node": NAME, "queue": QNUM, "delay": MS, "jitter": MS, "loss": PCT}``
- ``{"op": "stats"}`` -> per-queue packet, drop and lateness counters
- ``{"op": "ipid", "node": NAME, "netns": PATH, "queue": QNUM, "policy": P, "seed": N}``
  binds a router's IP-ID rewriter (see :class:`Rewriter`)

Each request gets one reply line, ``{"ok": true, ...}`` or ``{"error": TEXT}``.
EOF on stdin (the lab's process is gone) makes the daemon exit.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import heapq
import json
import os
import random
import select
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any

# netlink / nfnetlink_queue constants (linux/netfilter/nfnetlink_queue.h)
NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_NO_ENOBUFS = 5
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NFQNL_MSG_VERDICT_BATCH = 3
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_PAYLOAD = 10
NFQNL_COPY_PACKET = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQA_CFG_MASK = 4
NFQA_CFG_FLAGS = 5
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NFQA_CFG_F_GSO = 1 << 2
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
NF_DROP = 0
NF_ACCEPT = 1
CLONE_NEWNET = 0x40000000
CLOCK_MONOTONIC = 1
TFD_NONBLOCK = 0o4000
TFD_CLOEXEC = 0o2000000
TFD_TIMER_ABSTIME = 1
PR_SET_TIMERSLACK = 29

# A real queue drops on overflow; 100,000 packets is netem's limit in shaping.py.
QUEUE_MAXLEN = 100_000
# Never release a packet before it is due (a configured delay is a floor, which is what
# tests and users compare RTTs against); packets already due leave in one batch verdict.
RELEASE_SLACK = 0.0

# The C library is already in this process: no find_library, which runs ldconfig
# through a shell at every start.
_libc = ctypes.CDLL(None, use_errno=True)


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def setns(fd: int) -> None:
    _check(_libc.setns(fd, CLONE_NEWNET), "setns")


class TimerFd:
    """A CLOCK_MONOTONIC timerfd armed at absolute times (same clock as time.monotonic)."""

    def __init__(self) -> None:
        self.fd = _check(
            _libc.timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), "timerfd_create"
        )
        self.armed: float | None = None

    def arm(self, when: float) -> None:
        sec = int(when)
        nsec = max(1, int((when - sec) * 1e9))  # all-zero would disarm
        spec = _Itimerspec(_Timespec(0, 0), _Timespec(sec, nsec))
        _check(
            _libc.timerfd_settime(self.fd, TFD_TIMER_ABSTIME, ctypes.byref(spec), None),
            "timerfd_settime",
        )
        self.armed = when

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.read(self.fd, 8)
        self.armed = None


def _nlmsg(msg_type: int, flags: int, queue: int, attrs: bytes, seq: int = 0) -> bytes:
    # nlmsghdr (native endian) + nfgenmsg (family, version, res_id big-endian)
    body = struct.pack("!BBH", socket.AF_UNSPEC, 0, queue) + attrs
    return struct.pack("=IHHII", 16 + len(body), msg_type, flags, seq, 0) + body


def _attr(kind: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * ((4 - length % 4) % 4)


def _verdict(queue: int, packet_id: int, verdict: int, batch: bool) -> bytes:
    kind = NFQNL_MSG_VERDICT_BATCH if batch else NFQNL_MSG_VERDICT
    return _nlmsg(
        (NFNL_SUBSYS_QUEUE << 8) | kind,
        NLM_F_REQUEST,
        queue,
        _attr(NFQA_VERDICT_HDR, struct.pack("!II", verdict, packet_id)),
    )


def _verdict_with_payload(queue: int, packet_id: int, payload: bytes) -> bytes:
    return _nlmsg(
        (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT,
        NLM_F_REQUEST,
        queue,
        _attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, packet_id))
        + _attr(NFQA_PAYLOAD, payload),
    )


def ipv4_checksum(header: bytes | bytearray) -> int:
    total: int = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


@dataclass(eq=False)
class Rewriter:
    """One router's IP-ID policy, applied to every IPv4 packet the router originates.

    Linux draws the IP-ID of ICMP it sends from a hash of (source, destination,
    protocol), so two interfaces of one router look like two routers to
    ally/radargun/MIDAR. A real router's shared counter is what those
    techniques detect, so the lab stamps one deliberately:

    - ``shared``: one counter per router, +1 per packet, whichever address sends;
    - ``per-interface``: one counter per source address;
    - ``random``: a fresh random value per packet;
    - ``zero``: always 0.
    """

    node: str
    number: int
    sock: socket.socket
    policy: str
    rng: random.Random
    counter: int = 0
    counters: dict[bytes, int] = field(default_factory=dict)
    base: int | None = None  # per-interface: where the first interface's counter starts
    packets: int = 0

    def next_id(self, src: bytes) -> int:
        if self.policy == "shared":
            self.counter = (self.counter + 1) & 0xFFFF
            return self.counter
        if self.policy == "per-interface":
            if src not in self.counters:
                self.counters[src] = self._first_of_interface()
            value = (self.counters[src] + 1) & 0xFFFF
            self.counters[src] = value
            return value
        if self.policy == "random":
            return self.rng.getrandbits(16)
        return 0

    def _first_of_interface(self) -> int:
        """Where a new interface's counter starts: far from every other one's.

        Independent counters drawn at random start within ally's fudge (a few
        hundred) of each other once in a few hundred routers, and then pass for
        one shared counter: a false alias the ground truth says is not there.
        Spacing the starts by the golden section of 2**16 from one random base
        keeps any two thousands apart for a router's handful of interfaces.
        """
        if self.base is None:
            self.base = self.rng.getrandbits(16)
        return (self.base + len(self.counters) * 0x9E37) & 0xFFFF

    def rewrite(self, packet: bytearray) -> bool:
        """Stamp the IP-ID and fix the header checksum; False for anything not IPv4."""
        if len(packet) < 20 or packet[0] >> 4 != 4:
            return False
        ihl = (packet[0] & 0x0F) * 4
        if ihl < 20 or len(packet) < ihl:
            return False
        struct.pack_into("!H", packet, 4, self.next_id(bytes(packet[12:16])))
        struct.pack_into("!H", packet, 10, 0)
        struct.pack_into("!H", packet, 10, ipv4_checksum(packet[:ihl]))
        self.packets += 1
        return True


@dataclass
class Params:
    delay: float = 0.0  # ms
    jitter: float = 0.0  # ms
    loss: float = 0.0  # percent

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Params:
        return cls(
            float(raw.get("delay", 0.0)), float(raw.get("jitter", 0.0)), float(raw.get("loss", 0.0))
        )


@dataclass(eq=False)
class Queue:
    """One interface's egress: a FIFO of (release time, packet id)."""

    node: str
    number: int
    sock: socket.socket
    params: Params
    held: list[tuple[float, int]] = field(default_factory=list)
    head: int = 0  # index of the oldest held packet (a list with a moving head is a cheap deque)
    last_due: float = 0.0
    packets: int = 0
    dropped: int = 0
    late_max: float = 0.0
    late_sum: float = 0.0
    released: int = 0

    def __lt__(self, other: Queue) -> bool:  # heap tie-break only
        return id(self) < id(other)

    def stats(self) -> dict[str, Any]:
        return {
            "packets": self.packets,
            "dropped": self.dropped,
            "held": len(self.held) - self.head,
            "late_max_ms": round(self.late_max * 1e3, 3),
            "late_mean_ms": round(self.late_sum / self.released * 1e3, 4) if self.released else 0,
        }


class Holder:
    """The event loop: netlink sockets, one timerfd, stdin for control."""

    def __init__(self) -> None:
        self.epoll = select.epoll()
        self.timer = TimerFd()
        self.epoll.register(self.timer.fd, select.EPOLLIN)
        self.socks: dict[int, socket.socket] = {}
        self.queues: dict[tuple[int, int], Queue] = {}  # (socket fd, queue number)
        self.by_name: dict[tuple[str, int], Queue] = {}
        self.timers: list[tuple[float, Queue]] = []
        self.buf = bytearray(65536)
        self.stdin = b""
        self.host_ns = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        self.rng = random.Random()
        self.rewriters: dict[int, Rewriter] = {}  # by socket fd: one queue per socket

    def _netlink_in(self, netns: str) -> socket.socket:
        """A netfilter netlink socket in ``netns``: sockets belong to where they are made."""
        fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
        try:
            setns(fd)
            try:
                sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
            finally:
                setns(self.host_ns)
        finally:
            os.close(fd)
        sock.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE: root may exceed rmem_max
        sock.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)
        sock.bind((0, 0))
        return sock

    def bind_ipid(self, node: str, netns: str, queue: int, policy: str, seed: int) -> None:
        if policy not in ("shared", "per-interface", "random", "zero"):
            raise ValueError(f"unknown IP-ID policy {policy!r}")
        sock = self._netlink_in(netns)
        self._config(sock, queue, copy=NFQNL_COPY_PACKET)
        rng = random.Random(seed)
        rewriter = Rewriter(node, queue, sock, policy, rng, counter=rng.getrandbits(16))
        sock.setblocking(False)
        self.rewriters[sock.fileno()] = rewriter
        self.epoll.register(sock.fileno(), select.EPOLLIN)

    def receive_rewrite(self, rewriter: Rewriter) -> None:
        """Packets of an IP-ID queue get their verdict at once, with the rewritten header."""
        sock, buf = rewriter.sock, self.buf
        kind_packet = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET
        while True:
            try:
                n = sock.recv_into(buf, len(buf), socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    continue
                raise
            off = 0
            while off + 20 <= n:
                length, msg_type = struct.unpack_from("=IH", buf, off)
                if length < 20:
                    break
                if msg_type == kind_packet:
                    self._rewrite(rewriter, buf, off, length)
                off += (length + 3) & ~3

    def _rewrite(self, rewriter: Rewriter, buf: bytearray, off: int, length: int) -> None:
        pos, end = off + 20, off + length
        packet_id = None
        payload = None
        while pos + 4 <= end:
            alen, akind = struct.unpack_from("=HH", buf, pos)
            if alen < 4:
                break
            kind = akind & 0x3FFF
            if kind == NFQA_PACKET_HDR:
                (packet_id,) = struct.unpack_from("!I", buf, pos + 4)
            elif kind == NFQA_PAYLOAD:
                payload = bytearray(buf[pos + 4 : pos + alen])
            pos += (alen + 3) & ~3
        if packet_id is None:
            return
        if payload is not None and rewriter.rewrite(payload):
            rewriter.sock.send(_verdict_with_payload(rewriter.number, packet_id, bytes(payload)))
        else:
            rewriter.sock.send(_verdict(rewriter.number, packet_id, NF_ACCEPT, batch=False))

    # -- control ------------------------------------------------------------

    def bind(self, node: str, netns: str, queues: dict[str, dict[str, Any]]) -> None:
        sock = self._netlink_in(netns)
        for number, raw in queues.items():
            q = int(number)
            self._config(sock, q)
            queue = Queue(node, q, sock, Params.of(raw))
            self.queues[(sock.fileno(), q)] = queue
            self.by_name[(node, q)] = queue
        sock.setblocking(False)
        self.socks[sock.fileno()] = sock
        self.epoll.register(sock.fileno(), select.EPOLLIN)

    def _config(self, sock: socket.socket, queue: int, copy: int = NFQNL_COPY_META) -> None:
        kind = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG
        flags = NLM_F_REQUEST | NLM_F_ACK
        copy_range = 0xFFFF if copy == NFQNL_COPY_PACKET else 0
        messages = [
            _attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_BIND, 0)),
            _attr(NFQA_CFG_PARAMS, struct.pack("!IBxxx", copy_range, copy)[:5])
            + _attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", QUEUE_MAXLEN))
            # GSO: hand us super-packets whole; we never look at payloads.
            + _attr(NFQA_CFG_MASK, struct.pack("!I", NFQA_CFG_F_GSO))
            + _attr(NFQA_CFG_FLAGS, struct.pack("!I", NFQA_CFG_F_GSO)),
        ]
        for seq, attrs in enumerate(messages, 1):
            sock.send(_nlmsg(kind, flags, queue, attrs, seq))
            reply = sock.recv(8192)
            _, msg_type, _, _, _ = struct.unpack_from("=IHHII", reply)
            if msg_type == NLMSG_ERROR:
                (code,) = struct.unpack_from("=i", reply, 16)
                if code != 0:
                    raise OSError(-code, f"binding NFQUEUE {queue}: {os.strerror(-code)}")

    def set(self, node: str, queue: int, raw: dict[str, Any]) -> None:
        self.by_name[(node, queue)].params = Params.of(raw)

    def handle(self, line: bytes) -> dict[str, Any]:
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "bind":
                self.bind(req["node"], req["netns"], req["queues"])
                return {"ok": True}
            if op == "set":
                self.set(req["node"], int(req["queue"]), req)
                return {"ok": True}
            if op == "ipid":
                self.bind_ipid(
                    req["node"], req["netns"], int(req["queue"]), req["policy"], int(req["seed"])
                )
                return {"ok": True}
            if op == "stats":
                stats = {f"{q.node}/{q.number}": q.stats() for q in self.by_name.values()}
                ipid = {f"{r.node}/{r.number}": r.packets for r in self.rewriters.values()}
                return {"ok": True, "stats": stats, "ipid": ipid}
            return {"error": f"unknown op {op!r}"}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return {"error": str(exc)}

    def read_stdin(self) -> bool:
        try:
            data = os.read(0, 65536)
        except BlockingIOError:
            return True
        if not data:
            return False
        self.stdin += data
        while b"\n" in self.stdin:
            line, self.stdin = self.stdin.split(b"\n", 1)
            if line.strip():
                reply = json.dumps(self.handle(line)) + "\n"
                os.write(1, reply.encode())
        return True

    # -- packets ------------------------------------------------------------

    def receive(self, sock: socket.socket) -> None:
        fd = sock.fileno()
        buf = self.buf
        while True:
            try:
                n = sock.recv_into(buf, len(buf), socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    continue
                raise
            now = time.monotonic()
            off = 0
            while off + 20 <= n:
                length, msg_type = struct.unpack_from("=IH", buf, off)
                if length < 20:
                    break
                if msg_type == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                    self._packet(fd, buf, off, length, now)
                off += (length + 3) & ~3

    def _packet(self, fd: int, buf: bytearray, off: int, length: int, now: float) -> None:
        (queue_no,) = struct.unpack_from("!H", buf, off + 18)
        pos, end = off + 20, off + length
        packet_id = None
        while pos + 4 <= end:
            alen, akind = struct.unpack_from("=HH", buf, pos)
            if alen < 4:
                break
            if akind & 0x3FFF == NFQA_PACKET_HDR:
                (packet_id,) = struct.unpack_from("!I", buf, pos + 4)
                break
            pos += (alen + 3) & ~3
        queue = self.queues.get((fd, queue_no))
        if packet_id is None or queue is None:
            return
        queue.packets += 1
        p = queue.params
        if p.loss and self.rng.random() * 100.0 < p.loss:
            queue.dropped += 1
            queue.sock.send(_verdict(queue_no, packet_id, NF_DROP, batch=False))
            return
        delay = p.delay
        if p.jitter:
            delay = max(0.0, self.rng.gauss(delay, p.jitter))
        # FIFO: jitter varies the spacing but never reorders (one batch verdict per release).
        due = max(now + delay / 1e3, queue.last_due)
        queue.last_due = due
        if queue.head == len(queue.held):
            queue.held.clear()
            queue.head = 0
            heapq.heappush(self.timers, (due, queue))
        queue.held.append((due, packet_id))

    def release(self) -> None:
        now = time.monotonic()
        limit = now + RELEASE_SLACK
        timers = self.timers
        while timers and timers[0][0] <= limit:
            _, queue = heapq.heappop(timers)
            held, i = queue.held, queue.head
            last = None
            while i < len(held) and held[i][0] <= limit:
                due, last = held[i]
                late = now - due
                if late > queue.late_max:
                    queue.late_max = late
                queue.late_sum += late
                i += 1
            queue.released += i - queue.head
            queue.head = i
            if last is not None:
                queue.sock.send(_verdict(queue.number, last, NF_ACCEPT, batch=True))
            if i < len(held):
                heapq.heappush(timers, (held[i][0], queue))
            elif i > 4096:
                held.clear()
                queue.head = 0
        if timers and timers[0][0] != self.timer.armed:
            self.timer.arm(timers[0][0])

    def run(self) -> None:
        os.set_blocking(0, False)
        self.epoll.register(0, select.EPOLLIN | select.EPOLLHUP)
        timer_fd = self.timer.fd
        while True:
            for fd, _ in self.epoll.poll():
                if fd == timer_fd:
                    self.timer.drain()
                elif fd == 0:
                    if not self.read_stdin():
                        return
                elif fd in self.rewriters:
                    self.receive_rewrite(self.rewriters[fd])
                else:
                    self.receive(self.socks[fd])
            self.release()


def _realtime() -> bool:
    """Run at a real-time priority where allowed: on a busy machine, a normal-priority
    holder wakes milliseconds late, and every late wake-up is added to an RTT."""
    _libc.prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0)  # 1 ns instead of 50 us of timer slack
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    except (OSError, AttributeError):
        return False
    return True


def main() -> None:
    # The knob exists for benchmarks/delay.py, which measures what real-time priority buys.
    realtime = os.environ.get("SCAMPERLAB_DELAYD_REALTIME", "1") != "0" and _realtime()
    holder = Holder()
    os.write(
        1, (json.dumps({"ready": True, "pid": os.getpid(), "realtime": realtime}) + "\n").encode()
    )
    holder.run()


if __name__ == "__main__":
    main()
