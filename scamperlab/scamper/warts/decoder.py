"""``WartsDecoder``: warts bytes in, ``scamper`` result objects out.

A warts stream is a sequence of records, each an 8-byte header (magic
0x1205, 16-bit type, 32-bit body length) and a body.  The decoder is
stateful because results refer to list and cycle records seen earlier in
the same stream; use one decoder per stream (per file, or per attached
scamper control connection).

Adding a record type is one module with a ``decode_*(reader) -> data``
function plus one entry in :data:`RESULT_TYPES`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from scamperlab.wire.warts.errors import WartsError, WartsFormatError, WartsTruncatedError

from ..results.common import ScamperCycle, ScamperList
from ..results.dealias import ScamperDealias
from ..results.host import ScamperHost
from ..results.http import ScamperHttp
from ..results.opaque import OpaqueData, ScamperNeighbourdisc, ScamperSting
from ..results.owamp import ScamperOwamp
from ..results.ping import ScamperPing
from ..results.sniff import ScamperSniff
from ..results.tbit import ScamperTbit
from ..results.trace import ScamperTrace
from ..results.tracelb import ScamperTracelb
from ..results.udpprobe import ScamperUdpprobe
from .dealias import decode_dealias
from .host import decode_host
from .http import decode_http
from .listcycle import decode_addr, decode_cycle, decode_cycle_stop, decode_list
from .owamp import decode_owamp
from .ping import decode_ping
from .reader import Reader, RecordContext, WartsState
from .sniff import decode_sniff
from .tbit import decode_tbit
from .trace import decode_trace
from .tracelb import decode_tracelb
from .udpprobe import decode_udpprobe

__all__ = [
    "HEADER_LEN",
    "MAGIC",
    "RESULT_TYPES",
    "WartsDecoder",
    "WartsObject",
    "WartsRawRecord",
    "split_records",
]

MAGIC = 0x1205
HEADER_LEN = 8
_HDR = struct.Struct(">HHI")

# warts record types
T_LIST, T_CYCLE_START, T_CYCLE_DEF, T_CYCLE_STOP, T_ADDR = 1, 2, 3, 4, 5
T_TRACE, T_PING, T_TRACELB, T_DEALIAS = 6, 7, 8, 9
T_NEIGHBOURDISC, T_TBIT, T_STING, T_SNIFF = 10, 11, 12, 13
T_HOST, T_HTTP, T_UDPPROBE, T_OWAMP = 14, 15, 16, 17

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


def _opaque(r: Reader) -> OpaqueData:
    return OpaqueData(r.raw(r.remaining()))


#: result record type -> (body decoder, result-object factory)
RESULT_TYPES: dict[int, tuple[Callable[[Reader], Any], Callable[[Any, Any], WartsObject]]] = {
    T_TRACE: (decode_trace, ScamperTrace._create),
    T_PING: (decode_ping, ScamperPing._create),
    T_TRACELB: (decode_tracelb, ScamperTracelb._create),
    T_DEALIAS: (decode_dealias, ScamperDealias._create),
    T_NEIGHBOURDISC: (_opaque, ScamperNeighbourdisc._create),
    T_TBIT: (decode_tbit, ScamperTbit._create),
    T_STING: (_opaque, ScamperSting._create),
    T_SNIFF: (decode_sniff, ScamperSniff._create),
    T_HOST: (decode_host, ScamperHost._create),
    T_HTTP: (decode_http, ScamperHttp._create),
    T_UDPPROBE: (decode_udpprobe, ScamperUdpprobe._create),
    T_OWAMP: (decode_owamp, ScamperOwamp._create),
}


def _header(buf: bytes | bytearray | memoryview, off: int = 0) -> tuple[int, int]:
    """Validate a record header at ``off``; return (type, body length)."""
    if len(buf) - off < HEADER_LEN:
        raise WartsTruncatedError(f"record header cut short at offset {off}")
    magic, rtype, length = _HDR.unpack_from(buf, off)
    if magic != MAGIC:
        raise WartsFormatError(f"bad warts magic 0x{magic:04x} at offset {off}")
    if rtype == 0:
        raise WartsFormatError(f"record type 0 at offset {off}")
    return int(rtype), int(length)


def split_records(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield ``(type, body)`` for each record of a complete warts buffer."""
    off = 0
    while off < len(data):
        rtype, length = _header(data, off)
        end = off + HEADER_LEN + length
        if end > len(data):
            raise WartsTruncatedError(
                f"record at offset {off} declares {length} bytes, {len(data) - off - 8} remain"
            )
        yield rtype, bytes(data[off + HEADER_LEN : end])
        off = end


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
    record, so decoding can continue with the next one.
    """

    def __init__(self, raw_unknown: bool = False) -> None:
        self.state = WartsState()
        self.raw_unknown = raw_unknown
        self._pending = bytearray()
        #: offset in the body of the last decoded record's userid field, if it had
        #: one: where a relay rewrites it in place (``scamperlab.mux.legacy``)
        self.userid_at: int | None = None

    # -- single records -----------------------------------------------------

    def decode_record(
        self, record: bytes | bytearray | memoryview, inst: Any = None
    ) -> WartsObject | WartsRawRecord | None:
        """Decode one complete record; ``inst`` is attached to results."""
        buf = bytes(record)
        rtype, length = _header(buf)
        if len(buf) - HEADER_LEN < length:
            raise WartsTruncatedError(
                f"record declares {length} bytes, only {len(buf) - HEADER_LEN} present"
            )
        if len(buf) - HEADER_LEN > length:
            raise WartsFormatError(f"{len(buf) - HEADER_LEN - length} bytes after record")
        return self.decode_body(rtype, buf[HEADER_LEN:], inst)

    def decode_body(
        self, rtype: int, body: bytes, inst: Any = None
    ) -> WartsObject | WartsRawRecord | None:
        """Decode a record body of the given type (header already parsed)."""
        if rtype not in RESULT_TYPES and rtype not in _META_TYPES:
            return WartsRawRecord(rtype, body) if self.raw_unknown else None
        # Only bookkeeping records change the stream tables; they work on a
        # copy, committed on success, so a bad record leaves no trace.
        state = self.state
        if rtype in _META_TYPES:
            state = WartsState(dict(state.lists), dict(state.cycles), list(state.addrs))
        r = Reader(body, RecordContext(state))
        self.userid_at = None
        try:
            obj = self._dispatch(rtype, r, inst)
        except WartsError:
            raise
        except (ValueError, IndexError, KeyError, OverflowError, struct.error) as exc:
            raise WartsFormatError(f"malformed type {rtype} record: {exc}") from exc
        self.state = state
        self.userid_at = r.ctx.userid_at
        return obj

    @staticmethod
    def _dispatch(rtype: int, r: Reader, inst: Any) -> WartsObject | None:
        if rtype == T_LIST:
            return decode_list(r)
        if rtype in (T_CYCLE_START, T_CYCLE_DEF):
            return decode_cycle(r, rtype)
        if rtype == T_CYCLE_STOP:
            return decode_cycle_stop(r)
        if rtype == T_ADDR:
            decode_addr(r)
            return None
        decode, factory = RESULT_TYPES[rtype]
        data = decode(r)
        return None if data is None else factory(data, inst)

    # -- whole buffers and streams --------------------------------------------

    def iter_decode(
        self, data: bytes | bytearray | memoryview, inst: Any = None
    ) -> Iterator[WartsObject | WartsRawRecord]:
        """Lazily decode the records of a complete buffer, in order.

        Objects before a malformed record have already been yielded when
        the error is raised, which suits a file reader that returns what
        it could read.
        """
        for rtype, body in split_records(bytes(data)):
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
        self._pending += data
        out: list[WartsObject | WartsRawRecord] = []
        while len(self._pending) >= HEADER_LEN:
            rtype, length = _header(self._pending)
            total = HEADER_LEN + length
            if len(self._pending) < total:
                break
            body = bytes(self._pending[HEADER_LEN:total])
            del self._pending[:total]
            obj = self.decode_body(rtype, body, inst)
            if obj is not None:
                out.append(obj)
        return out

    @property
    def pending(self) -> int:
        """Bytes held from an incomplete record (0 at a record boundary)."""
        return len(self._pending)


_META_TYPES = frozenset({T_LIST, T_CYCLE_START, T_CYCLE_DEF, T_CYCLE_STOP, T_ADDR})
