"""Instances, tasks, VPs and mux connections: the objects a ``ScamperCtrl`` manages.

An instance is one attached scamper session, whatever carries it: a unix or
TCP control socket, an ``sc_remoted`` per-VP socket, or a channel of a mux
connection. They all carry the same text (see :mod:`.session`), so one
class handles all four and only the byte transport differs.
"""

from __future__ import annotations

import errno
import itertools
import socket
import struct
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scamperlab.scamper.errors import ScamperInstError
from scamperlab.scamper.results import ScamperCycle, ScamperList
from scamperlab.scamper.results._util import NoInit
from scamperlab.scamper.versions import needed_release
from scamperlab.scamper.warts import WartsDecoder, WartsError
from scamperlab.wire.control import Data, Err, More, Ok, SessionParser, SessionProtocolError
from scamperlab.wire.tagging import find_task, tag_command

if TYPE_CHECKING:
    from scamperlab.scamper.ctrl import ScamperCtrl

_handles = itertools.count(1)

# Commands whose wire userid scamperlab may replace with a unique tag, so that
# results of scamper versions that do not echo task ids (20211212) can still be
# matched to their task exactly; the user's userid is put back on the result.
# The mux does the same for clients that cannot (``scamperlab.mux.legacy``).


# ---------------------------------------------------------------------------
# transports


class SocketTransport:
    """A non-blocking stream socket with an output buffer."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.out = bytearray()
        self.closed = False

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, data: bytes) -> None:
        self.out += data
        self.flush()

    def flush(self) -> None:
        while self.out and not self.closed:
            try:
                sent = self.sock.send(self.out)
            except BlockingIOError:
                return
            except OSError:
                self.out.clear()
                return
            del self.out[:sent]

    def recv(self) -> bytes | None:
        """Bytes read, ``b""`` if nothing is ready, ``None`` at end of stream."""
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return b""
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                return b""
            return None
        return data or None

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.sock.close()


def connect_unix(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as exc:
        sock.close()
        raise RuntimeError(f"could not connect to {path}") from exc
    return sock


# ---------------------------------------------------------------------------
# VPs and mux connections


def _asn(value: str | None) -> int | str | None:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def _upper(value: str | None) -> str | None:
    return value.upper() if value is not None else None


class ScamperVp(NoInit):
    """A VP a mux announced; metadata normalised as CAIDA's module does."""

    __slots__ = ("_attrs", "_id", "_mux", "_tags")

    _mux: ScamperMux
    _id: int
    _attrs: dict[int, str]
    _tags: list[str]

    @classmethod
    def _create(
        cls, mux: ScamperMux, vp_id: int, attrs: dict[int, str], tags: list[str]
    ) -> ScamperVp:
        vp = cls._new()
        vp._mux, vp._id, vp._attrs, vp._tags = mux, vp_id, attrs, tags
        return vp

    def _key(self) -> tuple[int, int]:
        return (self._mux._handle, self._id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScamperVp) and self._key() == other._key()

    def __lt__(self, other: ScamperVp) -> bool:
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return self.name if self.name is not None else object.__repr__(self)

    def __repr__(self) -> str:
        return f"<ScamperVp {self.name}>"

    @property
    def name(self) -> str | None:
        return self._attrs.get(1)

    @property
    def shortname(self) -> str | None:
        return self._attrs.get(9, self.name)

    @property
    def tags(self) -> set[str]:
        return set(self._tags)

    @property
    def asn4(self) -> int | str | None:
        return _asn(self._attrs.get(4))

    @property
    def asn6(self) -> int | str | None:
        return _asn(self._attrs.get(13))

    @property
    def ipv4(self) -> str | None:
        return self._attrs.get(3)

    @property
    def ipv6(self) -> str | None:
        return self._attrs.get(12)

    @property
    def loc(self) -> tuple[float, float] | None:
        text = self._attrs.get(8)
        if text is None:
            return None
        parts = text.split(",")
        if len(parts) != 2:
            return None
        try:
            return (float(parts[0]), float(parts[1]))
        except ValueError:
            return None

    @property
    def iata(self) -> str | None:
        return _upper(self._attrs.get(11))

    @property
    def cc(self) -> str | None:
        return _upper(self._attrs.get(5))

    @property
    def st(self) -> str | None:
        return _upper(self._attrs.get(6))

    @property
    def place(self) -> str | None:
        return self._attrs.get(7)


