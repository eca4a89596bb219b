"""Helper result types shared by every measurement: lists, cycles, ICMP
extensions, and the base class carrying the properties common to results
(reference §6.1, §6.3, §6.4).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import Any, Self

from scamperlab.wire.warts.listcycle import CycleData, ListData
from scamperlab.wire.warts.records import T_CYCLE_STOP

from ._util import NoInit, to_datetime

__all__ = [
    "ScamperCycle",
    "ScamperIcmpExt",
    "ScamperIcmpExts",
    "ScamperIcmpMplsLabelStackEntry",
    "ScamperList",
    "ScamperResult",
]


# ---------------------------------------------------------------------------
# lists and cycles


class ScamperList(NoInit):
    """The list (id, name, description, monitor) a result belongs to."""

    __slots__ = ("_d",)
    _d: ListData

    @classmethod
    def _create(cls, data: ListData) -> ScamperList:
        obj = cls._new()
        obj._d = data
        return obj

    @property
    def id(self) -> int:
        return self._d.id

    @property
    def name(self) -> str | None:
        return self._d.name

    @property
    def descr(self) -> str | None:
        return self._d.descr

    @property
    def monitor(self) -> str | None:
        return self._d.monitor

    def _key(self) -> tuple[int, str, str, str]:
        d = self._d
        return d.id, d.name or "", d.descr or "", d.monitor or ""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScamperList):
            return NotImplemented
        return self._key() == other._key()

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, ScamperList):
            return NotImplemented
        return self._key() < other._key()

    __hash__ = None  # type: ignore[assignment]


class ScamperCycle(NoInit):
    """A measurement cycle: id, start/stop times and the host name."""

    __slots__ = ("_d", "_kind")
    _d: CycleData
    _kind: int | None

    @classmethod
    def _create(cls, data: CycleData, kind: int | None = None) -> ScamperCycle:
        """``kind`` is the warts record type the object came from (2 start,
        3 definition, 4 stop) or None when reached through a result; a
        writer needs it to know whether to emit the object."""
        obj = cls._new()
        obj._d = data
        obj._kind = kind
        return obj

    @property
    def id(self) -> int:
        return self._d.id

    @property
    def start(self) -> _dt.datetime | None:
        t = self._d.start_time
        return to_datetime((t, 0)) if t else None

    @property
    def stop(self) -> _dt.datetime | None:
        t = self._d.stop_time
        return to_datetime((t, 999999)) if t else None

    @property
    def hostname(self) -> str | None:
        return self._d.hostname

    def _key(self) -> tuple[int, int, int, str]:
        d = self._d
        return d.id, d.start_time, d.stop_time, d.hostname or ""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScamperCycle):
            return NotImplemented
        return self._key() == other._key()

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, ScamperCycle):
            return NotImplemented
        return self._key() < other._key()

    __hash__ = None  # type: ignore[assignment]

    def _to_json(self) -> str:
        """sc_warts2json's line for a cycle-start / cycle-stop record."""
        kind = "cycle-stop" if self._kind == T_CYCLE_STOP else "cycle-start"
        d = self._d
        name = d.list.name if d.list is not None and d.list.name is not None else ""
        out = f'{{"type":"{kind}", "list_name":"{name}", "id":{d.id}'
        if d.hostname is not None:
            out += f', "hostname":"{d.hostname}"'
        if self._kind == T_CYCLE_STOP:
            out += f', "stop_time":{d.stop_time}}}'
        else:
            out += f', "start_time":{d.start_time}}}'
        return out


# ---------------------------------------------------------------------------
# ICMP extensions (RFC 4884 / RFC 4950)


class ScamperIcmpExt(NoInit):
    """One ICMP extension object; MPLS label stacks are decoded on demand."""

    __slots__ = ("_cn", "_ct", "_data")
    _cn: int
    _ct: int
    _data: bytes

    @classmethod
    def _create(cls, class_num: int, c_type: int, data: bytes) -> ScamperIcmpExt:
        obj = cls._new()
        obj._cn, obj._ct, obj._data = class_num, c_type, data
        return obj

    @property
    def class_num(self) -> int:
        return self._cn

    @property
    def c_type(self) -> int:
        return self._ct

    @property
    def data_len(self) -> int:
        return len(self._data)

    @property
    def data(self) -> bytes | None:
        return self._data or None

    def is_mpls(self) -> bool:
        return self._cn == 1 and self._ct == 1

    @property
    def mpls_count(self) -> int:
        return len(self._data) // 4 if self.is_mpls() else 0

    def _lse(self, i: int) -> int | None:
        if not self.is_mpls() or not isinstance(i, int) or not 0 <= i < self.mpls_count:
            return None
        return int.from_bytes(self._data[4 * i : 4 * i + 4], "big")

    def mpls_lses(self) -> Iterator[ScamperIcmpMplsLabelStackEntry] | None:
        if not self.is_mpls():
            return None
        return (ScamperIcmpMplsLabelStackEntry(self, i) for i in range(self.mpls_count))

    def mpls_lse(self, i: int) -> ScamperIcmpMplsLabelStackEntry | None:
        if self._lse(i) is None:
            return None
        return ScamperIcmpMplsLabelStackEntry(self, i)

    def mpls_label(self, i: int) -> int | None:
        v = self._lse(i)
        return None if v is None else v >> 12

    def mpls_exp(self, i: int) -> int | None:
        v = self._lse(i)
        return None if v is None else (v >> 9) & 0x7

    def mpls_s(self, i: int) -> int | None:
        v = self._lse(i)
        return None if v is None else (v >> 8) & 0x1

    def mpls_ttl(self, i: int) -> int | None:
        v = self._lse(i)
        return None if v is None else v & 0xFF

    def _key(self) -> tuple[int, int, bytes]:
        return self._cn, self._ct, self._data

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScamperIcmpExt):
            return NotImplemented
        return self._key() == other._key()

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, ScamperIcmpExt):
            return NotImplemented
        return self._key() < other._key()

    __hash__ = None  # type: ignore[assignment]


