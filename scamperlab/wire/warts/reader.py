"""Bounded cursor over one warts record, plus the per-stream state (lists, cycles).

Warts stores most structures as a *flags + parameters* block: a bitmap of
which optional fields are present (seven flag bits per byte, the high bit
meaning "another flag byte follows"), then a 16-bit length, then the present
fields in flag order.  :meth:`Reader.params` implements that once, driven by
a per-structure table of ``(attribute, reader)`` pairs, so each record type
is a table plus a little post-processing.

Every read checks its bounds and raises :class:`WartsTruncatedError`; there
are no loops that can run without consuming input, so corrupt data cannot
make the decoder hang.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .addr import ScamperAddr
from .errors import WartsFormatError, WartsTruncatedError

__all__ = ["CycleData", "Field", "ListData", "Reader", "RecordContext", "Timeval", "WartsState"]

#: (seconds, microseconds), as warts stores times.
Timeval = tuple[int, int]


#: One entry of a flags/params table: attribute name and how to read it.
Field = tuple[str, Callable[["Reader"], object]]


@dataclass
class ListData:
    """A warts list record: the list a measurement was run under."""

    id: int = 0
    name: str | None = None
    descr: str | None = None
    monitor: str | None = None


@dataclass
class CycleData:
    """A warts cycle record.  Shared (not copied) between the cycle-start
    record and every result that refers to it, so a later cycle-stop
    record is visible through all of them, as in scamper's C library."""

    list: ListData | None = None
    id: int = 0
    start_time: int = 0
    stop_time: int = 0
    hostname: str | None = None


@dataclass
class WartsState:
    """What a warts stream remembers between records.

    Results refer to lists and cycles by a stream-local id, and very old
    files refer to addresses through a global table (record type 5).
    """

    lists: dict[int, ListData] = field(default_factory=dict)
    cycles: dict[int, CycleData] = field(default_factory=dict)
    addrs: list[ScamperAddr] = field(default_factory=list)


@dataclass
class RecordContext:
    """Tables that live for one record: inline address/ifname definitions."""

    state: WartsState
    addrs: list[ScamperAddr] = field(default_factory=list)
    ifnames: list[str] = field(default_factory=list)
    #: lengths read earlier in a block that later fields of it depend on
    scratch: dict[str, int] = field(default_factory=dict)
    #: where the record's userid field starts in the body, for a relay that
    #: rewrites it in place (``scamperlab.mux.legacy``)
    userid_at: int | None = None


_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


