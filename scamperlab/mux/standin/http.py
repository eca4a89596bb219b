"""The HTTP and HTTPS stand-in: an ``http`` command performed by the lab, as modern scamper would.

Debian's scamper (20211212) has no ``http`` command. This prober fetches the
URL over a real TCP connection made in the VP's network namespace from the
VP's address (through TLS for ``https``, with Python's ``ssl`` on memory
buffers, so every byte of the handshake passes through this module and is
recorded as it went), and answers with the warts http record scamper
20260420 writes, field by field as in the golden corpus:

* the request scamper sends: ``GET <file> HTTP/1.1``, ``Host``, the user's
  ``User-Agent`` or scamper's, the user's ``Accept`` or ``*/*``, then the
  other ``-H`` headers in order; its buffer in the record ends with the NUL
  that scamper's buffer holds (the wire carries the request without it);
* the client half-closes (FIN) once the first bytes of the response are in,
  and reads until the server closes: stop reason done; no connection is
  noconn, the ``-m`` limit (default 60 s) timeout, a certificate that does
  not validate for the URL's host insecure (unless ``-O insecure``);
* TLS handshake bytes are ``tls`` buffers, each flight as sent and each read
  as received, until the handshake completes (scamper's last flight leaves
  with the request and is not recorded, so it is not here either); then
  the decrypted response, split into ``hdr`` and ``data`` at the blank line;
* ``sport`` holds the port the way 20260420 stores it: its network-order
  bytes read as a host-order number (scamper copies ``sin_port`` unconverted;
  CAIDA's module shows that number), so a stand-in's record matches a real
  one.

Times are the packets': a read's time is the kernel's receive time of its
data (``SO_TIMESTAMPNS``), ``hsrtt`` the kernel's measure of the handshake
(SYN to SYN-ACK, ``TCP_INFO``), so a busy event loop adds nothing. HTTPS
trusts what OpenSSL's default verify paths hold *in the VP's mount
namespace* (the lab bind-mounts its CA there), read through
``/proc/<pid>/root``, as modern scamper in that VP would.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
import ssl
import struct
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from scamperlab.emulation.netns import default_ca_file
from scamperlab.mux.standin.dns import halted
from scamperlab.mux.standin.vp import SO_TIMESTAMPNS, StandinRefused, StandinVp
from scamperlab.wire.tagging import command_userid
from scamperlab.wire.warts.addr import ScamperAddr
from scamperlab.wire.warts.http import (
    BUF_DATA,
    BUF_HDR,
    BUF_TLS,
    DIR_RX,
    DIR_TX,
    TYPE_HTTP,
    TYPE_HTTPS,
    HttpBufData,
    HttpData,
)

__all__ = ["HttpCommand", "http_for", "parse_http", "run_http"]

STOP_HALTED, STOP_NOCONN, STOP_DONE, STOP_ERROR, STOP_TIMEOUT, STOP_INSECURE = 1, 2, 3, 4, 5, 6
FLAG_INSECURE = 0x0001
#: what scamper names itself in a request's User-Agent (the release whose record this is)
USER_AGENT = "scamper/20260420"
_DEFAULT_MAXTIME = 60.0
_TIMESTAMP = struct.Struct("@qq")
_TCPI_RTT = struct.Struct("@I")  # tcp_info.tcpi_rtt, microseconds
_TCPI_RTT_AT = 68  # its offset: 8 bytes of u8 fields, then 15 u32 before it
_READ = 8191  # scamper's read size
_MSS = 1448  # a full segment's payload on the lab's 1500-byte links, with timestamps
#: the packets a fetch sends at least, paid for before its SYN: SYN, ACK, request, the
#: ACK of the response, FIN, the ACK of the server's FIN; and HTTPS's ClientHello, the
#: ACK of the server's flight and the client's second flight
PREPAID_HTTP, PREPAID_HTTPS = 6, 9


@dataclass
class HttpCommand:
    """An ``http`` command line, parsed as scamper reads it."""

    dst: str
    type: int
    host: str
    file: str
    dport: int
    headers: list[str] = field(default_factory=list)
    maxtime: float = _DEFAULT_MAXTIME
    flags: int = 0
    userid: int = 0

    @property
    def insecure(self) -> bool:
        return bool(self.flags & FLAG_INSECURE)

    def request(self) -> bytes:
        """The request header block scamper sends for this command."""
        ua = next((h for h in self.headers if h[:11].lower() == "user-agent:"), None)
        acc = next((h for h in self.headers if h[:7].lower() == "accept:"), None)
        lines = [f"GET {self.file} HTTP/1.1", f"Host: {self.host}"]
        lines.append(ua or f"User-Agent: {USER_AGENT}")
        lines.append(acc or "Accept: */*")
        lines += [h for h in self.headers if h not in (ua, acc)]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def _words(line: str) -> list[str]:
    """``line`` split as the module quotes it: a word in single quotes may hold spaces
    and ``\\'``, and ends at a quote followed by a blank or the end of the line."""
    out: list[str] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        if line[i] != "'":
            j = i
            while j < n and not line[j].isspace():
                j += 1
            out.append(line[i:j])
            i = j
            continue
        word: list[str] = []
        i += 1
        while i < n:
            if line.startswith("\\'", i):
                word.append("'")
                i += 2
            elif line[i] == "'" and (i + 1 == n or line[i + 1].isspace()):
                i += 1
                break
            else:
                word.append(line[i])
                i += 1
        out.append("".join(word))
    return out