class ScamperIcmpExts(NoInit):
    """The ICMP extension objects attached to one reply."""

    __slots__ = ("_exts",)
    _exts: tuple[ScamperIcmpExt, ...]

    @classmethod
    def _create(cls, exts: list[ScamperIcmpExt]) -> ScamperIcmpExts:
        obj = cls._new()
        obj._exts = tuple(exts)
        return obj

    @property
    def ext_count(self) -> int:
        return len(self._exts)

    def ext(self, i: int) -> ScamperIcmpExt | None:
        if not isinstance(i, int) or not 0 <= i < len(self._exts):
            return None
        return self._exts[i]

    def exts(self) -> Iterator[ScamperIcmpExt]:
        return iter(self._exts)

    @property
    def mpls(self) -> ScamperIcmpExt | None:
        return next((e for e in self._exts if e.is_mpls()), None)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScamperIcmpExts):
            return NotImplemented
        return [e._key() for e in self._exts] == [e._key() for e in other._exts]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, ScamperIcmpExts):
            return NotImplemented
        return [e._key() for e in self._exts] < [e._key() for e in other._exts]

    __hash__ = None  # type: ignore[assignment]


class ScamperIcmpMplsLabelStackEntry:
    """One MPLS label stack entry of an extension (a plain, constructible
    helper in the real module)."""

    __slots__ = ("_exp", "_label", "_s", "_ttl")

    def __init__(self, ext: ScamperIcmpExt, i: int) -> None:
        if not isinstance(ext, ScamperIcmpExt):
            raise TypeError("expected ScamperIcmpExt")
        label, exp, s, ttl = ext.mpls_label(i), ext.mpls_exp(i), ext.mpls_s(i), ext.mpls_ttl(i)
        if label is None or exp is None or s is None or ttl is None:
            raise ValueError("invalid label stack entry")
        self._label, self._exp, self._s, self._ttl = label, exp, s, ttl

    @property
    def label(self) -> int:
        return self._label

    @property
    def exp(self) -> int:
        return self._exp

    @property
    def s(self) -> int:
        return self._s

    @property
    def ttl(self) -> int:
        return self._ttl

    def __str__(self) -> str:
        return f"MPLS Label={self._label} Exp={self._exp} TTL={self._ttl} S={self._s}"


def icmp_exts_from(raw: list[tuple[int, int, bytes]] | None) -> ScamperIcmpExts | None:
    """Wrap decoded (class, type, data) triples; None when there are none."""
    if not raw:
        return None
    return ScamperIcmpExts._create([ScamperIcmpExt._create(cn, ct, d) for cn, ct, d in raw])


# ---------------------------------------------------------------------------
# base of the measurement result classes


class ScamperResult(NoInit):
    """Properties every measurement result has (reference §6.1).

    ``_inst`` is filled in by the control plane with the producing
    ``ScamperInst``; objects read from files keep ``None``.
    """

    __slots__ = ("_cycle", "_errmsg", "_inst", "_list", "_start", "_userid")

    _inst: Any
    _list: ScamperList | None
    _cycle: ScamperCycle | None
    _userid: int
    _start: tuple[int, int] | None
    _errmsg: str | None
    _d: Any  # the decoded record, in a slot each subclass declares

    @classmethod
    def _from_data(
        cls,
        data: Any,
        inst: Any,
        *,
        start: tuple[int, int] | None = None,
        errmsg: str | None = None,
    ) -> Self:
        """A result over decoded ``data``, which carries list, cycle, userid and start.

        ``start`` overrides ``data.start`` where a type needs it; the subclass
        declares the ``_d`` slot the data is kept in. The list is wrapped anew;
        a decoder that wants every result of a stream to share one
        :class:`ScamperList` (``scamperlab.scamper.warts``) sets ``_list`` after.
        """
        obj = cls._new()
        obj._inst = inst
        lst, cycle = data.list_, data.cycle
        obj._list = ScamperList._create(lst) if lst is not None else None
        obj._cycle = ScamperCycle._create(cycle) if cycle is not None else None
        obj._userid = data.userid
        obj._start = data.start if start is None else start
        obj._errmsg = errmsg
        obj._d = data
        return obj

    @property
    def inst(self) -> Any:
        return self._inst

    @property
    def list(self) -> ScamperList | None:
        return self._list

    @property
    def cycle(self) -> ScamperCycle | None:
        return self._cycle

    @property
    def userid(self) -> int:
        return self._userid

    @property
    def errmsg(self) -> str | None:
        return self._errmsg

    @property
    def start(self) -> _dt.datetime | None:
        return to_datetime(self._start)
