"""Truncated, corrupted and random input raises the decoder's error type
(a ValueError subclass) - never another exception, never a hang - and
objects decoded from damaged-but-parseable records stay usable."""

from __future__ import annotations

import contextlib
import random
import struct
from pathlib import Path
from typing import Any

import pytest

from scamperlab.scamper.warts import WartsDecoder, WartsError
from scamperlab.wire.warts.decoder import StreamDecoder
from scamperlab.wire.warts.errors import WartsFormatError, WartsTruncatedError
from scamperlab.wire.warts.records import split_records

from .golden import GOLDEN

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "warts"
SOURCES = [GOLDEN / "results.warts", *sorted(FIXTURES.glob("*.warts"))]
DECODED_TYPES = (1, 2, 3, 4, 6, 7, 14)


def _records(path: Path) -> list[bytes]:
    """Each record (header included) of a file."""
    data = path.read_bytes()
    out = []
    for rtype, body in split_records(data):
        out.append(struct.pack(">HHI", 0x1205, rtype, len(body)) + body)
    return out


def _primed(path: Path, upto: int) -> WartsDecoder:
    """A decoder that has seen the records before index ``upto``."""
    d = WartsDecoder()
    for rec in _records(path)[:upto]:
        d.decode_record(rec)
    return d


def _exercise(obj: Any) -> None:
    """Touch every public member of a decoded object (and nested ones)."""
    seen = 0
    stack = [obj]
    while stack and seen < 200:
        o = stack.pop()
        seen += 1
        for name in dir(o):
            if name.startswith("_"):
                continue
            attr = getattr(type(o), name, None)
            if isinstance(attr, property):
                v = getattr(o, name)
            elif callable(attr):
                try:
                    v = getattr(o, name)()
                except TypeError:
                    continue  # needs arguments
            else:
                continue
            if hasattr(v, "__iter__") and not isinstance(v, (str, bytes)):
                with contextlib.suppress(TypeError):
                    stack.extend(x for x in v if x is not None and type(x).__module__ != "builtins")
            elif v is not None and type(v).__module__.startswith("scamperlab"):
                stack.append(v)
        str(o)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_truncated_bodies_raise(path: Path) -> None:
    recs = _records(path)
    checked = 0
    for i, rec in enumerate(recs):
        rtype = struct.unpack_from(">H", rec, 2)[0]
        if rtype not in DECODED_TYPES:
            continue
        body = rec[8:]
        for cut in range(len(body)):
            short = struct.pack(">HHI", 0x1205, rtype, cut) + body[:cut]
            d = _primed(path, i)
            with pytest.raises(WartsError):
                d.decode_record(short)
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_header_claims_more_than_present(path: Path) -> None:
    for rec in _records(path):
        with pytest.raises(WartsTruncatedError):
            WartsDecoder().decode_record(rec[:-1])
    with pytest.raises(WartsTruncatedError):
        WartsDecoder().decode(path.read_bytes()[:-3])


def test_bad_magic_and_short_header() -> None:
    d = WartsDecoder()
    with pytest.raises(WartsFormatError):
        d.decode_record(b"\x12\x06\x00\x07\x00\x00\x00\x00")
    with pytest.raises(WartsTruncatedError):
        d.decode_record(b"\x12\x05\x00")
    with pytest.raises(WartsFormatError):
        d.decode_record(b"\x12\x05\x00\x00\x00\x00\x00\x00")
    with pytest.raises(ValueError):  # the family is ValueError
        d.decode(b"garbage!" * 4)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_corrupted_bytes_raise_or_decode(path: Path) -> None:
    rng = random.Random(20260420)
    recs = _records(path)
    outcomes = {"error": 0, "ok": 0}
    for i, rec in enumerate(recs):
        rtype = struct.unpack_from(">H", rec, 2)[0]
        if rtype not in DECODED_TYPES:
            continue
        for _ in range(60):
            bad = bytearray(rec)
            for _ in range(rng.randint(1, 4)):
                bad[rng.randrange(8, len(bad))] = rng.randrange(256)
            d = _primed(path, i)
            try:
                obj = d.decode_record(bytes(bad))
            except WartsError:
                outcomes["error"] += 1
                continue
            outcomes["ok"] += 1
            if obj is not None:
                _exercise(obj)
    assert outcomes["error"] > 0


def test_random_bodies() -> None:
    rng = random.Random(1205)
    d = _primed(GOLDEN / "results.warts", 2)  # list + cycle known
    for _ in range(3000):
        rtype = rng.choice(DECODED_TYPES)
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 120)))
        rec = struct.pack(">HHI", 0x1205, rtype, len(body)) + body
        try:
            obj = d.decode_record(rec)
        except WartsError:
            continue
        if obj is not None:
            _exercise(obj)


def test_bad_record_leaves_state_untouched() -> None:
    recs = _records(GOLDEN / "results.warts")
    d = StreamDecoder()
    d.decode_record(recs[0])
    lists = dict(d.state.lists)
    broken_cycle = recs[1][:8] + b"\x00\x00\x00\x01\x00\x00\x00\x63" + recs[1][16:]
    with pytest.raises(WartsFormatError):  # refers to list 99, undefined
        d.decode_record(broken_cycle)
    assert d.state.lists == lists and not d.state.cycles
    for rec in recs[1:]:
        d.decode_record(rec)  # the stream continues normally


def test_unknown_types_are_none_or_raw() -> None:
    # a record type no scamper release has used (yet), amid real records
    data = (GOLDEN / "results.warts").read_bytes() + struct.pack(">HHI", 0x1205, 127, 3) + b"abc"
    objs = WartsDecoder().decode(data)
    assert all(type(o).__name__ != "WartsRawRecord" for o in objs)
    raw = WartsDecoder(raw_unknown=True).decode(data)
    kinds = {getattr(o, "type", None) for o in raw if type(o).__name__ == "WartsRawRecord"}
    assert kinds == {127}


def test_feed_in_chunks_matches_decode() -> None:
    data = (GOLDEN / "results.warts").read_bytes()
    whole = [type(o).__name__ for o in WartsDecoder().decode(data)]
    rng = random.Random(7)
    d = WartsDecoder()
    got: list[str] = []
    i = 0
    while i < len(data):
        n = rng.randint(1, 97)
        got += [type(o).__name__ for o in d.feed(data[i : i + n])]
        i += n
    assert got == whole and d.pending == 0
    d2 = WartsDecoder()
    assert d2.feed(data[:5]) == [] and d2.pending == 5
    with pytest.raises(WartsFormatError):
        WartsDecoder().feed(b"\x00" * 8)


def test_iter_decode_yields_objects_before_an_error() -> None:
    data = (GOLDEN / "results.warts").read_bytes()
    got = []
    with pytest.raises(WartsTruncatedError):
        for obj in WartsDecoder().iter_decode(data[:-3]):
            got.append(obj)
    # every record but the damaged last one (a sniff) was decoded
    assert len(got) == len(WartsDecoder().decode(data)) - 1
