"""OWAMP results: ``ScamperOwamp``, ``ScamperOwampSched``,
``ScamperOwampTx``, ``ScamperOwampRx`` (reference §7.8).

``do_owamp`` needs scamper 20260105; these are decoded from files.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import Any

from scamperlab.wire.warts.owamp import OwampData, OwampRxData, OwampSchedData, OwampTxData
from scamperlab.wire.warts.reader import Timeval
from scamperlab.wire.warts.writer import present_ids

from ..addr import ScamperAddr
from ..enums import ScamperOwampResult, ScamperOwampSchedType
from ._util import NoInit, enum_or_int, index_or_none, name_of, to_datetime
from .common import ScamperResult

__all__ = ["ScamperOwamp", "ScamperOwampRx", "ScamperOwampSched", "ScamperOwampTx"]

RESULT_NAMES = ("none", "done", "halted", "error", "noconn", "notaccepted", "nomode", "timeout")


def _td(tv: Timeval | None) -> _dt.timedelta:
    sec, usec = tv or (0, 0)
    return _dt.timedelta(seconds=sec, microseconds=usec)


class ScamperOwampSched(NoInit):
    """One element of the send schedule."""

    __slots__ = ("_s",)
    _s: OwampSchedData

    @classmethod
    def _create(cls, s: OwampSchedData) -> ScamperOwampSched:
        obj = cls._new()
        obj._s = s
        return obj

    @property
    def value(self) -> _dt.timedelta:
        return _td(self._s.tv)

    @property
    def type(self) -> ScamperOwampSchedType | int:
        return enum_or_int(ScamperOwampSchedType, self._s.type)

    @property
    def type_str(self) -> str:
        return name_of(("fixed", "exponential"), self._s.type)


class ScamperOwampRx(NoInit):
    """The receive record of one test packet."""

    __slots__ = ("_r",)
    _r: OwampRxData

    @classmethod
    def _create(cls, r: OwampRxData) -> ScamperOwampRx:
        obj = cls._new()
        obj._r = r
        return obj

    def _recorded(self, fid: int) -> bool:
        return fid in present_ids(self._r)

    @property
    def stamp(self) -> _dt.datetime:
        return to_datetime(self._r.stamp or (0, 0))  # type: ignore[return-value]

    @property
    def ttl(self) -> int | None:
        return self._r.ttl if self._recorded(5) else None

    @property
    def dscp(self) -> int | None:
        return self._r.dscp if self._recorded(4) else None


class ScamperOwampTx(NoInit):
    """One test packet sent."""

    __slots__ = ("_t",)
    _t: OwampTxData

    @classmethod
    def _create(cls, t: OwampTxData) -> ScamperOwampTx:
        obj = cls._new()
        obj._t = t
        return obj

    @property
    def sched(self) -> _dt.datetime:
        return to_datetime(self._t.sched or (0, 0))  # type: ignore[return-value]

    @property
    def stamp(self) -> _dt.datetime:
        return to_datetime(self._t.stamp or (0, 0))  # type: ignore[return-value]

    @property
    def seq(self) -> int:
        return self._t.seq

    @property
    def rx_count(self) -> int:
        return len(self._t.rxs)

    def rx(self, i: int) -> ScamperOwampRx | None:
        r = index_or_none(self._t.rxs, i)
        return None if r is None else ScamperOwampRx._create(r)

    def rxs(self) -> Iterator[ScamperOwampRx]:
        return (ScamperOwampRx._create(r) for r in self._t.rxs)


class ScamperOwamp(ScamperResult):
    """A one-way active measurement (reference §7.8)."""

    __slots__ = ("_d",)
    _d: OwampData

    @classmethod
    def _create(cls, data: OwampData, inst: Any = None) -> ScamperOwamp:
        return cls._from_data(data, inst, errmsg=data.errmsg)

    @property
    def src(self) -> ScamperAddr | None:
        return self._d.src

    @property
    def dst(self) -> ScamperAddr | None:
        return self._d.dst

    @property
    def dport(self) -> int:
        return self._d.dport

    @property
    def startat(self) -> _dt.datetime | None:
        t = self._d.startat
        return None if t is None or t == (0, 0) else to_datetime(t)

    @property
    def wait_timeout(self) -> _dt.timedelta | None:
        return None if self._d.wait_timeout is None else _td(self._d.wait_timeout)

    @property
    def result(self) -> ScamperOwampResult | int:
        return enum_or_int(ScamperOwampResult, self._d.result)

    @property
    def result_str(self) -> str:
        return name_of(RESULT_NAMES, self._d.result)

    @property
    def attempts(self) -> int:
        return self._d.attempts

    @property
    def dscp(self) -> int:
        return self._d.dscp

    @property
    def direction_str(self) -> str:
        return "rx" if self._d.dir else "tx"

    @property
    def probe_size(self) -> int:
        return self._d.pktsize

    @property
    def ttl(self) -> int:
        return self._d.ttl

    @property
    def udp_sport(self) -> int:
        return self._d.udp_sport

    @property
    def udp_dport(self) -> int:
        return self._d.udp_dport

    @property
    def sched_count(self) -> int:
        return len(self._d.scheds)

    def sched(self, i: int) -> ScamperOwampSched | None:
        s = index_or_none(self._d.scheds, i)
        return None if s is None else ScamperOwampSched._create(s)

    def scheds(self) -> Iterator[ScamperOwampSched]:
        return (ScamperOwampSched._create(s) for s in self._d.scheds)

    @property
    def tx_count(self) -> int:
        return len(self._d.txs)

    def tx(self, i: int) -> ScamperOwampTx | None:
        t = index_or_none(self._d.txs, i)
        return None if t is None else ScamperOwampTx._create(t)

    def txs(self) -> Iterator[ScamperOwampTx]:
        return (ScamperOwampTx._create(t) for t in self._d.txs)

    def to_json(self) -> str | None:
        """Not rendered by scamperlab (no OWAMP data to check a rendering against)."""
        return None
