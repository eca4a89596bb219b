"""DNS results: ``ScamperHost``, ``ScamperHostRR`` and the typed RR views
(reference §7.5).

A host measurement may send several queries (retries); like the real
module, every response property reports the first query that got a
response, or None / 0 / empty when none did.
"""

from __future__ import annotations

import builtins
import datetime as _dt
from collections.abc import Iterable, Iterator
from typing import Any

from scamperlab.wire.warts.host import (
    CLASS_CH,
    CLASS_IN,
    STOP_NAMES,
    TYPE_A,
    TYPE_AAAA,
    TYPE_CNAME,
    TYPE_HTTPS,
    TYPE_MX,
    TYPE_NS,
    TYPE_OPT,
    TYPE_PTR,
    TYPE_SOA,
    TYPE_SVCB,
    TYPE_TXT,
    HostData,
    HostQueryData,
    HostRRData,
    MxData,
    SoaData,
    TxtData,
    qclass_str,
    qtype_str,
    rcode_str,
)

from ..addr import ScamperAddr
from ..enums import ScamperHostStop
from ._host_fmt import host_json, rr_text
from ._util import NoInit, enum_or_int, name_of, to_datetime, us_to_timedelta
from .common import ScamperResult

__all__ = [
    "ScamperHost",
    "ScamperHostMX",
    "ScamperHostOPT",
    "ScamperHostOPTElem",
    "ScamperHostQuery",
    "ScamperHostRR",
    "ScamperHostSOA",
    "ScamperHostSVCB",
    "ScamperHostSVCBParam",
    "ScamperHostTXT",
]

_RRTYPE_FILTERS = {
    "a": TYPE_A,
    "aaaa": TYPE_AAAA,
    "ptr": TYPE_PTR,
    "mx": TYPE_MX,
    "ns": TYPE_NS,
    "soa": TYPE_SOA,
    "txt": TYPE_TXT,
    "opt": TYPE_OPT,
    "svcb": TYPE_SVCB,
    "https": TYPE_HTTPS,
}
_OPT_CODES = {3: "NSID", 8: "ECS", 10: "COOKIE", 15: "EDE"}
_SVCB_KEYS = {
    0: "mandatory",
    1: "alpn",
    2: "no-default-alpn",
    3: "port",
    4: "ipv4hint",
    5: "ech",
    6: "ipv6hint",
}


# ---------------------------------------------------------------------------
# typed RR views


class ScamperHostMX(NoInit):
    __slots__ = ("_m",)
    _m: MxData

    @classmethod
    def _create(cls, mx: MxData) -> ScamperHostMX:
        obj = cls._new()
        obj._m = mx
        return obj

    @property
    def pref(self) -> int:
        return self._m.preference

    @property
    def exch(self) -> str | None:
        return self._m.exchange


class ScamperHostSOA(NoInit):
    __slots__ = ("_s",)
    _s: SoaData

    @classmethod
    def _create(cls, soa: SoaData) -> ScamperHostSOA:
        obj = cls._new()
        obj._s = soa
        return obj

    @property
    def mname(self) -> str | None:
        return self._s.mname

    @property
    def rname(self) -> str | None:
        return self._s.rname

    @property
    def serial(self) -> int:
        return self._s.serial

    @property
    def refresh(self) -> int:
        return self._s.refresh

    @property
    def retry(self) -> int:
        return self._s.retry

    @property
    def expire(self) -> int:
        return self._s.expire

    @property
    def minimum(self) -> int:
        return self._s.minimum


class ScamperHostTXT(NoInit):
    __slots__ = ("_t",)
    _t: TxtData

    @classmethod
    def _create(cls, txt: TxtData) -> ScamperHostTXT:
        obj = cls._new()
        obj._t = txt
        return obj

    @property
    def strc(self) -> int:
        return len(self._t.strs)

    def str(self, i: int) -> str | None:
        strs = self._t.strs
        return strs[i] if isinstance(i, int) and 0 <= i < len(strs) else None

    def __iter__(self) -> Iterator[builtins.str]:
        return iter(list(self._t.strs))


class ScamperHostOPTElem(NoInit):
    __slots__ = ("_code", "_data")
    _code: int
    _data: bytes

    @classmethod
    def _create(cls, code: int, data: bytes) -> ScamperHostOPTElem:
        obj = cls._new()
        obj._code, obj._data = code, data
        return obj

    @property
    def code_num(self) -> int:
        return self._code

    @property
    def code(self) -> str:
        return _OPT_CODES.get(self._code, str(self._code))

    @property
    def data(self) -> bytes | None:
        return self._data or None

    def __len__(self) -> int:
        return len(self._data)