class Reader:
    """A cursor over ``buf[off:end]`` that refuses to read past ``end``."""

    __slots__ = ("buf", "ctx", "end", "off")

    def __init__(self, buf: bytes, ctx: RecordContext, off: int = 0, end: int | None = None):
        self.buf = buf
        self.ctx = ctx
        self.off = off
        self.end = len(buf) if end is None else end

    # -- primitives -----------------------------------------------------

    def remaining(self) -> int:
        return self.end - self.off

    def _need(self, n: int, what: str) -> None:
        if n < 0 or self.end - self.off < n:
            raise WartsTruncatedError(
                f"need {n} bytes for {what} at offset {self.off}, have {self.end - self.off}"
            )

    def u8(self) -> int:
        self._need(1, "u8")
        v = self.buf[self.off]
        self.off += 1
        return v

    def u16(self) -> int:
        self._need(2, "u16")
        (v,) = _U16.unpack_from(self.buf, self.off)
        self.off += 2
        return int(v)

    def u32(self) -> int:
        self._need(4, "u32")
        (v,) = _U32.unpack_from(self.buf, self.off)
        self.off += 4
        return int(v)

    def raw(self, n: int) -> bytes:
        self._need(n, "bytes")
        v = bytes(self.buf[self.off : self.off + n])
        self.off += n
        return v

    def timeval(self) -> Timeval:
        sec = self.u32()
        return sec, self.u32()

    def rtt(self) -> int:
        """An RTT, stored as a 32-bit count of microseconds."""
        return self.u32()

    def string(self) -> str:
        """A NUL-terminated string."""
        end = self.buf.find(b"\0", self.off, self.end)
        if end < 0:
            raise WartsTruncatedError(f"unterminated string at offset {self.off}")
        v = bytes(self.buf[self.off : end]).decode("utf-8", errors="replace")
        self.off = end + 1
        return v

    # -- addresses --------------------------------------------------------

    def _addr_body(self, size: int) -> ScamperAddr:
        atype = self.u8()
        body = self.raw(size)
        try:
            return ScamperAddr._from_raw(atype, body)
        except ValueError as exc:
            raise WartsFormatError(f"bad address: {exc}") from None

    def addr(self) -> ScamperAddr:
        """An address that is either defined inline or references the
        record's table (length byte 0 followed by a 32-bit index)."""
        size = self.u8()
        if size == 0:
            idx = self.u32()
            table = self.ctx.addrs
            if idx >= len(table):
                raise WartsFormatError(f"address reference {idx} beyond table of {len(table)}")
            return table[idx]
        a = self._addr_body(size)
        self.ctx.addrs.append(a)
        return a

    def addr_static(self) -> ScamperAddr:
        """An address always written inline and not added to the table."""
        size = self.u8()
        if size == 0:
            raise WartsFormatError("zero-length static address")
        return self._addr_body(size)

    def addr_gid(self) -> ScamperAddr:
        """A deprecated reference into the stream-wide address table."""
        idx = self.u32()
        table = self.ctx.state.addrs
        if idx >= len(table):
            raise WartsFormatError(f"global address {idx} not defined")
        return table[idx]

    def ifname(self) -> str:
        """An interface name: a 1-based table index, followed by the name
        itself the first time that index appears in the record."""
        idx = self.u8()
        table = self.ctx.ifnames
        if 1 <= idx <= len(table):
            return table[idx - 1]
        if idx != len(table) + 1:
            raise WartsFormatError(f"interface name index {idx} out of sequence")
        name = self.string()
        table.append(name)
        return name

    # -- list / cycle references --------------------------------------------

    def list_ref(self) -> ListData | None:
        lid = self.u32()
        if lid == 0 and lid not in self.ctx.state.lists:
            return None
        try:
            return self.ctx.state.lists[lid]
        except KeyError:
            raise WartsFormatError(f"reference to undefined list {lid}") from None

    def cycle_ref(self) -> CycleData | None:
        cid = self.u32()
        if cid == 0 and cid not in self.ctx.state.cycles:
            return None
        try:
            return self.ctx.state.cycles[cid]
        except KeyError:
            raise WartsFormatError(f"reference to undefined cycle {cid}") from None

    # -- flags + parameters --------------------------------------------------

    def flags(self) -> list[int]:
        """Read a flag bitmap; return the (1-based) ids that are set."""
        ids: list[int] = []
        i = 0
        while True:
            b = self.u8()
            for j in range(7):
                if b & (1 << j):
                    ids.append(i * 7 + j + 1)
            i += 1
            if not b & 0x80:
                return ids

    def params(self, table: Sequence[Field | None], target: object) -> frozenset[int]:
        """Read a flags/params block into attributes of ``target``.

        ``table[i]`` describes flag id ``i + 1``.  As scamper does, reading
        stops at the first id the table does not know and the cursor skips
        to the end of the block, so newer writers' extra fields are
        tolerated.  Returns the set of flag ids that were present.
        """
        if self.off >= self.end:
            raise WartsTruncatedError(f"missing flags at offset {self.off}")
        if self.buf[self.off] == 0:
            self.off += 1
            _remember(target, frozenset())
            return frozenset()
        ids = self.flags()
        plen = self.u16()
        self._need(plen, "parameter block")
        final = self.off + plen
        sub = Reader(self.buf, self.ctx, self.off, final)
        for fid in ids:
            spec = table[fid - 1] if fid - 1 < len(table) else None
            if spec is None:
                break
            name, read = spec
            if name == "userid":
                self.ctx.userid_at = sub.off
            setattr(target, name, read(sub))
        self.off = final
        present = frozenset(ids)
        _remember(target, present)
        return present


def _remember(target: object, present: frozenset[int]) -> None:
    """Keep the flag ids a block carried on the decoded structure, so the
    warts writer can emit exactly the same fields again (``_wflags``)."""
    # plain object() targets have nothing to re-encode
    with contextlib.suppress(AttributeError):
        target._wflags = present  # type: ignore[attr-defined]


def u8(r: Reader) -> int:
    return r.u8()


def u16(r: Reader) -> int:
    return r.u16()


def u32(r: Reader) -> int:
    return r.u32()


def timeval(r: Reader) -> Timeval:
    return r.timeval()


def rtt(r: Reader) -> int:
    return r.rtt()


def string(r: Reader) -> str:
    return r.string()


def addr(r: Reader) -> ScamperAddr:
    return r.addr()


def addr_static(r: Reader) -> ScamperAddr:
    return r.addr_static()


def addr_gid(r: Reader) -> ScamperAddr:
    return r.addr_gid()


def list_ref(r: Reader) -> ListData | None:
    return r.list_ref()


def cycle_ref(r: Reader) -> CycleData | None:
    return r.cycle_ref()
