"""One attached scamper session and its tasks: ``ScamperInst`` and ``ScamperTask``.

An instance is one attached scamper session, whatever carries it: a unix or
TCP control socket, an ``sc_remoted`` per-VP socket, or a channel of a mux
connection. They all carry the same text (:mod:`scamperlab.wire.control`),
so one :class:`Session` speaks it for all four; only the byte :class:`Link`
under it differs, and the controller chooses that.

The public classes keep CAIDA's surface and hold nothing but their state
object in one slot (:class:`Session`, :class:`TaskState`); the controller
reaches those through :func:`session_of` and :func:`task_state`, and a
session reports everything it learns to its controller's
:class:`~scamperlab.scamper.collector.Collector`.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol

from scamperlab.scamper.collector import Collector, Tally
from scamperlab.scamper.errors import ScamperInstError
from scamperlab.scamper.handles import next_handle
from scamperlab.scamper.results import ScamperCycle, ScamperList
from scamperlab.scamper.results._util import NoInit
from scamperlab.scamper.transport import SocketTransport
from scamperlab.scamper.versions import needed_release
from scamperlab.scamper.warts import WartsDecoder, WartsError
from scamperlab.wire.control import Data, Err, More, Ok, SessionParser, SessionProtocolError
from scamperlab.wire.tagging import asked_by, find_task, tag_command


class Link(Protocol):
    """What carries a session's bytes: a :class:`SocketTransport` or a mux channel."""

    def send(self, data: bytes) -> None: ...

    def close(self) -> None: ...


# ---------------------------------------------------------------------------
# tasks


class TaskState:
    """Where one measurement stands: sent, acknowledged (its id), answered, lost."""

    __slots__ = (
        "asked",
        "dropped",
        "error",
        "expect",
        "finished",
        "halt_wanted",
        "handle",
        "id",
        "result",
        "session",
        "sync",
        "tag",
        "userid",
    )

    def __init__(
        self, session: Session, expect: str, tag: int | None, userid: int, asked: str, sync: bool
    ) -> None:
        self.handle = next_handle()
        self.session = session
        self.id: int | None = None  # scamper's task id, once its OK says it
        self.expect = expect  # result class name, for attributing results without a task id
        self.tag = tag  # unique wire userid (tagging), if the command was tagged
        self.userid = userid  # the user's userid, put back on a tagged result
        self.asked = asked  # what its result will say it measured (tagging.asked_by)
        self.sync = sync
        self.finished = False
        self.dropped = False
        self.halt_wanted = False  # halted before scamper said its id
        self.result: Any = None  # a synchronous task's result
        self.error: BaseException | None = None  # why a synchronous task failed

    def halt(self) -> None:
        if self.finished or self.dropped:
            return
        self.halt_wanted = True
        if self.id is not None:
            self.session.send_halt(self.id)


class ScamperTask(NoInit):
    """Handle of one asynchronous measurement."""

    __slots__ = ("_state",)

    _state: TaskState

    def __eq__(self, other: object) -> bool:
        return self is other

    def __lt__(self, other: ScamperTask) -> bool:
        return self._state.handle < other._state.handle

    def __hash__(self) -> int:
        return self._state.handle

    def __str__(self) -> str:
        return f"<ScamperTask {self._state.handle}>"

    def halt(self) -> None:
        self._state.halt()


def task_state(task: ScamperTask) -> TaskState:
    """The state behind a task, for the controller waiting on a synchronous one."""
    return task._state


# ---------------------------------------------------------------------------
# sessions