class ScamperHostOPT(NoInit):
    """EDNS0 option elements.  Only built when a decoder provides them;
    the warts encoding of OPT data is not decoded yet (see module doc of
    :mod:`..warts.host`)."""

    __slots__ = ("_elems",)
    _elems: tuple[ScamperHostOPTElem, ...]

    @classmethod
    def _create(cls, elems: Iterable[tuple[int, bytes]]) -> ScamperHostOPT:
        obj = cls._new()
        obj._elems = tuple(ScamperHostOPTElem._create(c, d) for c, d in elems)
        return obj

    @property
    def elemc(self) -> int:
        return len(self._elems)

    def elem(self, i: int) -> ScamperHostOPTElem | None:
        return self._elems[i] if isinstance(i, int) and 0 <= i < len(self._elems) else None

    def __iter__(self) -> Iterator[ScamperHostOPTElem]:
        return iter(self._elems)


class ScamperHostSVCBParam(NoInit):
    __slots__ = ("_key", "_val")
    _key: int
    _val: bytes

    @classmethod
    def _create(cls, key: int, val: bytes) -> ScamperHostSVCBParam:
        obj = cls._new()
        obj._key, obj._val = key, val
        return obj

    @property
    def key_num(self) -> int:
        return self._key

    @property
    def key(self) -> str:
        return _SVCB_KEYS.get(self._key, f"key{self._key}")

    @property
    def val(self) -> bytes | None:
        return self._val or None

    def __len__(self) -> int:
        return len(self._val)


class ScamperHostSVCB(NoInit):
    """SVCB/HTTPS record data (see :class:`ScamperHostOPT` on decoding)."""

    __slots__ = ("_params", "_prio", "_target")
    _prio: int
    _target: str | None
    _params: tuple[ScamperHostSVCBParam, ...]

    @classmethod
    def _create(
        cls, priority: int, target: str | None, params: Iterable[tuple[int, bytes]]
    ) -> ScamperHostSVCB:
        obj = cls._new()
        obj._prio, obj._target = priority, target
        obj._params = tuple(ScamperHostSVCBParam._create(k, v) for k, v in params)
        return obj

    @property
    def target(self) -> str | None:
        return self._target

    @property
    def priority(self) -> int:
        return self._prio

    @property
    def paramc(self) -> int:
        return len(self._params)

    def param(self, i: int) -> ScamperHostSVCBParam | None:
        return self._params[i] if isinstance(i, int) and 0 <= i < len(self._params) else None

    def __iter__(self) -> Iterator[ScamperHostSVCBParam]:
        return iter(self._params)


class ScamperHostRR(NoInit):
    """One resource record with typed views of its data."""

    __slots__ = ("_rr",)
    _rr: HostRRData

    @classmethod
    def _create(cls, rr: HostRRData) -> ScamperHostRR:
        obj = cls._new()
        obj._rr = rr
        return obj

    @property
    def rclass(self) -> int:
        return self._rr.rclass

    @property
    def rtype(self) -> int:
        return self._rr.rtype

    @property
    def ttl(self) -> int:
        return self._rr.ttl

    @property
    def name(self) -> str | None:
        return self._rr.name

    def _in(self, *types: int) -> bool:
        return self._rr.rclass == CLASS_IN and self._rr.rtype in types

    @property
    def addr(self) -> ScamperAddr | None:
        d = self._rr.data
        return d if self._in(TYPE_A, TYPE_AAAA) and isinstance(d, ScamperAddr) else None

    def _str(self, rtype: int) -> str | None:
        d = self._rr.data
        return d if self._in(rtype) and isinstance(d, str) else None

    @property
    def ns(self) -> str | None:
        return self._str(TYPE_NS)

    @property
    def cname(self) -> str | None:
        return self._str(TYPE_CNAME)

    @property
    def ptr(self) -> str | None:
        return self._str(TYPE_PTR)

    @property
    def mx(self) -> ScamperHostMX | None:
        d = self._rr.data
        return ScamperHostMX._create(d) if self._in(TYPE_MX) and isinstance(d, MxData) else None

    @property
    def soa(self) -> ScamperHostSOA | None:
        d = self._rr.data
        return ScamperHostSOA._create(d) if self._in(TYPE_SOA) and isinstance(d, SoaData) else None

    @property
    def txt(self) -> ScamperHostTXT | None:
        d = self._rr.data
        ok = self._rr.rtype == TYPE_TXT and self._rr.rclass in (CLASS_IN, CLASS_CH)
        return ScamperHostTXT._create(d) if ok and isinstance(d, TxtData) else None

    @property
    def opt(self) -> ScamperHostOPT | None:
        return None  # OPT data is not decoded from warts yet

    @property
    def svcb(self) -> ScamperHostSVCB | None:
        return None  # SVCB data is not decoded from warts yet

    @property
    def https(self) -> ScamperHostSVCB | None:
        return None

    def _is_opt(self) -> bool:
        return self._rr.rtype == TYPE_OPT

    @property
    def udpsize(self) -> int | None:
        return self._rr.rclass if self._is_opt() else None

    @property
    def edns_version(self) -> int | None:
        return (self._rr.ttl >> 16) & 0xFF if self._is_opt() else None

    @property
    def edns_do(self) -> bool | None:
        return bool(self._rr.ttl & 0x8000) if self._is_opt() else None

    def __str__(self) -> str:
        return rr_text(self._rr)


