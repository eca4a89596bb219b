"""The DNS stand-in: a ``host`` command performed by the lab, as modern scamper would.

The query and the reply are real packets: dnspython builds the query and
parses the reply, a socket made in the VP's network namespace
(:func:`scamperlab.emulation.netns.socket_in`) and bound to the VP's
address carries them, and the times are the socket's: the transmit time is
read just before the send, the receive time is the kernel's timestamp of
the reply (``SO_TIMESTAMPNS``), so a busy event loop does not add to the
RTT. The result is the warts host record modern scamper writes (the same
fields present, checked against the golden corpus): its resource records in
wire order, each query's DNS id, flags byte and rcode as received.

What the command line means follows scamper's host command: ``-R`` counts
retries (the module sends ``attempts`` there), ``-W`` is the wait per
query, ``-r`` clears recursion desired, ``-T`` uses TCP (without retries),
``-O nsid`` asks with EDNS for the server's NSID, ``-O subnet=`` sends an
EDNS client subnet; a name that is an address is asked for its PTR record.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import struct
import time
from dataclasses import dataclass
from typing import Any, TypeVar

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from scamperlab.mux.standin.vp import SO_TIMESTAMPNS, StandinRefused, StandinVp
from scamperlab.wire.tagging import command_userid
from scamperlab.wire.warts.addr import ScamperAddr
from scamperlab.wire.warts.host import (
    HostData,
    HostQueryData,
    HostRRData,
    MxData,
    RRValue,
    SoaData,
    TxtData,
)

__all__ = ["HostCommand", "host_for", "parse_host", "run_host"]

STOP_DONE, STOP_TIMEOUT, STOP_HALTED, STOP_ERROR = 1, 2, 3, 4
#: the cancel message of a task the user halted: its result is still due
HALT = "halt"
FLAG_NORECURSE, FLAG_TCP, FLAG_NSID = 0x0001, 0x0002, 0x0004
DNS_PORT = 53
_TIMESTAMP = struct.Struct("@qq")  # struct timespec, as SO_TIMESTAMPNS delivers it
_EDNS_PAYLOAD = 1232  # the flag-day value scamper and most resolvers use


@dataclass
class HostCommand:
    """A ``host`` command line, parsed as scamper reads it."""

    qname: str
    qtype: int
    qclass: int = dns.rdataclass.IN
    retries: int = 0
    wait: float = 5.0
    server: str | None = None
    userid: int = 0
    flags: int = 0
    ecs: str | None = None  # -O subnet=: the EDNS client subnet to send

    @property
    def ask(self) -> dns.name.Name:
        """The name put in the question: an address's reverse name for PTR."""
        if self.qtype == dns.rdatatype.PTR:
            try:
                return dns.name.from_text(ipaddress.ip_address(self.qname).reverse_pointer)
            except ValueError:
                pass
        return dns.name.from_text(self.qname)


def halted(exc: asyncio.CancelledError) -> bool:
    """Whether a prober's cancellation is the user's ``halt`` (the channel cancels with
    :data:`HALT`); if so the task is uncancelled, to report what it had so far."""
    task = asyncio.current_task()
    if HALT not in exc.args or task is None:
        return False
    task.uncancel()
    return True


def _duration(text: str) -> float:
    try:
        return float(text[:-1] if text.endswith("s") else text)
    except ValueError:
        raise StandinRefused(f"-W {text}: malformed timeout") from None


def _qtype(text: str) -> int:
    try:
        return int(text) if text.isdigit() else int(dns.rdatatype.from_text(text.upper()))
    except dns.exception.DNSException:
        raise StandinRefused(f"-t {text}: unsupported query type") from None


