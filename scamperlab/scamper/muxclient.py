"""The client end of a mux connection: ``ScamperMux``, the ``ScamperVp``\\ s it announced, channels.

A mux (``sc_remoted -M``, or scamperlab's own) announces its VPs on channel
0 and carries one attached session per channel. :class:`MuxConnection`
reads and writes those frames with the codec the server uses
(:mod:`scamperlab.wire.mux`), keeps the VP list current and hands each
channel's bytes to whoever opened it (a :class:`ChannelSink`, in practice
an instance's session). It knows nothing of sessions or results.

``ScamperMux`` and ``ScamperVp`` keep CAIDA's surface and hold their state
in one slot; the controller reaches it through :func:`connection_of` and
:func:`vp_ref`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from scamperlab.scamper.handles import next_handle
from scamperlab.scamper.results._util import NoInit
from scamperlab.scamper.transport import SocketTransport, connect_unix
from scamperlab.wire import mux as wire


class ChannelSink(Protocol):
    """Who receives a channel's bytes, and hears when the channel ends."""

    def on_bytes(self, data: bytes) -> None: ...

    def on_eof(self) -> None: ...


class MuxChannel:
    """One channel of a connection: the byte link of an instance on a mux VP."""

    __slots__ = ("conn", "number", "sink")

    def __init__(self, conn: MuxConnection, number: int) -> None:
        self.conn = conn
        self.number = number
        self.sink: ChannelSink | None = None

    def deliver_to(self, sink: ChannelSink) -> None:
        self.sink = sink

    def send(self, data: bytes) -> None:
        self.conn.send(self.number, data)

    def close(self) -> None:
        """Stop delivering this channel's bytes (the mux closes it when its VP is done)."""
        self.conn.forget(self.number)


class MuxConnection:
    """One connection to a mux socket: its VP list and its open channels."""

    def __init__(self, path: str, sock_transport: SocketTransport) -> None:
        self.path = path
        self.handle = next_handle()
        self.transport = sock_transport
        self.frames = wire.FrameReader()
        # vp id -> (attributes but tags, tags), in arrival order
        self.vps: dict[int, tuple[dict[int, str], list[str]]] = {}
        self.channels: dict[int, MuxChannel] = {}
        self.next_channel = 1

    @classmethod
    def connect(cls, path: str) -> MuxConnection:
        """Connect and read VP announcements until *go*, blocking (as the real module does)."""
        sock = connect_unix(path)
        frames = wire.FrameReader()
        vps: dict[int, tuple[dict[int, str], list[str]]] = {}
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    raise RuntimeError(f"mux {path} closed before go")
                if _until_go(frames.feed(data), vps):
                    break
        except OSError as exc:
            sock.close()
            raise RuntimeError(f"could not read from mux {path}: {exc}") from exc
        conn = cls(path, SocketTransport(sock))
        conn.frames = frames  # frames after go stay buffered for the first read
        conn.vps = vps
        return conn

    def is_open(self) -> bool:
        return not self.transport.closed

    def has_vp(self, vp_id: int) -> bool:
        return vp_id in self.vps

    def open_channel(self, vp_id: int) -> MuxChannel:
        channel = MuxChannel(self, self.next_channel)
        self.next_channel += 1
        self.channels[channel.number] = channel
        self.transport.send(wire.ChannelOpen(vp_id, channel.number).encode())
        return channel

    def send(self, number: int, data: bytes) -> None:
        self.transport.send(wire.frame(number, data))

    def forget(self, number: int) -> None:
        self.channels.pop(number, None)

    def close(self) -> None:
        self.transport.close()

    def on_readable(self) -> None:
        data = self.transport.recv()
        if data is None:
            self.transport.close()
            for channel in list(self.channels.values()):
                if channel.sink is not None:
                    channel.sink.on_eof()
            self.channels.clear()
            return
        for number, payload in self.frames.feed(data):
            if number != 0:
                receiver = self.channels.get(number)
                if receiver is not None and receiver.sink is not None:
                    receiver.sink.on_bytes(payload)
                continue
            message = _decode(payload)
            if isinstance(message, wire.VpUpdate | wire.VpDeparted):
                _update_vps(message, self.vps)
            elif isinstance(message, wire.ChannelClose):
                closed = self.channels.pop(message.channel, None)
                if closed is not None and closed.sink is not None:
                    closed.sink.on_eof()


def _decode(payload: bytes) -> wire.ControlMessage | None:
    """The control message, or None for one too malformed to act on (ignored, as always)."""
    try:
        return wire.decode_control(payload)
    except wire.MuxProtocolError:
        return None


