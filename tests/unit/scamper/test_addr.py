"""ScamperAddr behaves as reference §6.2 and checklist items 62-63 say."""

from __future__ import annotations

import copy
import pickle

import pytest

from scamperlab.scamper.addr import ScamperAddr


def test_construction_and_text() -> None:
    a = ScamperAddr("192.0.2.1")
    assert str(a) == "192.0.2.1" and repr(a) == "ScamperAddr('192.0.2.1')"
    assert format(a, ">12") == "   192.0.2.1"
    assert str(ScamperAddr("2001:DB8::1")) == "2001:db8::1"
    assert str(ScamperAddr(bytes(15) + b"\x01")) == "::1"
    assert str(ScamperAddr(b"\x00\x11\x22\x33\x44\x55")) == "00:11:22:33:44:55"
    assert str(ScamperAddr("::ffff:192.0.2.1")) == "::ffff:192.0.2.1"
    assert ScamperAddr("10.0.0.1").packed == b"\n\x00\x00\x01"
    with pytest.raises(ValueError, match="expected bytes array of 4/6/16 bytes"):
        ScamperAddr(b"\x01\x02")
    for bad in ("nope", "1.2.3", 42, None):
        with pytest.raises(ValueError, match="invalid address"):
            ScamperAddr(bad)  # type: ignore[arg-type]


def test_equality_ordering_hashing() -> None:
    a = ScamperAddr("192.0.2.1")
    assert a == "192.0.2.1" and a == ScamperAddr("192.0.2.1") and a != "192.0.2.2"
    assert (a == "not an address") is False
    assert hash(a) == hash(ScamperAddr(b"\xc0\x00\x02\x01"))
    assert len({a, ScamperAddr("192.0.2.1"), ScamperAddr("::1")}) == 2
    v4, v6, mac = ScamperAddr("255.255.255.255"), ScamperAddr("::"), ScamperAddr(bytes(6))
    assert v4 < v6 < mac and sorted([mac, v6, v4]) == [v4, v6, mac]
    assert ScamperAddr("10.0.0.2") > "10.0.0.1"
    with pytest.raises(TypeError):
        _ = a < 5


def test_predicates() -> None:
    assert ScamperAddr("10.1.2.3").is_rfc1918() and ScamperAddr("10.1.2.3").is_reserved()
    assert ScamperAddr("2001:db8::1").is_unicast()
    assert not ScamperAddr("8.8.8.8").is_unicast() and not ScamperAddr("8.8.8.8").is_reserved()
    assert ScamperAddr("169.254.1.1").is_linklocal() and ScamperAddr("fe80::1").is_linklocal()
    assert ScamperAddr("2002::1").is_6to4() and ScamperAddr("2002::1").is_reserved()
    assert ScamperAddr("fc00::1").is_reserved() and not ScamperAddr("2a00::1").is_reserved()
    assert ScamperAddr("127.0.0.1").is_ipv4() and ScamperAddr("::1").is_ipv6()
    for m in ("is_ipv4", "is_ipv6", "is_linklocal", "is_rfc1918", "is_unicast", "is_6to4"):
        assert type(getattr(ScamperAddr("::1"), m)()) is bool


def test_pickle_and_state() -> None:
    a = ScamperAddr("2001:db8::5")
    assert pickle.loads(pickle.dumps(a)) == a and copy.copy(a) == a
    assert a.__getstate__() == {"type": 2, "addr": a.packed}
    b = ScamperAddr("1.1.1.1")
    with pytest.raises(KeyError):
        b.__setstate__({"type": 1})
    with pytest.raises(ValueError):
        b.__setstate__({"type": 1, "addr": b"\x00"})
    with pytest.raises(TypeError):
        b.__setstate__({"type": "x", "addr": b"\x00" * 4})