_HEADER_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")


def _valid_header(header: str) -> bool:
    name, colon, body = header.partition(":")
    if not colon or not _HEADER_NAME.fullmatch(name) or name.lower() == "host":
        return False
    body = body.lstrip(" ")
    return bool(body) and body.isprintable() and body.isascii()


def _maxtime(text: str) -> float:
    try:
        value = float(text[:-1] if text.endswith("s") else text)
    except ValueError:
        raise StandinRefused(f"-m {text} failed: malformed maximum runtime") from None
    if not 1 <= value <= 60:
        raise StandinRefused(f"-m {text} failed: maximum runtime must be within 1s - 60s")
    return value


def _url(url: str) -> tuple[int, str, str, int]:
    """(type, host, file, port) of ``url``: port 0 for the scheme's default."""
    try:
        parts = urlsplit(url)
        port = parts.port or 0
    except ValueError:
        raise StandinRefused("could not parse URL") from None
    if not parts.scheme or not parts.netloc or parts.hostname is None:
        raise StandinRefused("could not parse URL")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise StandinRefused("unhandled HTTP scheme")
    host = parts.netloc.rpartition("@")[2]
    if parts.port is not None:
        host = host.rsplit(":", 1)[0]
    file = parts.path or "/"
    if parts.query:
        file += "?" + parts.query
    return (TYPE_HTTPS if scheme == "https" else TYPE_HTTP), host, file, port