def _update_vps(
    message: wire.VpUpdate | wire.VpDeparted, vps: dict[int, tuple[dict[int, str], list[str]]]
) -> None:
    if isinstance(message, wire.VpUpdate):
        vps[message.vp_id] = (message.fields(), message.tags())
    else:
        vps.pop(message.vp_id, None)


def _until_go(
    frames: Iterator[tuple[int, bytes]], vps: dict[int, tuple[dict[int, str], list[str]]]
) -> bool:
    """Apply VP announcements up to *go*; True once it came (later frames stay unread)."""
    for number, payload in frames:
        if number != 0:
            continue
        message = _decode(payload)
        if isinstance(message, wire.Go):
            return True
        if isinstance(message, wire.VpUpdate | wire.VpDeparted):
            _update_vps(message, vps)
    return False


# ---------------------------------------------------------------------------
# the public objects


def _asn(value: str | None) -> int | str | None:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def _upper(value: str | None) -> str | None:
    return value.upper() if value is not None else None


class VpRef:
    """A VP as announced when the user listed them: which connection, which id, what metadata."""

    __slots__ = ("conn", "fields", "mux", "tags", "vp_id")

    def __init__(
        self,
        mux: ScamperMux,
        conn: MuxConnection,
        vp_id: int,
        fields: dict[int, str],
        tags: list[str],
    ) -> None:
        self.mux = mux
        self.conn = conn
        self.vp_id = vp_id
        self.fields = fields
        self.tags = tags


class ScamperVp(NoInit):
    """A VP a mux announced; metadata normalised as CAIDA's module does."""

    __slots__ = ("_ref",)

    _ref: VpRef

    def _identity(self) -> tuple[int, int]:
        return (self._ref.conn.handle, self._ref.vp_id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScamperVp) and self._identity() == other._identity()

    def __lt__(self, other: ScamperVp) -> bool:
        return self._identity() < other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def __str__(self) -> str:
        return self.name if self.name is not None else object.__repr__(self)

    def __repr__(self) -> str:
        return f"<ScamperVp {self.name}>"

    @property
    def name(self) -> str | None:
        return self._ref.fields.get(wire.Attr.NAME)

    @property
    def shortname(self) -> str | None:
        return self._ref.fields.get(wire.Attr.SHORTNAME, self.name)

    @property
    def tags(self) -> set[str]:
        return set(self._ref.tags)

    @property
    def asn4(self) -> int | str | None:
        return _asn(self._ref.fields.get(wire.Attr.ASN4))

    @property
    def asn6(self) -> int | str | None:
        return _asn(self._ref.fields.get(wire.Attr.ASN6))

    @property
    def ipv4(self) -> str | None:
        return self._ref.fields.get(wire.Attr.IPV4)

    @property
    def ipv6(self) -> str | None:
        return self._ref.fields.get(wire.Attr.IPV6)

    @property
    def loc(self) -> tuple[float, float] | None:
        text = self._ref.fields.get(wire.Attr.LATLONG)
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
        return _upper(self._ref.fields.get(wire.Attr.IATA))

    @property
    def cc(self) -> str | None:
        return _upper(self._ref.fields.get(wire.Attr.CC))

    @property
    def st(self) -> str | None:
        return _upper(self._ref.fields.get(wire.Attr.ST))

    @property
    def place(self) -> str | None:
        return self._ref.fields.get(wire.Attr.PLACE)


def vp_ref(vp: ScamperVp) -> VpRef:
    """What the controller needs to open a channel to a VP."""
    return vp._ref


class ScamperMux(NoInit):
    """One connection to a mux socket: its VP list and its channels."""

    # The connection is this mux's transport. The real module has no public
    # close, so scamperlab's pytest plugin and tests close it as
    # ``ctrl._muxes[i]._transport.close()``: keep both names.
    __slots__ = ("_transport",)

    _transport: MuxConnection

    def __eq__(self, other: object) -> bool:
        return self is other

    def __lt__(self, other: ScamperMux) -> bool:
        return self._transport.handle < other._transport.handle

    def __hash__(self) -> int:
        return self._transport.handle

    def __str__(self) -> str:
        return self._transport.path

    def vps(self) -> list[ScamperVp]:
        conn = self._transport
        out = []
        for vp_id, (fields, tags) in conn.vps.items():
            vp = ScamperVp._new()
            vp._ref = VpRef(self, conn, vp_id, fields, tags)
            out.append(vp)
        return out


def open_mux(path: str) -> ScamperMux:
    """Connect to the mux at ``path`` and read its VP list (blocking until *go*)."""
    mux = ScamperMux._new()
    mux._transport = MuxConnection.connect(path)
    return mux


def connection_of(mux: ScamperMux) -> MuxConnection:
    """The connection behind a mux, for the controller's poll loop."""
    return mux._transport