class Session:
    """The protocol state of one attached session, behind its ``ScamperInst``."""

    def __init__(
        self,
        inst: ScamperInst,
        collector: Collector,
        name: str | None,
        libname: str,
        link: Link,
        vp: Any,
    ) -> None:
        self.inst = inst
        self.collector = collector
        self.handle = next_handle()
        self.tally = Tally(inst, self.handle)
        self.name = name
        self.libname = libname  # what str() says: the path or address the user gave
        self.link = link
        self.vp = vp  # the ScamperVp of a mux instance, whose metadata it reports
        self.parser = SessionParser()
        self.decoder = WartsDecoder()
        self.awaiting: deque[tuple[str, TaskState | None, str]] = deque()  # kind, task, line
        self.open_tasks: list[TaskState] = []
        self.tasks_by_id: dict[int, TaskState] = {}
        self.done = False  # the user said done: no more commands
        self.eof = False
        self.removed = False

    @property
    def transport(self) -> SocketTransport | None:
        """The socket the poll loop reads for this session; None on a mux (the mux's is read)."""
        return self.link if isinstance(self.link, SocketTransport) else None

    # -- sending ------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if not self.eof:
            self.link.send(data)

    def attach(self) -> None:
        """Ask a scamper control socket for an attached session (sc_remoted's are already)."""
        self.awaiting.append(("attach", None, "attach"))
        self.write(b"attach\n")

    def schedule(
        self, line: str, expect: str, tag: int | None, userid: int, sync: bool
    ) -> ScamperTask:
        task = TaskState(self, expect, tag, userid, asked_by(line), sync)
        if self.done:
            raise RuntimeError("could not schedule command: instance marked done")
        if tag is not None:
            line = tag_command(line, tag)
        self.open_tasks.append(task)
        self.awaiting.append(("cmd", task, line))
        self.write(line.encode() + b"\n")
        if not sync:
            self.collector.task_started()
        public = ScamperTask._new()
        public._state = task
        return public

    def send_halt(self, task_id: int) -> None:
        self.awaiting.append(("halt", None, "halt"))
        self.write(f"halt {task_id}\n".encode())

    def finish(self) -> None:
        """The user's ``done``: scamper ends the session once its tasks are answered."""
        if self.done or self.eof:
            self.done = True
            return
        self.done = True
        self.awaiting.append(("done", None, "done"))
        self.write(b"done\n")

    # -- receiving -------------------------------------------------------------------

    def on_readable(self) -> None:
        transport = self.transport
        if transport is None:
            return
        data = transport.recv()
        if data is None:
            self.on_eof()
        elif data:
            self.on_bytes(data)

    def on_bytes(self, data: bytes) -> None:
        if self.eof:
            return
        try:
            events = self.parser.feed(data)
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
                self.collector.more(self.inst)

    def _on_ok(self, event: Ok) -> None:
        if not self.awaiting:
            return
        kind, task, _line = self.awaiting.popleft()
        if kind == "cmd" and task is not None and event.task_id is not None:
            task.id = event.task_id
            self.tasks_by_id[event.task_id] = task
            if task.halt_wanted:
                self.send_halt(event.task_id)

    def _on_err(self, event: Err) -> None:
        kind, task, line = self.awaiting.popleft() if self.awaiting else ("cmd", None, "")
        message = f"got err from {self.name}" + (f": {event.reason}" if event.reason else "")
        needed = needed_release(line) if kind == "cmd" else None
        # A refusal that already names a release (scamperlab's mux knows the VP's
        # release and what it translated) is the truth: guessing from the line
        # would blame options the mux made fit.
        if needed is not None and not _names_a_release(event.reason):
            message += f" ({needed})"
        error = ScamperInstError(message, self.inst)
        if kind == "cmd" and task is not None:
            self.drop(task)
            if task.sync:
                task.error = error
                return
        self.collector.error(error)
        self.collector.more(self.inst)

    def _on_data(self, event: Data) -> None:
        try:
            obj = self.decoder.decode_record(event.record, self.inst)
        except WartsError as exc:
            self.collector.error(ScamperInstError(f"got fatal from {self.name}: {exc}", self.inst))
            return
        self.collector.record(obj, event.record)
        if event.in_progress:
            return
        task = self.tasks_by_id.pop(event.task_id, None) if event.task_id is not None else None
        if obj is None:
            if task is not None:
                self.drop(task)
            # a warts record's type is the 2 bytes after its magic
            rtype = int.from_bytes(event.record[2:4], "big") if len(event.record) >= 4 else -1
            self.collector.error(RuntimeError(f"unexpected object type {rtype}"))
            return
        if isinstance(obj, ScamperList | ScamperCycle):
            if self.collector.meta:
                self._queue(obj)
            return
        if task is None:
            task = self._attribute(obj)
        if task is None:
            self._queue(obj)  # a result nobody asked for: still the user's data
            return
        if task.tag is not None and hasattr(obj, "_userid"):
            # The result shows the wire tag; the user asked for their own userid.
            # The result classes have no setter (the real module's are C data).
            obj._userid = task.userid
        self.open_tasks.remove(task)
        if task.id is not None:
            self.tasks_by_id.pop(task.id, None)
        task.finished = True
        if task.sync:
            task.result = obj
        else:
            self.collector.task_ended()
            self._queue(obj)

    def _attribute(self, obj: Any) -> TaskState | None:
        """The task a result without a task id belongs to (scamper < 20230224).

        Tagged commands match exactly on their unique wire userid, others on what
        they measured; failing both, the oldest open untagged task of the type.
        """
        kind = type(obj).__name__
        candidates = [t for t in self.open_tasks if t.expect == kind]
        found = find_task(obj, candidates, lambda t: t.tag, lambda t: t.asked)
        if found is not None:
            return found
        untagged = [t for t in candidates if t.tag is None]
        return untagged[0] if untagged else None

    def _queue(self, obj: Any) -> None:
        self.collector.result(obj, self.tally)

    def drop(self, task: TaskState) -> None:
        """The task will get no result (error, end of stream, removal)."""
        if task in self.open_tasks:
            self.open_tasks.remove(task)
            if not task.sync:
                self.collector.task_ended()
        task.dropped = True

    def _fatal(self, message: str) -> None:
        self.collector.error(ScamperInstError(f"got fatal from {self.name}: {message}", self.inst))
        self.on_eof()

    def on_eof(self) -> None:
        """The session ended: its open tasks are lost, its link closed, its eofcb due."""
        if self.eof:
            return
        self.eof = True
        for task in list(self.open_tasks):
            self.drop(task)
            if task.sync and task.error is None:
                task.error = ScamperInstError(
                    f"got fatal from {self.name}: disconnected", self.inst
                )
        self.link.close()
        self.collector.ended(self.tally)

    def remove(self) -> None:
        """``ScamperCtrl.remove``: forget the session without an eofcb."""
        self.collector.detach(self.tally)
        for task in list(self.open_tasks):
            self.drop(task)
        self.link.close()
        self.removed = True


