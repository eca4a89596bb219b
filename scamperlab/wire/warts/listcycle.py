"""Warts bookkeeping records: list (1), cycle start/definition/stop (2/3/4)
and the legacy global address record (5), as plain data, both directions.

These update the stream state that later results refer to by id.  Ids are
recorded as given rather than checked against a counter, so a stream that
starts mid-way (e.g. a control socket whose list record used id 1) still
decodes.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import reader as R
from .addr import ScamperAddr
from .errors import WartsFormatError
from .reader import CycleData, Field, ListData, Reader
from .writer import Writer

__all__ = [
    "CYCLE_FIELDS",
    "LIST_FIELDS",
    "CycleData",
    "ListData",
    "decode_addr",
    "decode_cycle",
    "decode_cycle_stop",
    "decode_list",
    "encode_cycle",
    "encode_cycle_stop",
    "encode_list",
]


LIST_FIELDS: Sequence[Field | None] = (("descr", R.string), ("monitor", R.string))
CYCLE_FIELDS: Sequence[Field | None] = (("stop_time", R.u32), ("hostname", R.string))


def decode_list(r: Reader) -> ListData:
    wid = r.u32()
    data = ListData(id=r.u32(), name=r.string())
    r.params(LIST_FIELDS, data)
    r.ctx.state.lists[wid] = data
    return data


def decode_cycle(r: Reader) -> CycleData:
    """A cycle start or cycle definition: the same body."""
    wid = r.u32()
    lid = r.u32()
    lst = r.ctx.state.lists.get(lid)
    if lst is None:
        raise WartsFormatError(f"cycle refers to undefined list {lid}")
    data = CycleData(list=lst, id=r.u32(), start_time=r.u32())
    r.params(CYCLE_FIELDS, data)
    r.ctx.state.cycles[wid] = data
    return data


def decode_cycle_stop(r: Reader) -> CycleData:
    """Cycle stop: sets the stop time on the (shared) cycle data."""
    wid = r.u32()
    stop = r.u32()
    cyc = r.ctx.state.cycles.get(wid)
    if cyc is None:
        raise WartsFormatError(f"cycle stop for undefined cycle {wid}")
    r.params((), object())
    cyc.stop_time = stop
    return cyc


def decode_addr(r: Reader) -> None:
    """Legacy address record: [id mod 255][type][address bytes]."""
    r.u8()
    atype = r.u8()
    raw = r.raw(r.remaining())
    try:
        r.ctx.state.addrs.append(ScamperAddr._from_raw(atype, raw))
    except ValueError as exc:
        raise WartsFormatError(f"bad address record: {exc}") from None


# -- writing ----------------------------------------------------------------------


def encode_list(w: Writer, wid: int, d: ListData) -> None:
    """The body of list record ``wid``."""
    w.u32(wid)
    w.u32(d.id)
    w.string(d.name)
    ids = {i for i, v in ((1, d.descr), (2, d.monitor)) if v is not None}
    w.params(LIST_FIELDS, d, ids)


def encode_cycle(w: Writer, wid: int, list_wid: int, d: CycleData) -> None:
    """The body of cycle start or definition record ``wid``."""
    w.u32(wid)
    w.u32(list_wid)
    w.u32(d.id)
    w.u32(d.start_time)
    ids = {i for i, v in ((1, d.stop_time or None), (2, d.hostname)) if v is not None}
    w.params(CYCLE_FIELDS, d, ids)


def encode_cycle_stop(w: Writer, wid: int, d: CycleData) -> None:
    """The body of the stop record of cycle ``wid``."""
    w.u32(wid)
    w.u32(d.stop_time)
    w.u8(0)
