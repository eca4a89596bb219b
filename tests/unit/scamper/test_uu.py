"""The uuencoded control-socket form decodes back to the warts records."""

from __future__ import annotations

import binascii
import random

import pytest

from scamperlab.scamper.warts import WartsDecoder
from scamperlab.wire.uu import UUDecodeError, UUStreamDecoder, uudecode_lines, uudecode_object
from scamperlab.wire.warts.errors import WartsTruncatedError
from scamperlab.wire.warts.records import split_records

from .golden import GOLDEN


def uuencode(data: bytes) -> bytes:
    """What scamper sends: 45-byte lines, backtick for zero, then "`\\n"."""
    out = b"".join(
        binascii.b2a_uu(data[i : i + 45], backtick=True) for i in range(0, len(data), 45)
    )
    return out + b"`\n"


def _records() -> list[bytes]:
    import struct

    data = (GOLDEN / "results.warts").read_bytes()
    return [struct.pack(">HHI", 0x1205, t, len(b)) + b for t, b in split_records(data)]


def test_object_roundtrip() -> None:
    for rec in _records():
        enc = uuencode(rec)
        assert all(len(line) <= 62 for line in enc.split(b"\n"))
        assert uudecode_object(enc) == rec
        assert uudecode_object(enc.decode()) == rec


def test_lines_stop_at_terminator_and_need_it() -> None:
    rec = _records()[2]
    lines = [*uuencode(rec).split(b"\n"), b"ignored"]
    assert uudecode_lines(lines) == rec
    with pytest.raises(WartsTruncatedError):
        uudecode_lines(uuencode(rec).split(b"\n")[:-2])
    with pytest.raises(UUDecodeError):
        uudecode_lines([b"M\x01\x02", b"`"])


def test_stream_decoder_and_warts_decoder_together() -> None:
    recs = _records()
    stream = b"".join(uuencode(r) for r in recs)
    uu, wd = UUStreamDecoder(), WartsDecoder()
    rng = random.Random(3)
    objs = []
    i = 0
    while i < len(stream):
        n = rng.randint(1, 200)
        for rec in uu.feed(stream[i : i + n]):
            obj = wd.decode_record(rec, inst="inst0")
            if obj is not None:
                objs.append(obj)
        i += n
    assert not uu.in_object
    assert len(objs) == len(WartsDecoder().decode(b"".join(recs)))
    assert all(o.inst == "inst0" for o in objs if hasattr(o, "userid"))


def test_stream_refuses_runaway_line() -> None:
    with pytest.raises(UUDecodeError):
        UUStreamDecoder().feed(b"M" * 5000)