class ScamperMux(NoInit):
    """One connection to a mux socket: its VP list and its channels."""

    __slots__ = (
        "_channels",
        "_handle",
        "_next_chan",
        "_order",
        "_path",
        "_reader",
        "_transport",
        "_vps",
    )

    _path: str
    _handle: int
    _transport: SocketTransport
    _reader: bytearray
    _vps: dict[int, tuple[dict[int, str], list[str]]]
    _order: list[int]
    _channels: dict[int, ScamperInst]
    _next_chan: int

    @classmethod
    def _connect(cls, path: str) -> ScamperMux:
        mux = cls._new()
        mux._path = path
        mux._handle = next(_handles)
        mux._reader = bytearray()
        mux._vps = {}
        mux._order = []
        mux._channels = {}
        mux._next_chan = 1
        sock = connect_unix(path)
        # Read VP announcements until "go", blocking (as the real module does).
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    raise RuntimeError(f"mux {path} closed before go")
                mux._reader += data
                if mux._drain_frames(stop_at_go=True):
                    break
        except OSError as exc:
            sock.close()
            raise RuntimeError(f"could not read from mux {path}: {exc}") from exc
        mux._transport = SocketTransport(sock)
        return mux

    def __eq__(self, other: object) -> bool:
        return self is other

    def __lt__(self, other: ScamperMux) -> bool:
        return self._handle < other._handle

    def __hash__(self) -> int:
        return self._handle

    def __str__(self) -> str:
        return self._path

    def vps(self) -> list[ScamperVp]:
        return [ScamperVp._create(self, i, *self._vps[i]) for i in self._order]

    def _drain_frames(self, stop_at_go: bool = False) -> bool:
        """Handle every complete frame buffered; True once *go* was seen (if asked to stop)."""
        while len(self._reader) >= 8:
            chan, length = struct.unpack_from(">II", self._reader)
            if len(self._reader) < 8 + length:
                break
            payload = bytes(self._reader[8 : 8 + length])
            del self._reader[: 8 + length]
            if chan != 0:
                inst = self._channels.get(chan)
                if inst is not None:
                    inst._on_bytes(payload)
                continue
            if len(payload) < 2:
                continue
            (kind,) = struct.unpack_from(">H", payload)
            if kind == 0 and len(payload) >= 6:
                self._on_update(struct.unpack_from(">I", payload, 2)[0], payload[6:])
            elif kind == 1 and len(payload) >= 6:
                vp_id = struct.unpack_from(">I", payload, 2)[0]
                if self._vps.pop(vp_id, None) is not None:
                    self._order.remove(vp_id)
            elif kind == 2 and stop_at_go:
                return True
            elif kind == 4 and len(payload) >= 6:
                inst = self._channels.pop(struct.unpack_from(">I", payload, 2)[0], None)
                if inst is not None:
                    inst._on_eof()
        return False

    def _on_update(self, vp_id: int, data: bytes) -> None:
        attrs: dict[int, str] = {}
        tags: list[str] = []
        pos = 0
        while pos + 2 <= len(data):
            (code,) = struct.unpack_from(">H", data, pos)
            end = data.find(b"\0", pos + 2)
            if end < 0:
                break
            value = data[pos + 2 : end].decode(errors="replace")
            pos = end + 1
            if code == 10:
                tags.append(value)
            else:
                attrs[code] = value
        if vp_id not in self._vps:
            self._order.append(vp_id)
        self._vps[vp_id] = (attrs, tags)

    def _open_channel(self, vp: ScamperVp) -> int:
        chan = self._next_chan
        self._next_chan += 1
        self._transport.send(struct.pack(">IIHII", 0, 10, 3, vp._id, chan))
        return chan

    def _send(self, chan: int, data: bytes) -> None:
        self._transport.send(struct.pack(">II", chan, len(data)) + data)

    def _on_readable(self) -> None:
        data = self._transport.recv()
        if data is None:
            self._transport.close()
            for inst in list(self._channels.values()):
                inst._on_eof()
            self._channels.clear()
            return
        self._reader += data
        self._drain_frames()


