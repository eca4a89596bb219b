"""The mux socket's wire format (sc_remoted ``-M``), both directions.

Every frame is a 4-byte channel id and a 4-byte payload length, big-endian,
then the payload. Channel 0 carries control messages whose payload starts
with a 2-byte type; other channels carry a VP session's text stream.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar

HEADER = struct.Struct(">II")  # channel, payload length
_KIND = struct.Struct(">H")  # a control message's type
_ID = struct.Struct(">I")  # a VP id or channel number
_TWO_IDS = struct.Struct(">II")
MAX_VP_UPDATE = 1024  # sc_remoted silently drops larger updates; we refuse them up front.


class MuxType(IntEnum):
    VP_UPDATE = 0
    VP_DEPARTED = 1
    GO = 2
    CHANNEL_OPEN = 3
    CHANNEL_CLOSE = 4


class Attr(IntEnum):
    NAME = 1
    ARRIVAL = 2
    IPV4 = 3
    ASN4 = 4
    CC = 5
    ST = 6
    PLACE = 7
    LATLONG = 8
    SHORTNAME = 9
    TAG = 10
    IATA = 11
    IPV6 = 12
    ASN6 = 13


def frame(channel: int, payload: bytes) -> bytes:
    return HEADER.pack(channel, len(payload)) + payload


def _control(kind: MuxType, body: bytes = b"") -> bytes:
    return frame(0, _KIND.pack(kind) + body)


class MuxProtocolError(ValueError):
    """A channel-0 message that does not have its type's layout."""

    def __init__(self, message: str, kind: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind  # the message type it claimed, None if too short to say


def encode_attrs(attrs: Iterable[tuple[int, str]]) -> bytes:
    out = bytearray()
    for code, value in attrs:
        text = value.encode()
        if b"\0" in text:
            raise ValueError(f"attribute {_attr_name(code)} contains a NUL byte")
        out += _KIND.pack(code) + text + b"\0"
    return bytes(out)


def decode_attrs(data: bytes) -> list[tuple[int, str]]:
    attrs: list[tuple[int, str]] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise MuxProtocolError("truncated attribute code")
        (code,) = _KIND.unpack_from(data, pos)
        end = data.find(b"\0", pos + 2)
        if end < 0:
            raise MuxProtocolError("attribute value without its NUL terminator")
        attrs.append((code, data[pos + 2 : end].decode(errors="replace")))
        pos = end + 1
    return attrs


def _attr_name(code: int) -> str:
    try:
        return Attr(code).name
    except ValueError:
        return str(code)


# -- the channel-0 messages: each type's layout is defined once, here, for
# -- both the server that sends VP updates and the client that sends opens.


@dataclass(frozen=True)
class VpUpdate:
    """A VP arrived (or changed): its id and ``(code, value)`` attributes, in order.

    Codes stay ints when decoded: a newer mux may send attributes this
    release has no name for, and a client must keep going past them.
    """

    kind: ClassVar[MuxType] = MuxType.VP_UPDATE

    vp_id: int
    attrs: tuple[tuple[int, str], ...]

    def encode(self) -> bytes:
        message = _control(self.kind, _ID.pack(self.vp_id) + encode_attrs(self.attrs))
        if len(message) > MAX_VP_UPDATE:
            raise ValueError(f"VP update of {len(message)} bytes exceeds the mux's {MAX_VP_UPDATE}")
        return message

    def fields(self) -> dict[int, str]:
        """Every attribute but tags, by code (a repeated code keeps its last value)."""
        return {code: value for code, value in self.attrs if code != Attr.TAG}

    def tags(self) -> list[str]:
        """The VP's tags, the one attribute that may repeat, in the order sent."""
        return [value for code, value in self.attrs if code == Attr.TAG]


@dataclass(frozen=True)
class VpDeparted:
    """A VP went away; channels to it are closed separately."""

    kind: ClassVar[MuxType] = MuxType.VP_DEPARTED

    vp_id: int

    def encode(self) -> bytes:
        return _control(self.kind, _ID.pack(self.vp_id))


@dataclass(frozen=True)
class Go:
    """The initial VP list is complete: a client may open channels."""

    kind: ClassVar[MuxType] = MuxType.GO

    def encode(self) -> bytes:
        return _control(self.kind)


@dataclass(frozen=True)
class ChannelOpen:
    """A client asks for a session with a VP on a channel number it chose."""

    kind: ClassVar[MuxType] = MuxType.CHANNEL_OPEN

    vp_id: int
    channel: int

    def encode(self) -> bytes:
        return _control(self.kind, _TWO_IDS.pack(self.vp_id, self.channel))


@dataclass(frozen=True)
class ChannelClose:
    """The VP's side of a channel ended; the number may be reused."""

    kind: ClassVar[MuxType] = MuxType.CHANNEL_CLOSE

    channel: int

    def encode(self) -> bytes:
        return _control(self.kind, _ID.pack(self.channel))


@dataclass(frozen=True)
class Unknown:
    """A message type this release does not know; both sides ignore it."""

    kind: int  # what the payload's type field said


ControlMessage = VpUpdate | VpDeparted | Go | ChannelOpen | ChannelClose | Unknown


def decode_control(payload: bytes) -> ControlMessage:
    """The typed message a channel-0 payload carries; :class:`MuxProtocolError` if malformed."""
    if len(payload) < _KIND.size:
        raise MuxProtocolError("control message shorter than its type")
    (kind,) = _KIND.unpack_from(payload)
    body = payload[_KIND.size :]
    if kind == MuxType.VP_UPDATE:
        if len(body) < _ID.size:
            raise MuxProtocolError("VP update without its VP id", kind)
        (vp_id,) = _ID.unpack_from(body)
        try:
            attrs = decode_attrs(body[_ID.size :])
        except MuxProtocolError as exc:
            raise MuxProtocolError(str(exc), kind) from None
        return VpUpdate(vp_id, tuple(attrs))
    if kind == MuxType.GO:
        return Go()
    if kind == MuxType.CHANNEL_OPEN:
        if len(body) != _TWO_IDS.size:
            raise MuxProtocolError("malformed channel open", kind)
        return ChannelOpen(*_TWO_IDS.unpack(body))
    if kind == MuxType.VP_DEPARTED:
        if len(body) != _ID.size:
            raise MuxProtocolError("malformed VP departed", kind)
        return VpDeparted(*_ID.unpack(body))
    if kind == MuxType.CHANNEL_CLOSE:
        if len(body) != _ID.size:
            raise MuxProtocolError("malformed channel close", kind)
        return ChannelClose(*_ID.unpack(body))
    return Unknown(kind)


def vp_update(vp_id: int, attrs: Iterable[tuple[int, str]]) -> bytes:
    """``VpUpdate(vp_id, attrs).encode()``: a VP's announcement, refused if too large."""
    return VpUpdate(vp_id, tuple(attrs)).encode()


@dataclass
class FrameReader:
    """Splits a byte stream into ``(channel, payload)`` frames, whatever the read sizes."""

    buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        self.buffer += data
        while len(self.buffer) >= HEADER.size:
            channel, length = HEADER.unpack_from(self.buffer)
            if len(self.buffer) < HEADER.size + length:
                return
            payload = bytes(self.buffer[HEADER.size : HEADER.size + length])
            del self.buffer[: HEADER.size + length]
            yield channel, payload
