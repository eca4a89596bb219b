"""The other direction of :mod:`.reader`: building warts record bodies.

Decoded structures remember which flag ids their flags/params block carried
(``_wflags``, set by :meth:`Reader.params`).  :meth:`Writer.params` writes
exactly those fields again, through the same ``(attribute, reader)`` tables
the decoders use: each reader function has a matching writer registered in
:data:`WRITERS`.  Writing what was read, rather than re-deriving which
fields "should" be present, is what makes read -> write -> read preserve
every property value, including those of fields scamper wrote only in some
releases.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from . import reader as R
from .addr import ScamperAddr
from .errors import WartsError
from .reader import CycleData, Field, ListData, Reader

__all__ = ["WRITERS", "RefIds", "Writer", "present_ids", "register"]

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")

#: reader function -> writer function, for every field codec the tables use
WRITERS: dict[Callable[[Reader], object], Callable[[Writer, Any], None]] = {}


def register(
    read: Callable[[Reader], object],
) -> Callable[[Callable[[Writer, Any], None]], Callable[[Writer, Any], None]]:
    """Decorator pairing a field writer with the reader it inverts."""

    def deco(write: Callable[[Writer, Any], None]) -> Callable[[Writer, Any], None]:
        WRITERS[read] = write
        return write

    return deco


class RefIds(Protocol):
    """Stream-local ids the encoder gave to list and cycle records."""

    def list_id(self, lst: ListData | None) -> int: ...

    def cycle_id(self, cyc: CycleData | None) -> int: ...


class Writer:
    """Appends to one record body; owns the record's address and
    interface-name tables, like the reading side."""

    __slots__ = ("_addrs", "_ifnames", "buf", "refs")

    def __init__(self, refs: RefIds) -> None:
        self.buf = bytearray()
        self.refs = refs
        self._addrs: dict[tuple[int, bytes], int] = {}
        self._ifnames: dict[str, int] = {}

    # -- primitives -----------------------------------------------------

    def u8(self, v: int) -> None:
        self.buf.append(v & 0xFF)

    def u16(self, v: int) -> None:
        self.buf += _U16.pack(v & 0xFFFF)

    def u32(self, v: int) -> None:
        self.buf += _U32.pack(v & 0xFFFFFFFF)

    def raw(self, data: bytes) -> None:
        self.buf += data

    def timeval(self, tv: tuple[int, int] | None) -> None:
        sec, usec = tv if tv is not None else (0, 0)
        self.u32(sec)
        self.u32(usec)

    def string(self, s: str | None) -> None:
        self.buf += (s or "").encode("utf-8") + b"\0"

    def addr(self, a: ScamperAddr) -> None:
        key = (a._type, a._addr)
        idx = self._addrs.get(key)
        if idx is not None:
            self.u8(0)
            self.u32(idx)
            return
        self._addrs[key] = len(self._addrs)
        self.addr_static(a)

    def addr_static(self, a: ScamperAddr) -> None:
        self.u8(len(a._addr))
        self.u8(a._type)
        self.raw(a._addr)

    def ifname(self, name: str) -> None:
        idx = self._ifnames.get(name)
        if idx is not None:
            self.u8(idx)
            return
        idx = len(self._ifnames) + 1
        self._ifnames[name] = idx
        self.u8(idx)
        self.string(name)

    def sub(self) -> Writer:
        """A separate body sharing this record's address and name tables
        (for blocks that are length-prefixed once complete)."""
        body = Writer(self.refs)
        body._addrs, body._ifnames = self._addrs, self._ifnames
        return body

    # -- flags + parameters ---------------------------------------------------

    def params(
        self,
        table: Sequence[Field | None],
        source: object,
        ids: Iterable[int] | None = None,
        custom: Mapping[int, Callable[[Writer, Any], None]] | None = None,
    ) -> None:
        """Write a flags/params block with the fields ``ids`` (default: those
        the block had when read) taken from attributes of ``source``.

        ``custom`` overrides the writer for particular ids (fields whose
        reader is a closure over state of the record being read).
        """
        wanted = sorted(set(present_ids(source) if ids is None else ids))
        body = self.sub()
        written: list[int] = []
        for fid in wanted:
            spec = table[fid - 1] if 0 < fid <= len(table) else None
            if spec is None:
                continue
            name, read = spec
            write = (custom or {}).get(fid) or WRITERS.get(read)
            if write is None:
                raise WartsError(f"no writer for field {name} (id {fid})")
            value = getattr(source, name)
            if value is None and read not in (R.list_ref, R.cycle_ref):
                continue
            write(body, value)
            written.append(fid)
        if not written:
            self.u8(0)
            return
        self.raw(flag_bytes(written))
        self.u16(len(body.buf))
        self.buf += body.buf


def present_ids(source: object) -> frozenset[int]:
    ids: frozenset[int] = getattr(source, "_wflags", frozenset())
    return ids


def flag_bytes(ids: Iterable[int]) -> bytes:
    """The flag bitmap for 1-based ids: seven ids per byte, high bit set on
    every byte but the last."""
    top = max(ids)
    out = bytearray((top + 6) // 7)
    for fid in ids:
        out[(fid - 1) // 7] |= 1 << ((fid - 1) % 7)
    for i in range(len(out) - 1):
        out[i] |= 0x80
    return bytes(out)


def with_modern(ids: frozenset[int], moves: Mapping[int, int]) -> frozenset[int]:
    """Replace deprecated ids (global address references) by the ids of
    their inline equivalents: the writer never emits the legacy forms."""
    out = set(ids)
    for old, new in moves.items():
        if old in out:
            out.discard(old)
            out.add(new)
    return frozenset(out)


# -- writers for the primitive readers -----------------------------------------


@register(R.u8)
def _w_u8(w: Writer, v: int) -> None:
    w.u8(v)


@register(R.u16)
def _w_u16(w: Writer, v: int) -> None:
    w.u16(v)


@register(R.u32)
def _w_u32(w: Writer, v: int) -> None:
    w.u32(v)


@register(R.rtt)
def _w_rtt(w: Writer, v: int) -> None:
    w.u32(v)


@register(R.timeval)
def _w_timeval(w: Writer, v: tuple[int, int]) -> None:
    w.timeval(v)


@register(R.string)
def _w_string(w: Writer, v: str) -> None:
    w.string(v)


@register(R.addr)
def _w_addr(w: Writer, v: ScamperAddr) -> None:
    w.addr(v)


@register(R.addr_static)
def _w_addr_static(w: Writer, v: ScamperAddr) -> None:
    w.addr_static(v)


@register(R.list_ref)
def _w_list(w: Writer, v: ListData | None) -> None:
    w.u32(w.refs.list_id(v))


@register(R.cycle_ref)
def _w_cycle(w: Writer, v: CycleData | None) -> None:
    w.u32(w.refs.cycle_id(v))