def _qclass(text: str) -> int:
    name = "CH" if text.upper() == "CHAOS" else text.upper()
    try:
        return int(dns.rdataclass.from_text(name))
    except dns.exception.DNSException:
        raise StandinRefused(f"-c {text}: unsupported query class") from None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def parse_host(line: str) -> HostCommand:
    """The command ``line`` (``host -t NS -W 1.0s lab.example``), or StandinRefused."""
    words = line.split()
    qtype: int | None = None
    cmd = HostCommand(qname="", qtype=0, userid=command_userid(line))
    i = 1
    valued = {"-c", "-R", "-s", "-t", "-U", "-W", "-O"}
    while i < len(words) and words[i].startswith("-"):
        opt = words[i]
        if opt in valued:
            if i + 1 >= len(words):
                raise StandinRefused(f"{opt} needs a value")
            value = words[i + 1]
            i += 2
        else:
            value = ""
            i += 1
        if opt == "-r":
            cmd.flags |= FLAG_NORECURSE
        elif opt == "-T":
            cmd.flags |= FLAG_TCP
        elif opt == "-c":
            cmd.qclass = _qclass(value)
        elif opt == "-t":
            qtype = _qtype(value)
        elif opt == "-R":
            if not value.isdigit() or int(value) > 3:
                raise StandinRefused(f"-R {value}: retries must be within 0 - 3")
            cmd.retries = int(value)
        elif opt == "-W":
            cmd.wait = _duration(value)
            if not 0 < cmd.wait <= 60:
                raise StandinRefused(f"-W {value}: timeout must be within 0 - 60 s")
        elif opt == "-s":
            if not _is_address(value):
                raise StandinRefused(f"-s {value}: server must be an address")
            cmd.server = value
        elif opt == "-O" and value == "nsid":
            cmd.flags |= FLAG_NSID
        elif opt == "-O" and value.startswith("subnet="):
            cmd.ecs = value.removeprefix("subnet=")
            try:
                dns.edns.ECSOption.from_text(cmd.ecs)
            except ValueError:
                raise StandinRefused(f"-O {value}: not a subnet") from None
        elif opt == "-U":
            continue  # read by command_userid
        else:
            raise StandinRefused(f"{opt} {value}".strip() + ": not done by the DNS stand-in")
    rest = words[i:]
    if len(rest) != 1:
        raise StandinRefused("expected one name to query")
    cmd.qname = rest[0]
    if qtype is None:
        qtype = dns.rdatatype.PTR if _is_address(cmd.qname) else dns.rdatatype.A
    elif qtype == dns.rdatatype.PTR and not _is_address(cmd.qname):
        raise StandinRefused("query must be for an IP address")
    cmd.qtype = qtype
    if cmd.flags & FLAG_TCP and cmd.retries:
        raise StandinRefused("no retry with TCP")
    return cmd


def host_for(line: str, vp: StandinVp) -> HostCommand:
    """``line`` parsed, its server settled: the VP's default nameserver unless ``-s``
    names one (scamper reads /etc/resolv.conf for it too)."""
    cmd = parse_host(line)
    if cmd.server is None:
        cmd.server = vp.resolver()
        if cmd.server is None:
            raise StandinRefused("no nameserver to query")
    vp.source_for(socket.AF_INET6 if ":" in cmd.server else socket.AF_INET)
    return cmd


# -- the record ----------------------------------------------------------------------


def _text(name: dns.name.Name) -> str:
    return "" if name == dns.name.root else name.to_text(omit_final_dot=True)


def _rrdata(rdata: dns.rdata.Rdata) -> RRValue:
    """An RR's data as the host record holds it; None for types it has no layout for."""
    if rdata.rdclass != dns.rdataclass.IN:
        return None
    rtype = rdata.rdtype
    if rtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        return ScamperAddr(str(rdata.address))  # type: ignore[attr-defined]
    if rtype in (dns.rdatatype.NS, dns.rdatatype.CNAME, dns.rdatatype.PTR):
        return _text(rdata.target)  # type: ignore[attr-defined]
    if rtype == dns.rdatatype.SOA:
        return _every_field(
            SoaData(
                mname=_text(rdata.mname),  # type: ignore[attr-defined]
                rname=_text(rdata.rname),  # type: ignore[attr-defined]
                serial=rdata.serial,  # type: ignore[attr-defined]
                refresh=rdata.refresh,  # type: ignore[attr-defined]
                retry=rdata.retry,  # type: ignore[attr-defined]
                expire=rdata.expire,  # type: ignore[attr-defined]
                minimum=rdata.minimum,  # type: ignore[attr-defined]
            ),
            7,
        )
    if rtype == dns.rdatatype.MX:
        mx = MxData(rdata.preference, _text(rdata.exchange))  # type: ignore[attr-defined]
        return _every_field(mx, 2)
    if rtype == dns.rdatatype.TXT:
        strings = [s.decode("utf-8", errors="replace") for s in rdata.strings]  # type: ignore[attr-defined]
        return _every_field(TxtData(len(strings), strings), 2)
    return None


_Data = TypeVar("_Data", SoaData, MxData, TxtData)


def _every_field(data: _Data, count: int) -> _Data:
    """Modern scamper writes every field of SOA, MX and TXT data (golden corpus)."""
    data._wflags = frozenset(range(1, count + 1))  # type: ignore[attr-defined]
    return data


def _present(*pairs: tuple[int, object]) -> frozenset[int]:
    """The flag ids of the fields modern scamper writes: those with a value."""
    return frozenset(fid for fid, value in pairs if value)