# ---------------------------------------------------------------------------
# tasks and instances


class ScamperTask(NoInit):
    """Handle of one asynchronous measurement."""

    __slots__ = (
        "_asked",
        "_dropped",
        "_error",
        "_expect",
        "_finished",
        "_halt",
        "_handle",
        "_id",
        "_inst",
        "_result",
        "_sync",
        "_tag",
        "_userid",
    )

    _handle: int
    _inst: ScamperInst
    _id: int | None
    _expect: str  # result class name, for attributing results that carry no task id
    _tag: int | None
    _userid: int
    _asked: str  # what its result will say it measured (tagging.asked_by)
    _sync: bool
    _finished: bool
    _dropped: bool
    _halt: bool
    _result: Any
    _error: BaseException | None

    @classmethod
    def _create(
        cls,
        inst: ScamperInst,
        expect: str,
        tag: int | None,
        userid: int,
        asked: str,
        sync: bool,
    ) -> ScamperTask:
        task = cls._new()
        task._handle = next(_handles)
        task._asked = asked
        task._inst, task._expect, task._tag, task._userid, task._sync = (
            inst,
            expect,
            tag,
            userid,
            sync,
        )
        task._id = None
        task._finished = task._dropped = task._halt = False
        task._result = None
        task._error = None
        return task

    def __eq__(self, other: object) -> bool:
        return self is other

    def __lt__(self, other: ScamperTask) -> bool:
        return self._handle < other._handle

    def __hash__(self) -> int:
        return self._handle

    def __str__(self) -> str:
        return f"<ScamperTask {self._handle}>"

    def halt(self) -> None:
        if self._finished or self._dropped:
            return
        self._halt = True
        if self._id is not None:
            self._inst._send_halt(self._id)


