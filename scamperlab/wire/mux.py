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

HEADER = struct.Struct(">II")
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


# The order sc_remoted emits attributes in; clients should not care, but some do.
ATTR_ORDER = (
    Attr.NAME,
    Attr.ARRIVAL,
    Attr.IPV4,
    Attr.IPV6,
    Attr.ASN4,
    Attr.ASN6,
    Attr.LATLONG,
    Attr.CC,
    Attr.ST,
    Attr.PLACE,
    Attr.SHORTNAME,
    Attr.IATA,
    Attr.TAG,
)


def frame(channel: int, payload: bytes) -> bytes:
    return HEADER.pack(channel, len(payload)) + payload


def control(kind: MuxType, body: bytes = b"") -> bytes:
    return frame(0, struct.pack(">H", kind) + body)


def encode_attrs(attrs: Iterable[tuple[Attr, str]]) -> bytes:
    out = bytearray()
    for code, value in attrs:
        text = value.encode()
        if b"\0" in text:
            raise ValueError(f"attribute {code.name} contains a NUL byte")
        out += struct.pack(">H", code) + text + b"\0"
    return bytes(out)


def vp_update(vp_id: int, attrs: Iterable[tuple[Attr, str]]) -> bytes:
    message = control(MuxType.VP_UPDATE, struct.pack(">I", vp_id) + encode_attrs(attrs))
    if len(message) > MAX_VP_UPDATE:
        raise ValueError(f"VP update of {len(message)} bytes exceeds the mux's {MAX_VP_UPDATE}")
    return message


def vp_departed(vp_id: int) -> bytes:
    return control(MuxType.VP_DEPARTED, struct.pack(">I", vp_id))


def go() -> bytes:
    return control(MuxType.GO)


def channel_open(vp_id: int, channel: int) -> bytes:
    return control(MuxType.CHANNEL_OPEN, struct.pack(">II", vp_id, channel))


def channel_close(channel: int) -> bytes:
    return control(MuxType.CHANNEL_CLOSE, struct.pack(">I", channel))


def decode_attrs(data: bytes) -> list[tuple[int, str]]:
    attrs: list[tuple[int, str]] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise ValueError("truncated attribute code")
        (code,) = struct.unpack_from(">H", data, pos)
        end = data.find(b"\0", pos + 2)
        if end < 0:
            raise ValueError("attribute value without its NUL terminator")
        attrs.append((code, data[pos + 2 : end].decode(errors="replace")))
        pos = end + 1
    return attrs


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