# ---------------------------------------------------------------------------
# queries and the measurement


def _opt_rr(q: HostQueryData) -> HostRRData | None:
    return next((rr for rr in q.ar if rr.rtype == TYPE_OPT), None)


class _QueryView:
    """Response properties shared by ScamperHostQuery and ScamperHost."""

    __slots__ = ()

    def _q(self) -> HostQueryData | None:
        raise NotImplementedError

    def _resp(self) -> HostQueryData | None:
        q = self._q()
        return q if q is not None and q.rx is not None and q.rx != (0, 0) else None

    @property
    def tx(self) -> _dt.datetime | None:
        q = self._q()
        return to_datetime(q.tx) if q is not None else None

    @property
    def rx(self) -> _dt.datetime | None:
        q = self._resp()
        return to_datetime(q.rx) if q is not None else None

    @property
    def rtt(self) -> _dt.timedelta | None:
        q = self._resp()
        if q is None or q.tx is None or q.rx is None:
            return None
        us = (q.rx[0] - q.tx[0]) * 1_000_000 + q.rx[1] - q.tx[1]
        return us_to_timedelta(us)

    @property
    def rcode_num(self) -> int | None:
        q = self._resp()
        return q.rcode if q is not None else None

    @property
    def rcode(self) -> str | None:
        v = self.rcode_num
        return None if v is None else rcode_str(v)

    @property
    def extended_rcode_num(self) -> int | None:
        q = self._resp()
        if q is None:
            return None
        opt = _opt_rr(q)
        return q.rcode if opt is None else ((opt.ttl >> 24) << 4) | q.rcode

    @property
    def extended_rcode(self) -> str | None:
        v = self.extended_rcode_num
        return None if v is None else rcode_str(v)

    def _opt(self) -> HostRRData | None:
        q = self._resp()
        return _opt_rr(q) if q is not None else None

    @property
    def udpsize(self) -> int | None:
        o = self._opt()
        return o.rclass if o is not None else None

    @property
    def edns_version(self) -> int | None:
        o = self._opt()
        return (o.ttl >> 16) & 0xFF if o is not None else None

    @property
    def edns_do(self) -> bool | None:
        o = self._opt()
        return bool(o.ttl & 0x8000) if o is not None else None

    def _section(self, name: str) -> list[HostRRData]:
        q = self._q()
        rrs: list[HostRRData] = getattr(q, name) if q is not None else []
        return rrs

    @property
    def ancount(self) -> int:
        return len(self._section("an"))

    @property
    def nscount(self) -> int:
        return len(self._section("ns"))

    @property
    def arcount(self) -> int:
        return len(self._section("ar"))

    def _get(self, name: str, i: int) -> ScamperHostRR | None:
        rrs = self._section(name)
        if not isinstance(i, int) or not 0 <= i < len(rrs):
            return None
        return ScamperHostRR._create(rrs[i])

    def an(self, i: int) -> ScamperHostRR | None:
        return self._get("an", i)

    def ns(self, i: int) -> ScamperHostRR | None:
        return self._get("ns", i)

    def ar(self, i: int) -> ScamperHostRR | None:
        return self._get("ar", i)


class ScamperHostQuery(_QueryView, NoInit):
    """One DNS query/response exchange (no public member returns it)."""

    __slots__ = ("_qd",)
    _qd: HostQueryData

    @classmethod
    def _create(cls, q: HostQueryData) -> ScamperHostQuery:
        obj = cls._new()
        obj._qd = q
        return obj

    def _q(self) -> HostQueryData | None:
        return self._qd

    @property
    def flags(self) -> int:
        return self._qd.flags

    @property
    def id(self) -> int:
        return self._qd.id