def _rrs(section: list[dns.rrset.RRset]) -> list[HostRRData]:
    out = []
    for rrset in section:  # one RR per RRset: the message was parsed in wire order
        for rdata in rrset:
            rr = HostRRData(rrset.rdclass, rrset.rdtype, _text(rrset.name), rrset.ttl)
            rr.data = _rrdata(rdata)
            rr._wflags = frozenset({1, 2, 3, 4, 5})  # type: ignore[attr-defined]
            out.append(rr)
    return out


def _opt_rr(reply: dns.message.Message) -> list[HostRRData]:
    """The OPT pseudo-RR of an EDNS reply, as the additional record it was on the wire
    (its data has no layout in the host record this codec knows, so it is left out)."""
    if reply.edns < 0:
        return []
    # The OPT TTL field: extended rcode (high bits), EDNS version, flags (RFC 6891).
    ttl = ((reply.rcode() >> 4) << 24) | (reply.edns << 16) | (reply.ednsflags & 0xFFFF)
    rr = HostRRData(reply.payload, dns.rdatatype.OPT, "", ttl)
    rr._wflags = frozenset({1, 2, 3, 4, 5})  # type: ignore[attr-defined]
    return [rr]


def _timeval(t: float) -> tuple[int, int]:
    sec, usec = divmod(round(t * 1e6), 1000000)
    return sec, usec


def _query_data(
    qid: int, tx: float, rx: float | None, reply: dns.message.Message | None
) -> HostQueryData:
    q = HostQueryData(tx=_timeval(tx), id=qid)
    if reply is not None and rx is not None:
        q.rx = _timeval(rx)
        q.an = _rrs(reply.answer)
        q.ns = _rrs(reply.authority)
        q.ar = _rrs(reply.additional) + _opt_rr(reply)
        q.ancount, q.nscount, q.arcount = len(q.an), len(q.ns), len(q.ar)
        q.rcode = reply.flags & 0xF
        q.flags = (reply.flags >> 4) & 0xFF  # scamper's byte: AA TC RD RA Z AD CD, bit 7 opcode
    q._wflags = _present(  # type: ignore[attr-defined]
        (1, q.tx),
        (2, q.rx),
        (3, q.id),
        (4, q.ancount),
        (5, q.nscount),
        (6, q.arcount),
        (7, q.rcode),
        (8, q.flags),
    )
    return q


def host_record(
    cmd: HostCommand, src: str, dst: str, start: float, stop: int, queries: list[HostQueryData]
) -> HostData:
    """The host record of ``cmd``'s queries, with the fields modern scamper writes."""
    h = HostData(
        userid=cmd.userid,
        src=ScamperAddr(src),
        dst=ScamperAddr(dst),
        start=_timeval(start),
        flags=cmd.flags,
        wait=round(cmd.wait * 1000),
        stop=stop,
        retries=cmd.retries,
        qtype=cmd.qtype,
        qclass=cmd.qclass,
        qname=cmd.qname,
        qcount=len(queries),
        ecs=cmd.ecs,
        queries=queries,
    )
    h._wflags = frozenset({1, 2}) | _present(  # type: ignore[attr-defined]
        (3, h.userid),
        (4, h.src),
        (5, h.dst),
        (6, h.start),
        (7, h.flags),
        (8, h.wait),
        (9, h.stop),
        (10, h.retries),
        (11, h.qtype),
        (12, h.qclass),
        (13, h.qname),
        (14, h.qcount),
        (15, h.ecs),
    )
    return h


# -- the queries -----------------------------------------------------------------------


def _make_query(cmd: HostCommand) -> dns.message.QueryMessage:
    options: list[dns.edns.Option] = []
    if cmd.flags & FLAG_NSID:
        options.append(dns.edns.GenericOption(dns.edns.OptionType.NSID, b""))
    if cmd.ecs is not None:
        options.append(dns.edns.ECSOption.from_text(cmd.ecs))
    query = dns.message.make_query(
        cmd.ask,
        dns.rdatatype.RdataType.make(cmd.qtype),
        dns.rdataclass.RdataClass.make(cmd.qclass),
        use_edns=0 if options else False,
        payload=_EDNS_PAYLOAD,
        options=options or None,
    )
    if cmd.flags & FLAG_NORECURSE:
        query.flags &= ~dns.flags.RD
    return query


def _rx_time(ancdata: list[tuple[int, int, bytes]]) -> float:
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = _TIMESTAMP.unpack(data[: _TIMESTAMP.size])
            return float(sec + nsec / 1e9)
    return time.time()


