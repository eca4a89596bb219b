"""``WartsDecoder``: warts bytes in, ``scamper`` result objects out.

The bytes are decoded to plain data by :class:`scamperlab.wire.warts.decoder.StreamDecoder`;
this module only wraps that data in CAIDA's result classes. It is
stateful, like the stream it reads: results refer to list and cycle records
seen earlier in the same stream, so use one decoder per stream (per file,
or per attached scamper control connection).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from scamperlab.wire.warts.decoder import DECODERS, StreamDecoder
from scamperlab.wire.warts.listcycle import ListData
from scamperlab.wire.warts.records import (
    T_DEALIAS,
    T_HOST,
    T_HTTP,
    T_LIST,
    T_NEIGHBOURDISC,
    T_OWAMP,
    T_PING,
    T_SNIFF,
    T_STING,
    T_TBIT,
    T_TRACE,
    T_TRACELB,
    T_UDPPROBE,
    RecordBuffer,
    split_records,
    unframe,
)

from ..results.common import ScamperCycle, ScamperList
from ..results.dealias import ScamperDealias
from ..results.host import ScamperHost
from ..results.http import ScamperHttp
from ..results.opaque import ScamperNeighbourdisc, ScamperSting
from ..results.owamp import ScamperOwamp
from ..results.ping import ScamperPing
from ..results.sniff import ScamperSniff
from ..results.tbit import ScamperTbit
from ..results.trace import ScamperTrace
from ..results.tracelb import ScamperTracelb
from ..results.udpprobe import ScamperUdpprobe

__all__ = ["RESULT_CLASSES", "WartsDecoder", "WartsObject", "WartsRawRecord"]

#: The objects a decoder can hand back.
WartsObject = (
    ScamperList
    | ScamperCycle
    | ScamperPing
    | ScamperTrace
    | ScamperHost
    | ScamperTracelb
    | ScamperDealias
    | ScamperHttp
    | ScamperUdpprobe
    | ScamperSniff
    | ScamperTbit
    | ScamperOwamp
    | ScamperSting
    | ScamperNeighbourdisc
)


@dataclass(frozen=True)
class WartsRawRecord:
    """A record of a type this decoder does not understand, returned only
    on request."""

    type: int
    body: bytes


#: result record type -> the factory wrapping its data in the module's class
RESULT_CLASSES: dict[int, Callable[[Any, Any], WartsObject]] = {
    T_TRACE: ScamperTrace._create,
    T_PING: ScamperPing._create,
    T_TRACELB: ScamperTracelb._create,
    T_DEALIAS: ScamperDealias._create,
    T_NEIGHBOURDISC: ScamperNeighbourdisc._create,
    T_TBIT: ScamperTbit._create,
    T_STING: ScamperSting._create,
    T_SNIFF: ScamperSniff._create,
    T_HOST: ScamperHost._create,
    T_HTTP: ScamperHttp._create,
    T_UDPPROBE: ScamperUdpprobe._create,
    T_OWAMP: ScamperOwamp._create,
}


class WartsDecoder:
    """Stateful decoder for one warts stream.

    * :meth:`decode_record` takes one complete record (header included),
      e.g. one uudecoded ``DATA`` object from a control socket.
    * :meth:`decode` takes a whole file's bytes.
    * :meth:`feed` takes arbitrary chunks of a byte stream and returns the
      objects completed so far.

    Unknown record types give ``None`` (or a :class:`WartsRawRecord` when
    ``raw_unknown`` is set).  Malformed input raises a :class:`WartsError`
    (a ``ValueError``); the stream state is left as it was before the bad
    record, so decoding can continue with the next one.  Every result of the
    stream that names a list shares the one :class:`ScamperList` its list
    record gave, as scripts comparing ``result.list`` objects expect.
    """

    def __init__(self, raw_unknown: bool = False) -> None:
        self.raw_unknown = raw_unknown
        self._stream = StreamDecoder()
        self._buffer = RecordBuffer()
        # id() of each ListData of the stream -> (the data, its one view); the
        # data is kept so that its id cannot be reused while the stream is open
        self._lists: dict[int, tuple[ListData, ScamperList]] = {}

    def _list(self, data: ListData) -> ScamperList:
        entry = self._lists.get(id(data))
        if entry is None:
            entry = self._lists[id(data)] = (data, ScamperList._create(data))
        return entry[1]

    # -- single records -----------------------------------------------------

    def decode_record(
        self, record: bytes | bytearray | memoryview, inst: Any = None
    ) -> WartsObject | WartsRawRecord | None:
        """Decode one complete record; ``inst`` is attached to results."""
        rtype, body = unframe(record)
        return self.decode_body(rtype, body, inst)

    def decode_body(
        self, rtype: int, body: bytes, inst: Any = None
    ) -> WartsObject | WartsRawRecord | None:
        """Decode a record body of the given type (header already parsed)."""
        if rtype not in DECODERS:
            return WartsRawRecord(rtype, body) if self.raw_unknown else None
        data = self._stream.decode_body(rtype, body)
        if data is None:
            return None
        factory = RESULT_CLASSES.get(rtype)
        if factory is None:  # a bookkeeping record
            return self._list(data) if rtype == T_LIST else ScamperCycle._create(data, rtype)
        obj = factory(data, inst)
        lst = getattr(data, "list_", None)
        if lst is not None:
            obj._list = self._list(lst)  # type: ignore[union-attr]
        return obj

    # -- whole buffers and streams --------------------------------------------

    def iter_decode(
        self, data: bytes | bytearray | memoryview, inst: Any = None
    ) -> Iterator[WartsObject | WartsRawRecord]:
        """Lazily decode the records of a complete buffer, in order.

        Objects before a malformed record have already been yielded when
        the error is raised, which suits a file reader that returns what
        it could read.
        """
        for rtype, body in split_records(data):
            obj = self.decode_body(rtype, body, inst)
            if obj is not None:
                yield obj

    def decode(
        self, data: bytes | bytearray | memoryview, inst: Any = None
    ) -> list[WartsObject | WartsRawRecord]:
        """Decode every record of a complete buffer (e.g. a file)."""
        return list(self.iter_decode(data, inst))

    def feed(
        self, data: bytes | bytearray | memoryview, inst: Any = None
    ) -> list[WartsObject | WartsRawRecord]:
        """Add bytes from a stream; return objects for each completed record.

        A bad header raises immediately (the stream cannot be resynchronised);
        a partial record is kept until more bytes arrive.
        """
        out: list[WartsObject | WartsRawRecord] = []
        for rtype, body in self._buffer.feed(data):
            obj = self.decode_body(rtype, body, inst)
            if obj is not None:
                out.append(obj)
        return out

    @property
    def pending(self) -> int:
        """Bytes held from an incomplete record (0 at a record boundary)."""
        return self._buffer.pending
