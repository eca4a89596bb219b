"""Warts record framing: the 8-byte header, the record types, and cutting a
buffer or a byte stream into records.

A warts stream is a sequence of records, each a header (magic 0x1205, 16-bit
type, 32-bit body length) followed by its body. Everything that reads or
writes headers goes through this module, so the layout is written down once.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Final

from .errors import WartsFormatError, WartsTruncatedError

__all__ = [
    "HEADER_LEN",
    "MAGIC",
    "META_TYPES",
    "RecordBuffer",
    "frame",
    "parse_header",
    "record_type",
    "split_records",
    "unframe",
]

MAGIC: Final = 0x1205
HEADER_LEN: Final = 8
_HDR = struct.Struct(">HHI")
_TYPE = struct.Struct(">H")

# record types: bookkeeping records first, then one per measurement
T_LIST, T_CYCLE_START, T_CYCLE_DEF, T_CYCLE_STOP, T_ADDR = 1, 2, 3, 4, 5
T_TRACE, T_PING, T_TRACELB, T_DEALIAS = 6, 7, 8, 9
T_NEIGHBOURDISC, T_TBIT, T_STING, T_SNIFF = 10, 11, 12, 13
T_HOST, T_HTTP, T_UDPPROBE, T_OWAMP = 14, 15, 16, 17

#: the records that update the stream's tables rather than carry a result
META_TYPES: Final = frozenset({T_LIST, T_CYCLE_START, T_CYCLE_DEF, T_CYCLE_STOP, T_ADDR})


def parse_header(buf: bytes | bytearray | memoryview, off: int = 0) -> tuple[int, int]:
    """Validate a record header at ``off``; return (type, body length)."""
    if len(buf) - off < HEADER_LEN:
        raise WartsTruncatedError(f"record header cut short at offset {off}")
    magic, rtype, length = _HDR.unpack_from(buf, off)
    if magic != MAGIC:
        raise WartsFormatError(f"bad warts magic 0x{magic:04x} at offset {off}")
    if rtype == 0:
        raise WartsFormatError(f"record type 0 at offset {off}")
    return int(rtype), int(length)


def record_type(record: bytes | bytearray | memoryview) -> int:
    """The type field of a record's header, the rest unchecked: a relay
    routes by it even a record it cannot decode."""
    if len(record) < 4:
        raise WartsTruncatedError(f"record of {len(record)} bytes has no type")
    (rtype,) = _TYPE.unpack_from(record, 2)
    return int(rtype)


def unframe(record: bytes | bytearray | memoryview) -> tuple[int, bytes]:
    """``(type, body)`` of exactly one complete record, header included."""
    buf = bytes(record)
    rtype, length = parse_header(buf)
    if len(buf) - HEADER_LEN < length:
        raise WartsTruncatedError(
            f"record declares {length} bytes, only {len(buf) - HEADER_LEN} present"
        )
    if len(buf) - HEADER_LEN > length:
        raise WartsFormatError(f"{len(buf) - HEADER_LEN - length} bytes after record")
    return rtype, buf[HEADER_LEN:]


def frame(rtype: int, body: bytes | bytearray) -> bytes:
    """A complete record: header then body."""
    return _HDR.pack(MAGIC, rtype, len(body)) + bytes(body)


def split_records(data: bytes | bytearray | memoryview) -> Iterator[tuple[int, bytes]]:
    """Yield ``(type, body)`` for each record of a complete warts buffer."""
    data = bytes(data)
    off = 0
    while off < len(data):
        rtype, length = parse_header(data, off)
        end = off + HEADER_LEN + length
        if end > len(data):
            raise WartsTruncatedError(
                f"record at offset {off} declares {length} bytes, {len(data) - off - 8} remain"
            )
        yield rtype, data[off + HEADER_LEN : end]
        off = end


class RecordBuffer:
    """Cuts a byte stream arriving in arbitrary chunks into records.

    A bad header raises at once (a stream cannot be resynchronised); a
    partial record is kept until more bytes arrive.
    """

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, data: bytes | bytearray | memoryview) -> Iterator[tuple[int, bytes]]:
        """Add bytes; yield ``(type, body)`` for each record they complete."""
        self._pending += data
        while len(self._pending) >= HEADER_LEN:
            rtype, length = parse_header(self._pending)
            total = HEADER_LEN + length
            if len(self._pending) < total:
                return
            body = bytes(self._pending[HEADER_LEN:total])
            del self._pending[:total]
            yield rtype, body

    @property
    def pending(self) -> int:
        """Bytes held from an incomplete record (0 at a record boundary)."""
        return len(self._pending)
