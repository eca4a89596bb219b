"""Recording what clients of the mux send and receive (``scamperlab run --record``).

The mux server hands every session's bytes to a :class:`SessionTap`, both
directions, exactly as they cross the client's socket; the tap parses them
with the same codecs the client uses (:mod:`scamperlab.wire.mux` frames,
:mod:`scamperlab.wire.control` channel text) into a
:class:`~scamperlab.wire.recording.Recording`. Working on the socket's bytes
rather than on the server's internals keeps the hook in the server to three
calls, and lets anything else that sees those bytes (a proxy in front of a
modern sc_remoted or of Ark's mux) feed the same recorder.

Results are recorded as the client received them: for a VP whose scamper
sends no task ids (:mod:`scamperlab.mux.legacy`) that is the VP's record
with the client's userid written back, which is what a modern scamper
would have sent.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scamperlab.wire import mux as p
from scamperlab.wire.control import Data, Err, More, Ok, SessionParser, SessionProtocolError
from scamperlab.wire.recording import Channel, MuxEvent, Received, Recording, Sent, Session
from scamperlab.wire.recording import write_recording as _write

log = logging.getLogger(__name__)


@dataclass
class _ChannelTap:
    chan: Channel
    parser: SessionParser = field(default_factory=SessionParser)
    partial: bytes = b""  # a client line not finished yet


class SessionTap:
    """One client connection's bytes in both directions, turned into a recorded session."""

    def __init__(self, recorder: Recorder) -> None:
        self._clock = recorder.clock
        self.session = Session(start=self._clock())
        recorder.recording.sessions.append(self.session)
        self._to_client = p.FrameReader()
        self._from_client = p.FrameReader()
        self._open: dict[int, _ChannelTap] = {}

    def from_client(self, data: bytes) -> None:
        now = self._clock()
        for channel, payload in self._from_client.feed(data):
            if channel == 0:
                self._client_control(payload, now)
                continue
            tap = self._open.get(channel)
            if tap is None:
                continue
            *lines, tap.partial = (tap.partial + payload).split(b"\n")
            for line in lines:
                text = line.decode(errors="replace").rstrip("\r")
                if text.strip():
                    tap.chan.sent.append(Sent(now, text))

    def _client_control(self, payload: bytes, now: float) -> None:
        try:
            message = p.decode_control(payload)
        except p.MuxProtocolError:
            return
        if isinstance(message, p.ChannelOpen):
            chan = Channel(message.channel, message.vp_id, now)
            self.session.channels.append(chan)
            self._open[message.channel] = _ChannelTap(chan)

    def to_client(self, data: bytes) -> None:
        now = self._clock()
        for channel, payload in self._to_client.feed(data):
            if channel == 0:
                self._server_control(payload, now)
            elif (tap := self._open.get(channel)) is not None:
                self._channel_text(tap, payload, now)

    def _server_control(self, payload: bytes, now: float) -> None:
        try:
            message = p.decode_control(payload)
        except p.MuxProtocolError:
            return
        events = self.session.events
        if isinstance(message, p.VpUpdate):
            events.append(MuxEvent(now, "vp", message.vp_id, message.attrs))
        elif isinstance(message, p.Go):
            events.append(MuxEvent(now, "go"))
        elif isinstance(message, p.VpDeparted):
            events.append(MuxEvent(now, "departed", message.vp_id))
        elif isinstance(message, p.ChannelClose):
            tap = self._open.pop(message.channel, None)
            if tap is not None:
                tap.chan.closed = now

    def _channel_text(self, tap: _ChannelTap, payload: bytes, now: float) -> None:
        chan = tap.chan
        try:
            parsed = tap.parser.feed(payload)
        except SessionProtocolError as exc:
            log.warning("recording: channel %d: %s; its rest is not recorded", chan.channel, exc)
            self._open.pop(chan.channel, None)
            return
        for event in parsed:
            if isinstance(event, Data):
                chan.received.append(Received(now, record=len(chan.records), task=event.task_id))
                chan.records.append(event.record)
            elif isinstance(event, Ok):
                chan.received.append(Received(now, event.text))
            elif isinstance(event, Err):
                chan.received.append(Received(now, f"ERR {event.reason}".rstrip()))
            elif isinstance(event, More):
                chan.received.append(Received(now, "MORE"))

    def closed(self) -> None:
        self.session.end = self._clock()


class Recorder:
    """Everything every mux session carried while it was attached; :meth:`save` writes it."""

    def __init__(self, info: dict[str, Any] | None = None) -> None:
        self.recording = Recording(info=dict(info or {}), created=time.time())
        self._start = time.monotonic()

    def clock(self) -> float:
        """Seconds since the recording began: the time of every recorded event."""
        return time.monotonic() - self._start

    def session(self) -> SessionTap:
        return SessionTap(self)

    def save(self, path: str | Path) -> None:
        _write(self.recording, path)
