"""A mux socket served from a recording: no namespaces, no scamper, no root.

:class:`ReplayServer` speaks the same mux protocol as :mod:`scamperlab.mux.server`
(frames and control messages of :mod:`scamperlab.wire.mux`, the attached-mode
text of :mod:`scamperlab.wire.control`), so any client of a lab's mux, CAIDA's
module or scamperlab's, works against it unchanged. What it answers comes
from a :class:`~scamperlab.wire.recording.Recording`:

- each client connection sees the VPs of the recorded session of the same
  rank (the last one once they run out), with every attribute as recorded,
  then ``go``; later arrivals follow at their recorded time;
- a command on a channel is matched, in its normalised form
  (:func:`~scamperlab.wire.recording.normalise_command`), with the first
  exchange recorded on the same VP for the same command that this
  connection has not used yet; its reply and results are sent again with
  the task id of this channel (``OK id-<n>`` counts from 1 per channel, as
  scamper does) and the userid of this command written into each result;
- results follow their command after the recorded delay divided by
  ``speed`` (``math.inf``: at once), and in the recorded order, across
  channels too: a result also waits (up to :data:`HOLD` seconds) for the
  commands that the client had sent, live, before that result came; so an
  event-driven script sees its results in the order it saw them live;
- a command never recorded (or asked more often than recorded) is answered
  at once with an ``ERR`` naming the command, the VP and the nearest
  recorded commands, and reported to ``on_unrecorded``: never a hang;
- ``done`` ends the channel once its tasks are answered, with the
  recording's cycle-stop record and a *channel close*;
- a VP that departed in the recording departs again, once this connection
  has asked what the recording asked of it before it left and has had the
  answers that came before the departure (and no sooner than the recorded
  time divided by ``speed``); its open channels are closed, so tasks still
  outstanding on it fail as they did live.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import difflib
import functools
import logging
import math
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scamperlab.mux.unixserver import UnixSessions
from scamperlab.wire import mux as p
from scamperlab.wire.recording import Channel, Recording, Session, normalise_command
from scamperlab.wire.tagging import command_userid
from scamperlab.wire.uu import uuencode_object
from scamperlab.wire.warts.decoder import StreamDecoder
from scamperlab.wire.warts.errors import WartsError
from scamperlab.wire.warts.records import HEADER_LEN, META_TYPES, T_CYCLE_STOP, record_type

log = logging.getLogger(__name__)
_READ_SIZE = 65536
_OK_ID = re.compile(r"^OK id-(\d+)")
_NEAREST = 3
#: Seconds a due result waits at most for commands recorded before it (see ``flush``).
HOLD = 2.0


@dataclass
class _Result:
    at: float  # when it came, as recorded
    delay: float  # seconds after its command was sent, as recorded
    record: bytes
    userid_at: int | None  # offset of the userid field in the record, if it has one
    task: bool  # the DATA line carried the task's id


@dataclass(eq=False)  # one exchange is itself, whatever another's fields hold
class Exchange:
    """One recorded command on one VP and everything that answered it."""

    index: int  # unique in the script
    vp: str
    session: int  # rank of the recorded session
    sent_at: float
    command: str  # as the client sent it
    key: str  # normalised
    reply: str  # "OK id-3" or "ERR ..."
    more_after: int = 0
    results: list[_Result] = field(default_factory=list)
    answered_at: float | None = None  # when its last result came, as recorded


@dataclass
class _ChannelScript:
    prelude: list[str | bytes] = field(default_factory=list)  # lines and records on open
    ending: list[bytes] = field(default_factory=list)  # records after done's tasks


@dataclass
class ReplayScript:
    """A recording cut into what a replay serves: VP timelines, exchanges, channel shapes."""

    sessions: list[Session]
    vp_keys: dict[tuple[int, int], str]  # (session rank, mux id) -> VP name (or address)
    exchanges: dict[str, list[Exchange]]  # VP name -> exchanges in recorded order
    channels: dict[str, list[_ChannelScript]]  # VP name -> one per recorded channel
    #: (VP, normalised command) -> its exchanges, in recorded order
    by_key: dict[tuple[str, str], list[Exchange]] = field(default_factory=dict)
    #: recorded session -> its exchanges that were answered, by the time they were sent
    answered: dict[int, list[Exchange]] = field(default_factory=dict)

    @classmethod
    def from_recording(cls, recording: Recording) -> ReplayScript:
        script = cls(recording.sessions, {}, {}, {})
        for rank, session in enumerate(recording.sessions):
            for event in session.events:
                if event.kind == "vp" and event.vp is not None:
                    script.vp_keys[(rank, event.vp)] = _vp_key(event.vp, event.attrs)
            for chan in session.channels:
                script._add_channel(rank, chan)
        for items in script.exchanges.values():
            items.sort(key=lambda e: (e.session, e.sent_at))
        for items in script.exchanges.values():
            for exchange in items:
                script.by_key.setdefault((exchange.vp, exchange.key), []).append(exchange)
                if exchange.results:
                    script.answered.setdefault(exchange.session, []).append(exchange)
        for answered in script.answered.values():
            answered.sort(key=lambda e: e.sent_at)
        return script

    def vp_name(self, rank: int, vp_id: int) -> str:
        return self.vp_keys.get((rank, vp_id), f"VP id {vp_id}")

    def _add_channel(self, rank: int, chan: Channel) -> None:
        vp = self.vp_name(rank, chan.vp)
        shape = _ChannelScript()
        self.channels.setdefault(vp, []).append(shape)
        exchanges = self.exchanges.setdefault(vp, [])
        offsets = _userid_offsets(chan.records)
        pending = list(chan.sent)
        by_task: dict[int, Exchange] = {}
        last: Exchange | None = None
        for item in chan.received:
            if item.line is not None:
                if item.line == "MORE":
                    if last is None:
                        shape.prelude.append("MORE")
                    else:
                        last.more_after += 1
                    continue
                if not item.line.startswith(("OK", "ERR")) or not pending:
                    continue
                sent = pending.pop(0)
                word = sent.line.split()[0].lower()
                if word == "done":
                    last = None
                    continue
                if word == "halt":
                    continue
                last = Exchange(
                    index=sum(len(v) for v in self.exchanges.values()),
                    vp=vp,
                    session=rank,
                    sent_at=sent.t,
                    command=sent.line,
                    key=normalise_command(sent.line),
                    reply=item.line,
                )
                exchanges.append(last)
                m = _OK_ID.match(item.line)
                if m is not None:
                    by_task[int(m.group(1))] = last
                continue
            if item.record is None:
                continue
            record = chan.records[item.record]
            owner = by_task.get(item.task) if item.task is not None else None
            if owner is None and record_type(record) in META_TYPES:
                # Where scamper put them among the first replies varies from run to
                # run: the list and cycle records open the channel, cycle-stop ends it.
                if record_type(record) == T_CYCLE_STOP:
                    shape.ending.append(record)
                else:
                    shape.prelude.append(record)
            else:
                owner = owner or last
                if owner is None:
                    continue
                owner.results.append(
                    _Result(
                        item.t,
                        item.t - owner.sent_at,
                        record,
                        offsets[item.record],
                        item.task is not None,
                    )
                )
                owner.answered_at = item.t


def _vp_key(vp_id: int, attrs: tuple[tuple[int, str], ...]) -> str:
    fields = dict(attrs)
    for code in (p.Attr.NAME, p.Attr.IPV4, p.Attr.IPV6):
        if fields.get(code):
            return fields[code]
    return f"VP id {vp_id}"


def _userid_offsets(records: list[bytes]) -> list[int | None]:
    """Where each record of one stream holds its userid (lists and cycles decoded in order)."""
    decoder = StreamDecoder()
    offsets: list[int | None] = []
    for record in records:
        try:
            decoder.decode_record(record)
        except WartsError:
            offsets.append(None)
            continue
        at = decoder.userid_at
        offsets.append(None if at is None else at + HEADER_LEN)
    return offsets


def _data(record: bytes, task_id: int | None) -> bytes:
    payload = uuencode_object(record)
    head = b"DATA %d" % len(payload) + (b" id-%d" % task_id if task_id is not None else b"")
    return head + b"\n" + payload


#: (command, VP, message) for each command the recording could not answer
Unrecorded = Callable[[str, str, str], None]


class _ReplayChannel:
    def __init__(self, session: _ReplaySession, channel: int, vp_id: int, vp: str) -> None:
        self.session = session
        self.id = channel
        self.vp_id = vp_id
        self.vp = vp
        self.next_task = 1
        self.outstanding = 0
        self.done = False
        self.partial = b""
        shapes = session.server.script.channels.get(vp) or [_ChannelScript()]
        count = session.opened.get(vp, 0)
        session.opened[vp] = count + 1
        self.shape = shapes[min(count, len(shapes) - 1)]

    def start(self) -> None:
        for item in self.shape.prelude:
            self.send(item.encode() + b"\n" if isinstance(item, str) else _data(item, None))

    def send(self, text: bytes) -> None:
        self.session.send(p.frame(self.id, text))

    def feed(self, data: bytes) -> None:
        *lines, self.partial = (self.partial + data).split(b"\n")
        for raw in lines:
            line = raw.decode(errors="replace").rstrip("\r")
            if line.strip():
                self.command(line)

    def command(self, line: str) -> None:
        word = line.split()[0].lower()
        if word == "done":
            self.send(b"OK\n")
            self.done = True
            self.finish_if_done()
            return
        if word == "halt":
            self.send(b"OK\n")  # the recorded result follows as it did
            return
        session = self.session
        exchange, message = session.take(self.vp, line)
        if exchange is None:
            session.server.on_unrecorded(line, self.vp, message)
            self.send(f"ERR {message}\n".encode())
            return
        task_id: int | None = None
        if exchange.reply.startswith("OK"):
            if _OK_ID.match(exchange.reply):
                task_id, self.next_task = self.next_task, self.next_task + 1
                self.send(f"OK id-{task_id}\n".encode())
            else:
                self.send(exchange.reply.encode() + b"\n")
        else:
            self.send(exchange.reply.encode() + b"\n")
        self.send(b"MORE\n" * exchange.more_after)
        userid = command_userid(line)
        now = asyncio.get_running_loop().time()
        speed = session.server.speed
        if not exchange.results:
            session.delivered.add(exchange.index)
        for n, result in enumerate(exchange.results):
            record = result.record
            if result.userid_at is not None:
                record = (
                    record[: result.userid_at]
                    + struct.pack(">I", userid)
                    + record[result.userid_at + 4 :]
                )
            due = now + (0.0 if math.isinf(speed) else result.delay / speed)
            last = n == len(exchange.results) - 1
            self.outstanding += 1
            session.queue(
                _Pending(
                    (exchange.session, result.at, exchange.index, n),
                    due,
                    self,
                    _data(record, task_id if result.task else None),
                    exchange.index if last else None,
                )
            )

    def deliver(self, data: bytes, finished: int | None) -> None:
        self.outstanding -= 1
        if self.id not in self.session.channels:
            return
        self.send(data)
        if finished is not None:
            self.session.delivered.add(finished)
        self.finish_if_done()

    def finish_if_done(self) -> None:
        if not self.done or self.outstanding:
            return
        for record in self.shape.ending:
            self.send(_data(record, None))
        self.session.close_channel(self.id)


@dataclass
class _Pending:
    """A result waiting to be sent (see :meth:`_ReplaySession.flush`)."""

    order: tuple[int, float, int, int]  # recorded session, time, exchange, result
    due: float  # loop time
    channel: _ReplayChannel
    data: bytes
    finishes: int | None  # the exchange this, its last result, completes


class _ReplaySession:
    def __init__(
        self,
        server: ReplayServer,
        rank: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.server = server
        script = server.script
        self.rank = min(rank, len(script.sessions) - 1) if script.sessions else 0
        self.reader = reader
        self.writer = writer
        self.channels: dict[int, _ReplayChannel] = {}
        self.present: dict[int, str] = {}  # mux id -> VP name
        self.opened: dict[str, int] = {}  # VP name -> channels opened so far
        self.taken: set[int] = set()
        self.used: dict[tuple[str, str], int] = {}  # (VP, command) -> exchanges taken
        self.untaken = {k: list(v) for k, v in server.script.answered.items()}
        self.delivered: set[int] = set()
        self.departures: list[tuple[float, int]] = []  # (recorded time, mux id)
        self.pending: list[_Pending] = []  # in recorded order
        self.handles: list[asyncio.TimerHandle] = []
        self.started = 0.0

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    def later(self, at: float, call: Callable[[], None]) -> None:
        self.handles.append(asyncio.get_running_loop().call_at(at, call))

    def queue(self, item: _Pending) -> None:
        bisect.insort(self.pending, item, key=lambda p: p.order)
        self.later(item.due, self.flush)
        self.later(item.due + HOLD, self.flush)
        self.flush()

    def flush(self) -> None:
        """Send the results that are due, in the order they were recorded.

        A result waits for every result recorded before it that is queued,
        and for the commands that, live, the client had sent before it came
        and that were answered before it (:meth:`awaited`), but for those at
        most :data:`HOLD` seconds past its due time: a client that does not
        send them (a script that changed) gets its results all the same,
        only in another order.
        """
        now = asyncio.get_running_loop().time()
        sent_any = False
        while self.pending:
            head = self.pending[0]
            if head.due > now + 1e-4:
                break
            if now < head.due + HOLD and self.awaited(head.order):
                break
            self.pending.pop(0)
            head.channel.deliver(head.data, head.finishes)
            sent_any = True
        if sent_any:
            self.check_departures()

    def scaled(self, t: float) -> float:
        speed = self.server.speed
        return self.started + (0.0 if math.isinf(speed) else t / speed)

    async def run(self) -> None:
        self.started = asyncio.get_running_loop().time()
        timeline = self.server.script.sessions[self.rank] if self.server.script.sessions else None
        events = timeline.events if timeline is not None else []
        start = timeline.start if timeline is not None else 0.0
        after_go = False
        for event in events:
            if event.kind == "go":
                self.send(p.Go().encode())
                after_go = True
            elif event.kind == "vp" and event.vp is not None:
                update = p.VpUpdate(event.vp, event.attrs).encode()
                if after_go:
                    self.later(
                        self.scaled(event.t - start),
                        functools.partial(self.arrive, event.vp, update),
                    )
                else:
                    self.arrive(event.vp, update)
            elif event.kind == "departed" and event.vp is not None:
                self.departures.append((event.t, event.vp))
        if not after_go:
            self.send(p.Go().encode())
        for t, _vp in self.departures:
            self.later(self.scaled(t - start), self.check_departures)
        frames = p.FrameReader()
        try:
            while data := await self.reader.read(_READ_SIZE):
                for channel, payload in frames.feed(data):
                    if channel == 0:
                        self.control(payload)
                    elif (chan := self.channels.get(channel)) is not None:
                        chan.feed(payload)
                await self.writer.drain()
        except (ConnectionError, p.MuxProtocolError) as exc:
            log.info("replay: dropping client: %s", exc)
        finally:
            for handle in self.handles:
                handle.cancel()
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()

    def arrive(self, vp_id: int, update: bytes) -> None:
        self.present[vp_id] = self.server.script.vp_name(self.rank, vp_id)
        self.send(update)

    def control(self, payload: bytes) -> None:
        message = p.decode_control(payload)
        if not isinstance(message, p.ChannelOpen):
            return
        if message.channel == 0 or message.channel in self.channels:
            raise p.MuxProtocolError(f"channel {message.channel} is reserved or already open")
        vp = self.present.get(message.vp_id)
        if vp is None:
            self.send(p.ChannelClose(message.channel).encode())
            return
        chan = _ReplayChannel(self, message.channel, message.vp_id, vp)
        self.channels[chan.id] = chan
        chan.start()

    def close_channel(self, channel: int) -> None:
        if self.channels.pop(channel, None) is not None:
            self.send(p.ChannelClose(channel).encode())

    def awaited(self, order: tuple[int, float, int, int]) -> bool:
        """Whether the result recorded at ``order`` should wait for a command not sent yet:
        one sent live before the result came, answered earlier, on a VP this client has
        opened a channel to (live, it had before the result came). Only the commands
        not taken yet are looked at, so the cost falls as the client sends them."""
        session, at, index, _n = order
        for other in self.untaken.get(session, ()):
            if other.sent_at >= at:
                return False
            if other.index != index and other.results[0].at < at and other.vp in self.opened:
                return True
        return False

    def take(self, vp: str, line: str) -> tuple[Exchange | None, str]:
        """The exchange that answers ``line`` on ``vp``, or None and why not."""
        key = normalise_command(line)
        same = self.server.script.by_key.get((vp, key), [])
        used = self.used.get((vp, key), 0)
        if used < len(same):
            exchange = same[used]
            self.used[(vp, key)] = used + 1
            self.taken.add(exchange.index)
            if exchange.results:
                self.untaken[exchange.session].remove(exchange)
            self.check_departures()
            self.later(asyncio.get_running_loop().time(), self.flush)
            return exchange, ""
        recorded = self.server.script.exchanges.get(vp, [])
        if same:
            return None, (
                f"replay: {key!r} to {vp} was recorded {len(same)} time(s),"
                f" and this is time {len(same) + 1}"
            )
        keys = list(dict.fromkeys(e.key for e in recorded))
        if not keys:
            return None, f"replay: nothing was recorded on {vp}; {key!r} is not in the recording"
        nearest = difflib.get_close_matches(key, keys, n=_NEAREST, cutoff=0.0)
        return None, (
            f"replay: {key!r} to {vp} is not in the recording;"
            f" nearest recorded: {'; '.join(repr(k) for k in nearest)}"
        )

    def check_departures(self) -> None:
        """Depart each VP whose recorded departure's causes have all happened here."""
        timeline = self.server.script.sessions[self.rank] if self.server.script.sessions else None
        if timeline is None:
            return
        now = asyncio.get_running_loop().time()
        for t, vp_id in list(self.departures):
            vp = self.present.get(vp_id)
            if vp is None:
                self.departures.remove((t, vp_id))
                continue
            if now < self.scaled(t - timeline.start) - 1e-3:
                continue
            before = [
                e
                for e in self.server.script.exchanges.get(vp, [])
                if e.session == self.rank and e.sent_at < t
            ]
            if any(e.index not in self.taken for e in before):
                continue
            if any(
                e.index not in self.delivered
                for e in before
                if e.answered_at is not None and e.answered_at < t
            ):
                continue
            self.departures.remove((t, vp_id))
            del self.present[vp_id]
            self.send(p.VpDeparted(vp_id).encode())
            for chan in [c for c in self.channels.values() if c.vp_id == vp_id]:
                self.close_channel(chan.id)


def _ignore(_command: str, _vp: str, _message: str) -> None:
    """Nobody asked to hear of unrecorded commands."""


class ReplayServer:
    """A mux socket at ``path`` answering from ``recording`` (see the module docstring)."""

    def __init__(
        self,
        path: Path,
        recording: Recording,
        *,
        speed: float = 1.0,
        on_unrecorded: Unrecorded | None = None,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be above 0, not {speed}")
        self.path = path
        self.script = ReplayScript.from_recording(recording)
        self.speed = speed
        self.on_unrecorded: Unrecorded = on_unrecorded or _ignore
        self._sessions = UnixSessions(path, self._session)
        self._accepted = 0

    async def start(self) -> None:
        await self._sessions.start()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        rank, self._accepted = self._accepted, self._accepted + 1
        await _ReplaySession(self, rank, reader, writer).run()

    async def close(self) -> None:
        await self._sessions.close()