async def _readable(sock: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(sock.fileno(), wake)
    try:
        await ready
    finally:
        loop.remove_reader(sock.fileno())


async def _recv(sock: socket.socket, size: int) -> tuple[bytes, float, Any]:
    """One read from ``sock``: the data, the kernel's receive time of its first byte,
    and the sender's address."""
    while True:
        try:
            data, ancdata, _flags, addr = sock.recvmsg(size, socket.CMSG_SPACE(_TIMESTAMP.size))
        except BlockingIOError:
            await _readable(sock)
            continue
        return data, _rx_time(ancdata), addr


async def _udp_attempt(
    sock: socket.socket,
    query_server: str,
    query: dns.message.QueryMessage,
    wait: float,
    sent: list[tuple[int, float]],
) -> tuple[float, float | None, dns.message.Message | None]:
    wire = query.to_wire()
    server = ipaddress.ip_address(query_server)
    tx = time.time()
    sock.sendto(wire, (str(server), DNS_PORT))
    sent.append((query.id, tx))
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        try:
            data, rx, peer = await asyncio.wait_for(_recv(sock, 65535), left)
        except TimeoutError:
            break
        if ipaddress.ip_address(peer[0]) != server or peer[1] != DNS_PORT:
            continue  # not from the server asked: scamper ignores it too
        try:
            reply = dns.message.from_wire(data, one_rr_per_rrset=True, ignore_trailing=True)
        except dns.exception.DNSException:
            continue  # not a DNS message: what scamper ignores too
        if query.is_response(reply):
            return tx, rx, reply
    return tx, None, None


async def _tcp_attempt(
    sock: socket.socket,
    server: str,
    query: dns.message.QueryMessage,
    wait: float,
    sent: list[tuple[int, float]],
) -> tuple[float, float | None, dns.message.Message | None]:
    loop = asyncio.get_running_loop()
    wire = query.to_wire()
    tx = time.time()

    async def exchange() -> tuple[float, float | None, dns.message.Message | None]:
        nonlocal tx
        await loop.sock_connect(sock, (server, DNS_PORT))
        tx = time.time()
        await loop.sock_sendall(sock, struct.pack(">H", len(wire)) + wire)
        sent.append((query.id, tx))
        buf, rx, _peer = await _recv(sock, 65537)
        while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
            more, _rx, _peer = await _recv(sock, 65537)
            if not more:
                return tx, None, None
            buf += more
        size = struct.unpack(">H", buf[:2])[0]
        reply = dns.message.from_wire(buf[2 : 2 + size], one_rr_per_rrset=True)
        return tx, rx, reply if query.is_response(reply) else None

    try:
        return await asyncio.wait_for(exchange(), wait)
    except (TimeoutError, OSError, dns.exception.DNSException):
        return tx, None, None


#: packets a query over TCP sends from the VP: SYN, ACK, query, ACK of the reply, FIN
TCP_PACKETS = 5


async def run_host(cmd: HostCommand, vp: StandinVp) -> HostData:
    """Perform ``cmd`` from ``vp``: every attempt a real query, paced at the VP's rate.

    A task cancelled with :data:`HALT` (the user's ``halt``) stops where it is and
    still reports, with stop reason halted, as scamper does."""
    start = time.time()
    server = cmd.server or vp.resolver() or "0.0.0.0"  # host_for has settled it
    queries: list[HostQueryData] = []
    sent: list[tuple[int, float]] = []  # (DNS id, transmit time) of every query sent
    stop = STOP_TIMEOUT
    src = vp.source_for(socket.AF_INET6 if ":" in server else socket.AF_INET)
    tcp = bool(cmd.flags & FLAG_TCP)
    sock = vp.socket_to(server, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    try:
        if tcp:
            query = _make_query(cmd)
            await vp.pacer.take(TCP_PACKETS)
            tx, rx, reply = await _tcp_attempt(sock, server, query, cmd.wait, sent)
            queries.append(_query_data(query.id, tx, rx, reply))
            stop = STOP_DONE if reply is not None else STOP_TIMEOUT
        else:
            # Not connected, as scamper's is not: an ICMP error from the path does not
            # end the query, only the wait does.
            for _ in range(cmd.retries + 1):
                query = _make_query(cmd)
                await vp.pacer.take(1)
                tx, rx, reply = await _udp_attempt(sock, server, query, cmd.wait, sent)
                queries.append(_query_data(query.id, tx, rx, reply))
                if reply is not None:
                    stop = STOP_DONE
                    break
    except OSError:
        stop = STOP_ERROR
    except asyncio.CancelledError as exc:
        if not halted(exc):
            raise
        stop = STOP_HALTED
        answered = {q.id for q in queries}
        queries += [_query_data(qid, tx, None, None) for qid, tx in sent if qid not in answered]
    finally:
        sock.close()
    return host_record(cmd, src, server, start, stop, queries)
