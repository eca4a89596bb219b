"""``StreamDecoder``: warts record bodies in, plain data out.

Stateful because results refer to list and cycle records seen earlier in
the same stream: use one decoder per stream (per file, per control
connection, per mux channel).  The data classes are those of each record
type's module; :mod:`scamperlab.scamper` wraps them in CAIDA's result
classes, :mod:`scamperlab.mux.legacy` reads them as they are.

Adding a record type is one module with a ``decode_*(reader) -> data``
function plus one entry in :data:`DECODERS`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from .dealias import decode_dealias
from .errors import WartsError, WartsFormatError
from .host import decode_host
from .http import decode_http
from .listcycle import decode_addr, decode_cycle, decode_cycle_stop, decode_list
from .opaque import decode_opaque
from .owamp import decode_owamp
from .ping import decode_ping
from .reader import Reader, RecordContext, WartsState
from .records import (
    META_TYPES,
    T_ADDR,
    T_CYCLE_DEF,
    T_CYCLE_START,
    T_CYCLE_STOP,
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
    unframe,
)
from .sniff import decode_sniff
from .tbit import decode_tbit
from .trace import decode_trace
from .tracelb import decode_tracelb
from .udpprobe import decode_udpprobe

__all__ = ["DECODERS", "StreamDecoder"]

#: record type -> body decoder (None from a decoder: a record to skip)
DECODERS: dict[int, Callable[[Reader], Any]] = {
    T_LIST: decode_list,
    T_CYCLE_START: decode_cycle,
    T_CYCLE_DEF: decode_cycle,
    T_CYCLE_STOP: decode_cycle_stop,
    T_ADDR: decode_addr,
    T_TRACE: decode_trace,
    T_PING: decode_ping,
    T_TRACELB: decode_tracelb,
    T_DEALIAS: decode_dealias,
    T_NEIGHBOURDISC: decode_opaque,
    T_TBIT: decode_tbit,
    T_STING: decode_opaque,
    T_SNIFF: decode_sniff,
    T_HOST: decode_host,
    T_HTTP: decode_http,
    T_UDPPROBE: decode_udpprobe,
    T_OWAMP: decode_owamp,
}


class StreamDecoder:
    """Decodes the records of one warts stream to plain data.

    Malformed input raises a :class:`WartsError` (a ``ValueError``); the
    stream state is left as it was before the bad record, so decoding can
    continue with the next one.
    """

    __slots__ = ("state", "userid_at")

    def __init__(self) -> None:
        self.state = WartsState()
        #: offset in the body of the last decoded record's userid field, if it had
        #: one: where a relay rewrites it in place (``scamperlab.mux.legacy``)
        self.userid_at: int | None = None

    def decode_record(self, record: bytes | bytearray | memoryview) -> Any:
        """The data of one complete record, header included (see :meth:`decode_body`)."""
        self.userid_at = None
        return self.decode_body(*unframe(record))

    def decode_body(self, rtype: int, body: bytes) -> Any:
        """The data of a record body of type ``rtype``.

        A list record gives its :class:`~.listcycle.ListData`, a cycle record
        its (shared) :class:`~.listcycle.CycleData`, a result record its data
        class; the address record, a result this codec skips (a dealias
        technique newer than it) and a type not in :data:`DECODERS` give None.
        """
        self.userid_at = None
        decode = DECODERS.get(rtype)
        if decode is None:
            return None
        # Only bookkeeping records change the stream tables; they work on a
        # copy, committed on success, so a bad record leaves no trace.
        state = self.state
        if rtype in META_TYPES:
            state = WartsState(dict(state.lists), dict(state.cycles), list(state.addrs))
        r = Reader(body, RecordContext(state))
        try:
            data = decode(r)
        except WartsError:
            raise
        except (ValueError, IndexError, KeyError, OverflowError, struct.error) as exc:
            raise WartsFormatError(f"malformed type {rtype} record: {exc}") from exc
        self.state = state
        self.userid_at = r.ctx.userid_at
        return data