def _filter(rrtypes: object) -> frozenset[int] | None:
    """Validate an ``rrtypes`` argument eagerly, as the module does."""
    if rrtypes is None:
        return None
    if isinstance(rrtypes, str) or not isinstance(rrtypes, Iterable):
        raise ValueError("rrtypes must be a list of strings")
    out = set()
    for t in rrtypes:
        if not isinstance(t, str) or t.lower() not in _RRTYPE_FILTERS:
            raise ValueError(f"invalid rrtype {t!r}")
        out.add(_RRTYPE_FILTERS[t.lower()])
    return frozenset(out)


class ScamperHost(_QueryView, ScamperResult):
    """A DNS measurement (reference §7.5)."""

    __slots__ = ("_d",)
    _d: HostData

    @classmethod
    def _create(cls, data: HostData, inst: Any = None) -> ScamperHost:
        return cls._from_data(data, inst)

    def _q(self) -> HostQueryData | None:
        return next((q for q in self._d.queries if q.rx is not None and q.rx != (0, 0)), None)

    @property
    def start(self) -> _dt.datetime:
        st = to_datetime(self._d.start or (0, 0))
        assert st is not None
        return st

    @property
    def src(self) -> ScamperAddr | None:
        return self._d.src

    @property
    def dst(self) -> ScamperAddr | None:
        return self._d.dst

    @property
    def stop_reason(self) -> ScamperHostStop | int:
        return enum_or_int(ScamperHostStop, self._d.stop)

    @property
    def stop_reason_str(self) -> str:
        return name_of(STOP_NAMES, self._d.stop)

    @property
    def wait_timeout(self) -> _dt.timedelta:
        return _dt.timedelta(milliseconds=self._d.wait)

    @property
    def qname(self) -> str:
        return self._d.qname or ""

    @property
    def qtype_num(self) -> int:
        return self._d.qtype

    @property
    def qtype(self) -> str:
        return qtype_str(self._d.qtype)

    @property
    def qclass(self) -> str:
        return qclass_str(self._d.qclass)

    @property
    def mqtypes(self) -> list[str]:
        return []

    @property
    def ecs(self) -> str | None:
        return self._d.ecs

    def _iter(self, name: str, rrtypes: object, use_filter: bool) -> Iterator[ScamperHostRR]:
        types = _filter(rrtypes)
        rrs = self._section(name)
        if use_filter and types is not None:
            rrs = [rr for rr in rrs if rr.rclass == CLASS_IN and rr.rtype in types]
        return iter([ScamperHostRR._create(rr) for rr in rrs])

    def ans(self, rrtypes: object = None) -> Iterator[ScamperHostRR]:
        return self._iter("an", rrtypes, True)

    def nss(self, rrtypes: object = None) -> Iterator[ScamperHostRR]:
        return self._iter("ns", rrtypes, True)

    def ars(self, rrtypes: object = None) -> Iterator[ScamperHostRR]:
        return self._iter("ar", None, False)

    def _ans_of(self, *types: int) -> list[HostRRData]:
        return [rr for rr in self._section("an") if rr.rclass == CLASS_IN and rr.rtype in types]

    def ans_addrs(self) -> list[ScamperAddr]:
        out: list[ScamperAddr] = []
        for rr in self._ans_of(TYPE_A, TYPE_AAAA):
            if isinstance(rr.data, ScamperAddr) and rr.data not in out:
                out.append(rr.data)
        return out

    def _names(self, rtype: int) -> list[str]:
        out: list[str] = []
        for rr in self._ans_of(rtype):
            if isinstance(rr.data, str) and rr.data not in out:
                out.append(rr.data)
        return out

    def ans_nses(self) -> list[str]:
        return self._names(TYPE_NS)

    def ans_ptrs(self) -> list[str]:
        return self._names(TYPE_PTR)

    def ans_txts(self) -> list[ScamperHostTXT]:
        return [
            ScamperHostTXT._create(rr.data)
            for rr in self._section("an")
            if rr.rtype == TYPE_TXT and isinstance(rr.data, TxtData)
        ]

    def ans_mxes(self) -> list[ScamperHostMX]:
        return [
            ScamperHostMX._create(rr.data)
            for rr in self._ans_of(TYPE_MX)
            if isinstance(rr.data, MxData)
        ]

    def to_json(self) -> str | None:
        return host_json(self._d)
