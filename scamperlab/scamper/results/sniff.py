"""Packet-capture results: ``ScamperSniff`` and ``ScamperSniffPkt``
(reference §7.9)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import Any

from scamperlab.wire.warts.sniff import SniffData, SniffPktData

from ..addr import ScamperAddr
from ..enums import ScamperSniffStop
from ._util import NoInit, enum_or_int, index_or_none, to_datetime
from .common import ScamperResult

__all__ = ["ScamperSniff", "ScamperSniffPkt"]


class ScamperSniffPkt(NoInit):
    """One captured packet."""

    __slots__ = ("_p",)
    _p: SniffPktData

    @classmethod
    def _create(cls, p: SniffPktData) -> ScamperSniffPkt:
        obj = cls._new()
        obj._p = p
        return obj

    @property
    def rx(self) -> _dt.datetime | None:
        return to_datetime(self._p.tv)

    @property
    def data(self) -> bytes | None:
        return self._p.data or None


class ScamperSniff(ScamperResult):
    """A packet capture (reference §7.9).

    ``pkt(i)`` returns None for a missing packet; the 20260420 module
    crashed the interpreter there when no packet was captured.
    """

    __slots__ = ("_d",)
    _d: SniffData

    @classmethod
    def _create(cls, data: SniffData, inst: Any = None) -> ScamperSniff:
        return cls._from_data(data, inst)

    @property
    def stop_reason(self) -> ScamperSniffStop | int:
        return enum_or_int(ScamperSniffStop, self._d.stop_reason)

    @property
    def src(self) -> ScamperAddr | None:
        return self._d.src

    @property
    def finish(self) -> _dt.datetime | None:
        return to_datetime(self._d.finish)

    @property
    def limit_pkt_count(self) -> int:
        return self._d.limit_pktc

    @property
    def limit_time(self) -> _dt.timedelta:
        return _dt.timedelta(seconds=self._d.limit_time)

    @property
    def icmp_id(self) -> int:
        return self._d.icmpid

    @property
    def pkt_count(self) -> int:
        return len(self._d.pkts)

    def __len__(self) -> int:
        return len(self._d.pkts)

    def pkt(self, i: int = 0) -> ScamperSniffPkt | None:
        p = index_or_none(self._d.pkts, i)
        return None if p is None else ScamperSniffPkt._create(p)

    def __iter__(self) -> Iterator[ScamperSniffPkt]:
        return (ScamperSniffPkt._create(p) for p in self._d.pkts)