class ScamperInst(NoInit):
    """One attached scamper session."""

    __slots__ = (
        "_awaiting",
        "_ctrl",
        "_decoder",
        "_done",
        "_eof",
        "_eofcb_pending",
        "_handle",
        "_kind",
        "_libname",
        "_mux",
        "_mux_chan",
        "_name",
        "_open_tasks",
        "_parser",
        "_removed",
        "_resultc",
        "_tasks_by_id",
        "_transport",
        "_vp",
    )

    _ctrl: ScamperCtrl
    _kind: str
    _name: str | None
    _libname: str
    _vp: ScamperVp | None
    _transport: SocketTransport | None
    _mux: ScamperMux | None
    _mux_chan: int
    _parser: SessionParser
    _decoder: WartsDecoder
    _awaiting: deque[tuple[str, ScamperTask | None, str]]  # kind, task, command line
    _open_tasks: list[ScamperTask]
    _tasks_by_id: dict[int, ScamperTask]
    _done: bool
    _eof: bool
    _removed: bool
    _resultc: int
    _eofcb_pending: bool
    _handle: int

    @classmethod
    def _create(cls, ctrl: ScamperCtrl, kind: str, name: str | None, libname: str) -> ScamperInst:
        inst = cls._new()
        inst._ctrl, inst._kind, inst._name, inst._libname = ctrl, kind, name, libname
        inst._vp = None
        inst._transport = None
        inst._mux = None
        inst._mux_chan = 0
        inst._parser = SessionParser()
        inst._decoder = WartsDecoder()
        inst._awaiting = deque()
        inst._open_tasks = []
        inst._tasks_by_id = {}
        inst._done = inst._eof = inst._removed = inst._eofcb_pending = False
        inst._resultc = 0
        inst._handle = next(_handles)
        return inst

    # -- identity ---------------------------------------------------------

    def _key(self) -> int:
        return self._handle

    def __eq__(self, other: object) -> bool:
        return self is other

    def __lt__(self, other: ScamperInst) -> bool:
        if self._removed or other._removed:
            return NotImplemented
        return self._handle < other._handle

    def __hash__(self) -> int:
        return self._handle if not self._removed else id(self)

    def __str__(self) -> str:
        if self._removed:
            return None  # type: ignore[return-value]  # the real module's __str__ returns None here
        return self._libname

    def __repr__(self) -> str:
        return f"<ScamperInst {self._name}>"

    # -- VP metadata ---------------------------------------------------------

    @property
    def name(self) -> str | None:
        return self._name

    def _from_vp(self, attr: str) -> Any:
        return getattr(self._vp, attr) if self._vp is not None else None

    @property
    def shortname(self) -> str | None:
        return self._from_vp("shortname")  # type: ignore[no-any-return]

    @property
    def tags(self) -> set[str] | None:
        return self._from_vp("tags")  # type: ignore[no-any-return]

    @property
    def asn4(self) -> int | str | None:
        return self._from_vp("asn4")  # type: ignore[no-any-return]

    @property
    def asn6(self) -> int | str | None:
        return self._from_vp("asn6")  # type: ignore[no-any-return]

    @property
    def ipv4(self) -> str | None:
        return self._from_vp("ipv4")  # type: ignore[no-any-return]

    @property
    def ipv6(self) -> str | None:
        return self._from_vp("ipv6")  # type: ignore[no-any-return]

    @property
    def loc(self) -> tuple[float, float] | None:
        return self._from_vp("loc")  # type: ignore[no-any-return]

    @property
    def iata(self) -> str | None:
        return self._from_vp("iata")  # type: ignore[no-any-return]

    @property
    def cc(self) -> str | None:
        return self._from_vp("cc")  # type: ignore[no-any-return]

    @property
    def st(self) -> str | None:
        return self._from_vp("st")  # type: ignore[no-any-return]

    @property
    def place(self) -> str | None:
        return self._from_vp("place")  # type: ignore[no-any-return]

    @property
    def taskc(self) -> int:
        return sum(1 for t in self._open_tasks if not t._sync)

    @property
    def resultc(self) -> int:
        return self._resultc

    # -- state ------------------------------------------------------------------

    def done(self) -> None:
        if self._removed:
            raise ValueError("I/O operation on closed instance")
        if self._done or self._eof:
            self._done = True
            return
        self._done = True
        self._awaiting.append(("done", None, "done"))
        self._write(b"done\n")

    def is_done(self) -> bool:
        if self._removed:
            raise ValueError("I/O operation on closed instance")
        return self._done

    def is_eof(self) -> bool:
        return self._eof

    # -- sending ----------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        if self._eof:
            return
        if self._mux is not None:
            self._mux._send(self._mux_chan, data)
        elif self._transport is not None:
            self._transport.send(data)

    def _schedule(self, line: str, task: ScamperTask) -> None:
        if self._done:
            raise RuntimeError("could not schedule command: instance marked done")
        if task._tag is not None:
            line = tag_command(line, task._tag)
        self._open_tasks.append(task)
        self._awaiting.append(("cmd", task, line))
        self._write(line.encode() + b"\n")

    def _send_halt(self, task_id: int) -> None:
        self._awaiting.append(("halt", None, "halt"))
        self._write(f"halt {task_id}\n".encode())

    # -- receiving -----------------------------------------------------------------

    def _on_readable(self) -> None:
        assert self._transport is not None
        data = self._transport.recv()
        if data is None:
            self._on_eof()
        elif data:
            self._on_bytes(data)

    def _on_bytes(self, data: bytes) -> None:
        if self._eof:
            return
        try:
            events = self._parser.feed(data)
        except SessionProtocolError as exc:
            self._fatal(str(exc))
            return
        for event in events:
            if isinstance(event, Data):
                self._on_data(event)
            elif isinstance(event, Ok):
                self._on_ok(event)
            elif isinstance(event, Err):
                self._on_err(event)
            elif isinstance(event, More):
                self._ctrl._callback("more", self)

    def _on_ok(self, event: Ok) -> None:
        if not self._awaiting:
            return
        kind, task, _line = self._awaiting.popleft()
        if kind == "cmd" and task is not None and event.task_id is not None:
            task._id = event.task_id
            self._tasks_by_id[event.task_id] = task
            if task._halt:
                self._send_halt(event.task_id)

    def _on_err(self, event: Err) -> None:
        kind, task, line = self._awaiting.popleft() if self._awaiting else ("cmd", None, "")
        message = f"got err from {self._name}" + (f": {event.reason}" if event.reason else "")
        needed = needed_release(line) if kind == "cmd" else None
        if needed is not None:
            message += f" ({needed})"
        error = ScamperInstError(message, self)
        if kind == "cmd" and task is not None:
            self._drop(task)
            if task._sync:
                task._error = error
                return
        self._ctrl._exceptions.append(error)
        self._ctrl._callback("more", self)

    def _on_data(self, event: Data) -> None:
        try:
            obj = self._decoder.decode_record(event.record, self)
        except WartsError as exc:
            self._ctrl._exceptions.append(
                ScamperInstError(f"got fatal from {self._name}: {exc}", self)
            )
            return
        self._ctrl._write_outfile(obj, event.record)
        if event.in_progress:
            return
        task = self._tasks_by_id.pop(event.task_id, None) if event.task_id is not None else None
        if obj is None:
            if task is not None:
                self._drop(task)
            rtype = struct.unpack_from(">H", event.record, 2)[0] if len(event.record) >= 4 else -1
            self._ctrl._exceptions.append(RuntimeError(f"unexpected object type {rtype}"))
            return
        if isinstance(obj, ScamperList | ScamperCycle):
            if self._ctrl._meta:
                self._queue(obj)
            return
        if task is None:
            task = self._attribute(obj)
        if task is None:
            self._queue(obj)  # a result nobody asked for: still the user's data
            return
        if task._tag is not None and hasattr(obj, "_userid"):
            obj._userid = task._userid
        self._open_tasks.remove(task)
        if task._id is not None:
            self._tasks_by_id.pop(task._id, None)
        task._finished = True
        if task._sync:
            task._result = obj
        else:
            self._ctrl._taskc -= 1
            self._queue(obj)

    def _attribute(self, obj: Any) -> ScamperTask | None:
        """The task a result without a task id belongs to (scamper < 20230224).

        Tagged commands match exactly on their unique wire userid, others on what
        they measured; failing both, the oldest open untagged task of the type.
        """
        kind = type(obj).__name__
        candidates = [t for t in self._open_tasks if t._expect == kind]
        found = find_task(obj, candidates, lambda t: t._tag, lambda t: t._asked)
        if found is not None:
            return found
        untagged = [t for t in candidates if t._tag is None]
        return untagged[0] if untagged else None

    def _queue(self, obj: Any) -> None:
        self._resultc += 1
        self._ctrl._results.append((obj, self))

    def _drop(self, task: ScamperTask) -> None:
        if task in self._open_tasks:
            self._open_tasks.remove(task)
            if not task._sync:
                self._ctrl._taskc -= 1
        task._dropped = True

    def _fatal(self, message: str) -> None:
        self._ctrl._exceptions.append(
            ScamperInstError(f"got fatal from {self._name}: {message}", self)
        )
        self._on_eof()

    def _on_eof(self) -> None:
        if self._eof:
            return
        self._eof = True
        for task in list(self._open_tasks):
            self._drop(task)
            if task._sync and task._error is None:
                task._error = ScamperInstError(f"got fatal from {self._name}: disconnected", self)
        if self._transport is not None:
            self._transport.close()
        self._ctrl._on_inst_eof(self)

    def _close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        if self._mux is not None:
            self._mux._channels.pop(self._mux_chan, None)


Callback = Callable[[Any, ScamperInst, Any], Any]