# ---------------------------------------------------------------------------
# the public instance


def _names_a_release(reason: str | None) -> bool:
    return reason is not None and ("needs scamper" in reason or "needs a scamper" in reason)


class ScamperInst(NoInit):
    """One attached scamper session."""

    __slots__ = ("_session",)

    _session: Session

    # -- identity ---------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        return self is other

    def __lt__(self, other: ScamperInst) -> bool:
        if self._session.removed or other._session.removed:
            return NotImplemented
        return self._session.handle < other._session.handle

    def __hash__(self) -> int:
        return self._session.handle if not self._session.removed else id(self)

    def __str__(self) -> str:
        if self._session.removed:
            return None  # type: ignore[return-value]  # the real module's __str__ returns None here
        return self._session.libname

    def __repr__(self) -> str:
        return f"<ScamperInst {self._session.name}>"

    # -- VP metadata ---------------------------------------------------------

    @property
    def name(self) -> str | None:
        return self._session.name

    def _from_vp(self, attr: str) -> Any:
        vp = self._session.vp
        return getattr(vp, attr) if vp is not None else None

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
        return sum(1 for t in self._session.open_tasks if not t.sync)

    @property
    def resultc(self) -> int:
        return self._session.tally.resultc

    # -- state ------------------------------------------------------------------

    def done(self) -> None:
        if self._session.removed:
            raise ValueError("I/O operation on closed instance")
        self._session.finish()

    def is_done(self) -> bool:
        if self._session.removed:
            raise ValueError("I/O operation on closed instance")
        return self._session.done

    def is_eof(self) -> bool:
        return self._session.eof


def new_instance(
    collector: Collector, name: str | None, libname: str, link: Link, vp: Any = None
) -> ScamperInst:
    """An instance over ``link``, attached to ``collector``'s controller."""
    inst = ScamperInst._new()
    inst._session = Session(inst, collector, name, libname, link, vp)
    collector.attach(inst._session.tally)
    return inst


def session_of(inst: ScamperInst) -> Session:
    """The session behind an instance: the controller's one way in."""
    return inst._session
