"""A tiny warts *writer* for tests: builds records that exercise decoder
paths the captured fixtures do not reach (legacy address tables, PMTUD,
ICMP extensions, last-ditch probing, TCP replies, timestamp options)."""

from __future__ import annotations

import socket
import struct


def u8(v: int) -> bytes:
    return struct.pack(">B", v)


def u16(v: int) -> bytes:
    return struct.pack(">H", v)


def u32(v: int) -> bytes:
    return struct.pack(">I", v)


def tv(sec: int, usec: int) -> bytes:
    return u32(sec) + u32(usec)


def string(s: str) -> bytes:
    return s.encode() + b"\0"


def addr(text: str) -> bytes:
    """An inline address definition (length, type, bytes)."""
    if ":" in text:
        raw, atype = socket.inet_pton(socket.AF_INET6, text), 2
    else:
        raw, atype = socket.inet_pton(socket.AF_INET, text), 1
    return u8(len(raw)) + u8(atype) + raw


def addr_ref(idx: int) -> bytes:
    """A reference to the idx-th address defined earlier in the record."""
    return u8(0) + u32(idx)


def params(fields: dict[int, bytes]) -> bytes:
    """A flags/params block with the given (1-based id -> encoded) fields."""
    if not fields:
        return b"\0"
    top = max(fields)
    nbytes = (top + 6) // 7
    flags = bytearray(nbytes)
    for fid in fields:
        i, j = divmod(fid - 1, 7)
        flags[i] |= 1 << j
    for i in range(nbytes - 1):
        flags[i] |= 0x80
    body = b"".join(fields[k] for k in sorted(fields))
    return bytes(flags) + u16(len(body)) + body


def record(rtype: int, body: bytes) -> bytes:
    return struct.pack(">HHI", 0x1205, rtype, len(body)) + body


def list_record(wid: int = 1, name: str = "test") -> bytes:
    return record(1, u32(wid) + u32(0) + string(name) + b"\0")


def cycle_record(wid: int = 1, lid: int = 1, start: int = 1700000000) -> bytes:
    return record(2, u32(wid) + u32(lid) + u32(7) + u32(start) + params({2: string("host")}))
