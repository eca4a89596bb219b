"""scamperlab's own mux server, for sc_remoted versions without ``-M`` (Debian's).

It speaks sc_remoted's mux protocol to users and relays each channel to a
fresh connection on the VP's per-VP socket of ``sc_remoted -U``, which is
itself an attached scamper session. One asyncio loop serves every client
and every channel; nothing polls.

Deliberate differences from sc_remoted 20260420 (documented for users): a
channel whose VP goes away is closed with *channel close* rather than left
hanging, and a *channel open* naming an unknown VP gets a *channel close*
instead of dropping the whole mux connection.

A channel whose user sent ``done`` is never closed from this side, even when
the user goes away: Debian's scamper drops its whole connection to
sc_remoted (every user's channels on that VP) when the controller closes a
channel the VP has just closed itself, and a VP closes its channel as soon as
``done``'s tasks are finished. Such channels linger until the VP closes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from scamperlab.mux.legacy import LegacyChannel
from scamperlab.mux.recorder import Recorder, SessionTap
from scamperlab.mux.registry import MuxVp, VpRegistry
from scamperlab.mux.standin.vp import StandinVps
from scamperlab.mux.unixserver import UnixSessions
from scamperlab.wire import mux as p

log = logging.getLogger(__name__)
_READ_SIZE = 65536
# How long a channel whose user has gone may wait for its VP to finish ``done``.
LINGER_AFTER_DONE = 300.0


@dataclass
class _Channel:
    id: int
    vp: MuxVp
    outbound: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    legacy: LegacyChannel | None = None  # set for VPs whose scamper sends no task ids
    done_sent: bool = False  # the user sent done: the VP will close this channel itself
    _partial_line: bytes = b""

    def note_client_text(self, data: bytes) -> None:
        """Remember whether the user has sent ``done`` (frames are not lines)."""
        *lines, self._partial_line = (self._partial_line + data).split(b"\n")
        if any(line.strip() == b"done" for line in lines):
            self.done_sent = True
        self._partial_line = self._partial_line[-64:]


class MuxSession:
    """One user's connection to the mux socket."""

    def __init__(
        self, server: MuxServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ):
        self.server = server
        self.reader = reader
        self.writer = writer
        self.channels: dict[int, _Channel] = {}
        # ``run --record``: the session's bytes both ways, as the client's socket carries them
        self.tap: SessionTap | None = server.recorder.session() if server.recorder else None

    def _send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)
            if self.tap is not None:
                self.tap.to_client(data)

    def on_registry(self, event: str, vp: MuxVp) -> None:
        if event == "arrived":
            self._send(vp.announcement().encode())
        else:
            self._send(p.VpDeparted(vp.id).encode())

    async def run(self) -> None:
        registry = self.server.registry
        for vp in registry.by_id.values():
            self._send(vp.announcement().encode())
        self._send(p.Go().encode())
        registry.listeners.append(self.on_registry)
        frames = p.FrameReader()
        try:
            while data := await self.reader.read(_READ_SIZE):
                if self.tap is not None:
                    self.tap.from_client(data)
                for channel, payload in frames.feed(data):
                    if channel == 0:
                        self._control(payload)
                    elif (chan := self.channels.get(channel)) is not None:
                        # Noted on arrival, not when relayed: if the user leaves before
                        # its ``done`` reaches the VP, the channel must still be left to
                        # the VP to close (it will be relayed all the same).
                        chan.note_client_text(payload)
                        chan.outbound.put_nowait(payload)
                    else:
                        log.info("mux: data for channel %d that is not open; dropped", channel)
                await self.writer.drain()
        except (ConnectionError, _ProtocolError) as exc:
            log.info("mux: dropping client: %s", exc)
        finally:
            if self.tap is not None:
                self.tap.closed()
            registry.listeners.remove(self.on_registry)
            # Like sc_remoted: a user going away finishes every channel it had opened,
            # except those that its VP is already finishing after ``done``.
            abandoned: list[asyncio.Task[None]] = []
            lingering: list[asyncio.Task[None]] = []
            for chan in self.channels.values():
                if chan.task is not None:
                    finishing = chan.done_sent and not self.server.closing
                    (lingering if finishing else abandoned).append(chan.task)
            await _cancel(abandoned)
            if self.server.closing:
                # The lab is going away: a client that stopped reading (results
                # queued for it) must not hold the teardown until it flushes.
                self.writer.transport.abort()
            else:
                self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()
            await _linger(lingering)

    def _control(self, payload: bytes) -> None:
        # Only channel opens matter from a client: anything else is ignored, malformed or not.
        try:
            message = p.decode_control(payload)
        except p.MuxProtocolError as exc:
            if exc.kind in (None, p.MuxType.CHANNEL_OPEN):
                raise _ProtocolError(str(exc)) from None
            log.info("mux: ignoring control message type %d from a client", exc.kind)
            return
        if not isinstance(message, p.ChannelOpen):
            log.info("mux: ignoring control message type %d from a client", message.kind)
            return
        vp_id, channel_id = message.vp_id, message.channel
        if channel_id == 0 or channel_id in self.channels:
            raise _ProtocolError(f"channel {channel_id} is reserved or already open")
        vp = self.server.registry.by_id.get(vp_id)
        if vp is None:
            log.info("mux: channel open for unknown VP id %d", vp_id)
            self._send(p.ChannelClose(channel_id).encode())
            return
        chan = _Channel(channel_id, vp)
        if self.server.legacy_version is not None:
            chan.legacy = LegacyChannel(self.server.legacy_version)
        self.channels[channel_id] = chan
        chan.task = asyncio.create_task(self._relay(chan))
        self._offer_standins(chan)

    def _offer_standins(self, chan: _Channel) -> None:
        """The one hook of stand-ins (``scamperlab.mux.standin``): their results go out
        on this channel, a ``done`` they held goes back through it, and they stop with it."""
        legacy, relay = chan.legacy, chan.task
        vp = self.server.standins.get(chan.vp.name) if self.server.standins else None
        if vp is None or legacy is None or relay is None:
            return
        legacy.use_standins(
            vp, lambda data: self._send(p.frame(chan.id, data)), chan.outbound.put_nowait
        )
        relay.add_done_callback(lambda _: legacy.close())

    async def _relay(self, chan: _Channel) -> None:
        try:
            vp_reader, vp_writer = await asyncio.open_unix_connection(str(chan.vp.socket))
        except OSError as exc:
            log.info("mux: cannot reach VP %s: %s", chan.vp.name, exc)
            self.channels.pop(chan.id, None)
            self._send(p.ChannelClose(chan.id).encode())
            return
        pump = asyncio.create_task(self._pump(chan, vp_writer))
        try:
            while data := await vp_reader.read(_READ_SIZE):
                if chan.legacy is not None:
                    data = chan.legacy.from_vp(data)
                    if not data:
                        continue
                self._send(p.frame(chan.id, data))
                if not self.writer.is_closing():
                    # The user going away ends nothing here: its session decides whether
                    # the channel is abandoned or left to finish (``done``). Ending it here
                    # would close the channel just as a VP finishing ``done`` closes it.
                    with contextlib.suppress(ConnectionError):
                        await self.writer.drain()
        except ConnectionError:
            pass
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await pump
            vp_writer.close()
            self.channels.pop(chan.id, None)
            self._send(p.ChannelClose(chan.id).encode())

    async def _pump(self, chan: _Channel, vp_writer: asyncio.StreamWriter) -> None:
        while True:  # ends when its relay is cancelled or its VP's socket closes
            data = await chan.outbound.get()
            if chan.legacy is not None:
                data, answer = chan.legacy.from_client(data)
                if answer:
                    self._send(p.frame(chan.id, answer))
            vp_writer.write(data)
            await vp_writer.drain()


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _linger(tasks: list[asyncio.Task[None]]) -> None:
    """Let channels finish on their VP's side; cancel them if the mux is closed meanwhile."""
    if not tasks:
        return
    try:
        await asyncio.wait(tasks, timeout=LINGER_AFTER_DONE)
    finally:
        await _cancel(tasks)


class _ProtocolError(Exception):
    pass


@dataclass
class MuxServer:
    path: Path
    registry: VpRegistry
    #: scamper version of VPs that send no task ids (see ``legacy``), None if they do
    legacy_version: str | None = None
    recorder: Recorder | None = None  # ``run --record``
    #: the VPs whose missing features the lab performs itself; None: refuse them
    standins: StandinVps | None = None
    closing: bool = False
    _sessions: UnixSessions | None = None

    async def start(self) -> None:
        """Listen. Who may connect is the caller's to decide (the socket's owner and mode,
        its directory's): the lab admits its owner and one group, the standalone
        service its group."""
        self._sessions = UnixSessions(self.path, self._session)
        await self._sessions.start()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await MuxSession(self, reader, writer).run()

    async def close(self) -> None:
        self.closing = True
        if self._sessions is not None:
            await self._sessions.close()
