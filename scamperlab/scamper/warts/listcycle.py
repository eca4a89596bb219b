"""Warts bookkeeping records: list (1), cycle start/definition/stop (2/3/4)
and the legacy global address record (5).

These update the stream state that later results refer to by id.  Ids are
recorded as given rather than checked against a counter, so a stream that
starts mid-way (e.g. a control socket whose list record used id 1) still
decodes.
"""

from __future__ import annotations

from collections.abc import Sequence

from scamperlab.wire.warts.errors import WartsFormatError

from ..addr import ScamperAddr
from ..results.common import CYCLE_STOP, CycleData, ListData, ScamperCycle, ScamperList
from . import reader as R
from .reader import Field, Reader

__all__ = [
    "CYCLE_FIELDS",
    "LIST_FIELDS",
    "decode_addr",
    "decode_cycle",
    "decode_cycle_stop",
    "decode_list",
]

LIST_FIELDS: Sequence[Field | None] = (("descr", R.string), ("monitor", R.string))
CYCLE_FIELDS: Sequence[Field | None] = (("stop_time", R.u32), ("hostname", R.string))


def decode_list(r: Reader) -> ScamperList:
    wid = r.u32()
    data = ListData(id=r.u32(), name=r.string())
    r.params(LIST_FIELDS, data)
    lst = ScamperList._create(data)
    r.ctx.state.lists[wid] = lst
    return lst


def decode_cycle(r: Reader, kind: int) -> ScamperCycle:
    """A cycle start (kind 2) or cycle definition (kind 3)."""
    wid = r.u32()
    lid = r.u32()
    lst = r.ctx.state.lists.get(lid)
    if lst is None:
        raise WartsFormatError(f"cycle refers to undefined list {lid}")
    data = CycleData(list=lst._d, id=r.u32(), start_time=r.u32())
    r.params(CYCLE_FIELDS, data)
    cyc = ScamperCycle._create(data, kind)
    r.ctx.state.cycles[wid] = cyc
    return cyc


def decode_cycle_stop(r: Reader) -> ScamperCycle:
    """Cycle stop: sets the stop time on the (shared) cycle data."""
    wid = r.u32()
    stop = r.u32()
    cyc = r.ctx.state.cycles.get(wid)
    if cyc is None:
        raise WartsFormatError(f"cycle stop for undefined cycle {wid}")
    r.params((), object())
    cyc._d.stop_time = stop
    return ScamperCycle._create(cyc._d, CYCLE_STOP)


def decode_addr(r: Reader) -> None:
    """Legacy address record: [id mod 255][type][address bytes]."""
    r.u8()
    atype = r.u8()
    raw = r.raw(r.remaining())
    try:
        r.ctx.state.addrs.append(ScamperAddr._from_raw(atype, raw))
    except ValueError as exc:
        raise WartsFormatError(f"bad address record: {exc}") from None