def parse_http(line: str) -> HttpCommand:
    """The command ``line`` (``http -m 5.0s -u 'https://www.lab.example/' 203.0.113.80``),
    or StandinRefused with scamper's reason."""
    words = _words(line)
    url: str | None = None
    headers: list[str] = []
    maxtime, flags = _DEFAULT_MAXTIME, 0
    i = 1
    while i < len(words) and words[i].startswith("-") and len(words[i]) == 2:
        opt = words[i]
        if opt not in ("-H", "-m", "-O", "-u", "-U"):
            raise StandinRefused(f"{opt}: not an option of http")
        if i + 1 >= len(words):
            raise StandinRefused(f"{opt} needs a value")
        value = words[i + 1]
        i += 2
        if opt == "-H":
            if not _valid_header(value):
                raise StandinRefused(f"-H {value} failed: invalid HTTP header")
            headers.append(value)
        elif opt == "-m":
            maxtime = _maxtime(value)
        elif opt == "-O":
            if value.lower() != "insecure":
                raise StandinRefused(f"-O {value} failed: -O {value} unknown")
            flags |= FLAG_INSECURE
        elif opt == "-u":
            url = value
    rest = words[i:]
    if len(rest) != 1:
        raise StandinRefused("expected address to connect to")
    if url is None:
        raise StandinRefused("missing URL parameter")
    if len(headers) > 255:
        raise StandinRefused("cannot provide more than 255 headers")
    kind, host, file, port = _url(url)
    try:
        dst = str(ipaddress.ip_address(rest[0]))
    except ValueError:
        raise StandinRefused("invalid destination address") from None
    dport = port or (443 if kind == TYPE_HTTPS else 80)
    return HttpCommand(dst, kind, host, file, dport, headers, maxtime, flags, command_userid(line))


def http_for(line: str, vp: StandinVp) -> HttpCommand:
    """``line`` parsed, and the VP able to reach its destination's address family."""
    cmd = parse_http(line)
    vp.source_for(socket.AF_INET6 if ":" in cmd.dst else socket.AF_INET)
    return cmd


# -- trust -------------------------------------------------------------------------------

_contexts: dict[tuple[int, str, int], ssl.SSLContext] = {}


def tls_context(vp: StandinVp, insecure: bool) -> ssl.SSLContext:
    """A client context that trusts what OpenSSL's default CA file holds in the VP's
    mount namespace (kept while that file is unchanged); no checks when ``insecure``."""
    if insecure:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    ca = default_ca_file()
    path = f"/proc/{vp.netns_pid}/root{ca}" if ca else ""
    try:
        stamp = os.stat(path).st_mtime_ns if path else 0
    except OSError:
        path, stamp = "", 0
    key = (vp.netns_pid, path, stamp)
    known = _contexts.get(key)
    if known is not None:
        return known
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the chain and the host name
    if path:
        ctx.load_verify_locations(cafile=path)
    if len(_contexts) >= 64:  # a lab's VPs all share one bundle: few ever differ
        _contexts.clear()
    _contexts[key] = ctx
    return ctx


# -- the exchange ------------------------------------------------------------------------


def _timeval(t: float) -> tuple[int, int]:
    sec, usec = divmod(round(t * 1e6), 1000000)
    return sec, usec


def _rx_time(ancdata: list[tuple[int, int, bytes]]) -> float:
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = _TIMESTAMP.unpack(data[: _TIMESTAMP.size])
            return float(sec + nsec / 1e9)
    return time.time()


class _Done(Exception):
    """The exchange ended with a stop reason."""

    def __init__(self, stop: int) -> None:
        super().__init__(stop)
        self.stop = stop


class _Exchange:
    """One fetch on one socket: what it sent and received, as the record's buffers."""

    def __init__(self, cmd: HttpCommand, vp: StandinVp, sock: socket.socket) -> None:
        self.cmd, self.vp, self.sock = cmd, vp, sock
        self.loop = asyncio.get_running_loop()
        self.bufs: list[HttpBufData] = []
        self.hsrtt = 0
        self.deadline = 0.0
        self._eoh = b""  # the last bytes of the header block so far, to find its end
        self._in_body = False
        self._half_closed = False
        self._tls: ssl.SSLObject | None = None
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self.prepaid = 0  # packets paid for before the SYN, not yet sent

    async def spend(self, packets: int) -> None:
        """Account for ``packets``: from what was paid ahead, then from the VP's pacer."""
        ahead = min(packets, self.prepaid)
        self.prepaid -= ahead
        if packets > ahead:
            await self.vp.pacer.take(packets - ahead)

    def buf(self, direction: int, kind: int, t: float, data: bytes) -> None:
        b = HttpBufData(direction, kind, _timeval(t), len(data), data)
        b._wflags = frozenset(  # type: ignore[attr-defined]
            ({1} if direction or kind else set()) | {2} | ({3, 4} if data else set())
        )
        self.bufs.append(b)

    def left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Done(STOP_TIMEOUT)
        return left

    async def connect(self) -> None:
        try:
            await asyncio.wait_for(
                self.loop.sock_connect(self.sock, (self.cmd.dst, self.cmd.dport)), self.left()
            )
        except TimeoutError:
            raise _Done(STOP_TIMEOUT) from None
        except OSError:
            raise _Done(STOP_NOCONN) from None
        info = self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        if len(info) >= _TCPI_RTT_AT + _TCPI_RTT.size:
            self.hsrtt = max(1, _TCPI_RTT.unpack_from(info, _TCPI_RTT_AT)[0])

    async def _readable(self) -> None:
        ready: asyncio.Future[None] = self.loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        fd = self.sock.fileno()
        self.loop.add_reader(fd, wake)
        try:
            await asyncio.wait_for(ready, self.left())
        except TimeoutError:
            raise _Done(STOP_TIMEOUT) from None
        finally:
            self.loop.remove_reader(fd)

    async def recv(self) -> tuple[bytes, float]:
        """One read from the socket (empty at the server's FIN) and its receive time."""
        while True:
            try:
                data, anc, _flags, _addr = self.sock.recvmsg(
                    _READ, socket.CMSG_SPACE(_TIMESTAMP.size)
                )
            except BlockingIOError:
                await self._readable()
                continue
            except OSError:
                raise _Done(STOP_ERROR) from None
            # What the kernel sends for it, at most: an ACK per two full segments (one at
            # least), or the ACK of the server's FIN. Counted high, so the VP's rate holds.
            await self.spend(1 + len(data) // (2 * _MSS))
            return data, _rx_time(anc)

    async def send(self, data: bytes) -> None:
        await self.spend(1)
        try:
            await asyncio.wait_for(self.loop.sock_sendall(self.sock, data), self.left())
        except TimeoutError:
            raise _Done(STOP_TIMEOUT) from None
        except OSError:
            raise _Done(STOP_ERROR) from None

    async def handshake(self) -> None:
        ctx = tls_context(self.vp, self.cmd.insecure)
        host = self.cmd.host.strip("[]")
        self._tls = ctx.wrap_bio(self._incoming, self._outgoing, server_hostname=host)
        while True:
            try:
                self._tls.do_handshake()
                return  # its last flight leaves with the request, as scamper's does
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLCertVerificationError:
                raise _Done(STOP_INSECURE) from None
            except ssl.SSLError:
                raise _Done(STOP_ERROR) from None
            flight = self._outgoing.read()
            if flight:
                self.buf(DIR_TX, BUF_TLS, time.time(), flight)
                await self.send(flight)
            data, rx = await self.recv()
            if not data:
                raise _Done(STOP_ERROR)
            self.buf(DIR_RX, BUF_TLS, rx, data)
            self._incoming.write(data)

    async def request(self) -> None:
        req = self.cmd.request()
        self.buf(DIR_TX, BUF_HDR, time.time(), req + b"\0")
        if self._tls is None:
            await self.send(req)
            return
        self._tls.write(req)
        await self.send(self._outgoing.read())

    def payload(self, data: bytes, rx: float) -> None:
        """Response bytes: header buffers until the blank line, data after it."""
        if self._in_body:
            self.buf(DIR_RX, BUF_DATA, rx, data)
            return
        seen = self._eoh + data
        at = seen.find(b"\r\n\r\n")
        if at < 0:
            self._eoh = seen[-3:]
            self.buf(DIR_RX, BUF_HDR, rx, data)
            return
        cut = at + 4 - len(self._eoh)
        self._in_body = True
        self.buf(DIR_RX, BUF_HDR, rx, data[:cut])
        if cut < len(data):
            self.buf(DIR_RX, BUF_DATA, rx, data[cut:])

    async def response(self) -> None:
        while True:
            data, rx = await self.recv()
            if not data:
                raise _Done(STOP_DONE)
            if self._tls is None:
                plain = [data]
            else:
                self._incoming.write(data)
                plain = []
                try:
                    while chunk := self._tls.read(_READ):
                        plain.append(chunk)
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLZeroReturnError:
                    for chunk in plain:
                        self.payload(chunk, rx)
                    raise _Done(STOP_DONE) from None
                except ssl.SSLError:
                    raise _Done(STOP_ERROR) from None
            for chunk in plain:
                if not self._half_closed:
                    # scamper shuts its side once the response has begun
                    self._half_closed = True
                    self.sock.shutdown(socket.SHUT_WR)
                    await self.spend(1)  # the FIN
                self.payload(chunk, rx)


def http_record(
    cmd: HttpCommand, src: str, sport: int, start: float, stop: int, ex: _Exchange | None
) -> HttpData:
    """The http record of ``cmd``'s exchange, with the fields scamper 20260420 writes."""
    bufs = ex.bufs if ex is not None else []
    h = HttpData(
        userid=cmd.userid,
        src=ScamperAddr(src),
        dst=ScamperAddr(cmd.dst),
        sport=socket.htons(sport),  # as 20260420 stores it (see the module's docstring)
        dport=cmd.dport,
        start=_timeval(start),
        stop=stop,
        type=cmd.type,
        host=cmd.host,
        file=cmd.file,
        headers=list(cmd.headers) or None,
        bufc=len(bufs),
        hsrtt=ex.hsrtt if ex is not None else 0,
        flags=cmd.flags,
        maxtime=_timeval(cmd.maxtime),
        bufs=bufs,
    )
    default_port = 443 if cmd.type == TYPE_HTTPS else 80
    h._wflags = frozenset({1, 2, 4, 5, 8, 9, 11, 12, 17}) | {  # type: ignore[attr-defined]
        fid
        for fid, present in (
            (3, h.userid),
            (6, h.sport),
            (7, h.dport != default_port),
            (10, h.type),
            (13, h.headers),
            (14, h.bufc),
            (15, h.hsrtt),
            (16, h.flags),
        )
        if present
    }
    return h


async def run_http(cmd: HttpCommand, vp: StandinVp) -> HttpData:
    """Perform ``cmd`` from ``vp``: one real fetch, paced at the VP's rate.

    A task cancelled with :data:`~scamperlab.mux.standin.dns.HALT` (the user's
    ``halt``) stops where it is and still reports, halted, as scamper does."""
    src = vp.source_for(socket.AF_INET6 if ":" in cmd.dst else socket.AF_INET)
    start, sport, stop = time.time(), 0, STOP_ERROR
    ex: _Exchange | None = None
    sock: socket.socket | None = None
    try:
        prepaid = PREPAID_HTTPS if cmd.type == TYPE_HTTPS else PREPAID_HTTP
        await vp.pacer.take_burst(prepaid)
        start = time.time()
        sock = vp.socket_to(cmd.dst, socket.SOCK_STREAM)
        sport = sock.getsockname()[1]
        ex = _Exchange(cmd, vp, sock)
        ex.prepaid = prepaid - 2  # the SYN and the handshake's ACK
        ex.deadline = time.monotonic() + cmd.maxtime
        await ex.connect()
        if cmd.type == TYPE_HTTPS:
            await ex.handshake()
        await ex.request()
        await ex.response()
    except _Done as done:
        stop = done.stop
    except OSError:
        stop = STOP_ERROR
    except asyncio.CancelledError as exc:
        if not halted(exc):
            raise
        stop = STOP_HALTED
    finally:
        if sock is not None:
            sock.close()
    return http_record(cmd, src, sport, start, stop, ex)
