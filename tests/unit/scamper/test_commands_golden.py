"""Golden tests for the ``do_*`` → scamper command translation.

Every line of ``golden/commands.jsonl`` (953 calls recorded from CAIDA's
module 20260420) becomes one test: the builder must produce the recorded
command line or raise the recorded exception.  The few lines where module
20260902 deliberately behaves differently carry their 20260902 expectation
in ``VERSION_OVERRIDES``.  A second group checks the builders' signatures
against the 20260902 inventory.
"""

from __future__ import annotations

import ast
import datetime
import importlib
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from scamperlab.scamper.commands import (
    BUILDERS,
    LEGACY_KEYWORDS,
    ScamperDealiasMidardiscRound,
    ScamperDealiasProbedef,
    build_dns,
    build_ping,
)
from tests.reference import REFERENCE

GOLDEN = REFERENCE / "golden" / "commands.jsonl"
INVENTORY = REFERENCE / "scamper-python-api.json"

pytestmark = pytest.mark.skipif(
    not (GOLDEN.exists() and INVENTORY.exists()),
    reason=f"reference data not found under {REFERENCE}",
)


class _StandInAddr:
    """Used only if ``scamperlab.scamper.addr`` is missing; named like the real class."""

    def __init__(self, text: str) -> None:
        self._text = text

    def __str__(self) -> str:
        return self._text


_StandInAddr.__name__ = "ScamperAddr"


def _addr_class() -> Callable[[str], object]:
    try:
        module = importlib.import_module("scamperlab.scamper.addr")
    except ImportError:
        return _StandInAddr
    cls: Callable[[str], object] = module.ScamperAddr
    return cls


class _Inst:
    """Marker for a golden ``{"ScamperInst": name}`` value (a valid ``inst=``)."""


INST = _Inst()


def decode(value: Any) -> Any:
    """Turn the golden README's value encoding back into Python objects."""
    if not isinstance(value, dict):
        return value
    if "float" in value:
        return float(value["float"])
    if "timedelta_seconds" in value:
        return datetime.timedelta(seconds=value["timedelta_seconds"])
    if "datetime" in value:
        when = datetime.datetime.fromisoformat(value["datetime"])
        if when.tzinfo is None:
            # naive values were read as local time when recorded; rebuild one
            # whose timestamp() is the recorded one on this machine too
            when = datetime.datetime.fromtimestamp(value["timestamp"])
        return when
    if "bytes_hex" in value:
        return bytes.fromhex(value["bytes_hex"])
    if "ScamperAddr" in value:
        return _addr_class()(value["ScamperAddr"])
    if "list" in value:
        return [decode(v) for v in value["list"]]
    if "tuple" in value:
        return tuple(decode(v) for v in value["tuple"])
    if "dict" in value:
        return {decode(k): decode(v) for k, v in value["dict"]}
    if "ScamperInst" in value:
        return INST
    if "ScamperDealiasProbedef" in value:
        spec = value["ScamperDealiasProbedef"]
        pd = ScamperDealiasProbedef(
            *[decode(a) for a in spec["args"]],
            **{k: decode(v) for k, v in spec["kwargs"].items()},
        )
        assert str(pd) == value["str"]
        return pd
    if "ScamperDealiasMidardiscRound" in value:
        rnd = ScamperDealiasMidardiscRound(
            *[decode(a) for a in value["ScamperDealiasMidardiscRound"]["args"]]
        )
        assert str(rnd) == value["str"]
        return rnd
    if value.get("pytype") == "bytearray":
        return bytearray(ast.literal_eval(value["repr"][len("bytearray(") : -1]))
    raise AssertionError(f"unknown golden encoding {value!r}")


def _inventory_methods() -> dict[str, list[str]]:
    if not INVENTORY.exists():
        return {}
    data = json.loads(INVENTORY.read_text())
    methods: dict[str, list[str]] = data["classes"]["ScamperCtrl"]["methods"]
    return {name: params for name, params in methods.items() if name.startswith("do_")}


METHODS = _inventory_methods()


@dataclass
class Expectation:
    """What a builder must do for one golden line."""

    command: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    note: str = field(default="")


def _key(method: str, kwargs: dict[str, Any]) -> str:
    return method + " " + json.dumps(kwargs, sort_keys=True)


_TCP_VALUE = "specify method when specifying a TCP value"

#: Golden lines whose expectation differs in module 20260902 (keyed by
#: method and raw kwargs, so a reordered golden file still matches).
VERSION_OVERRIDES: dict[str, Expectation] = {
    _key("do_ping", {"ip_rr": True}): Expectation("ping -R 127.0.0.1"),
    _key("do_ping", {"ip_ts": "tsonly"}): Expectation("ping -T tsonly 127.0.0.1"),
    _key("do_ping", {"tcp_mss": 1400}): Expectation(None, "ValueError", _TCP_VALUE),
    _key("do_ping", {"tcp_ack": 1}): Expectation(None, "ValueError", _TCP_VALUE),
    _key("do_ping", {"tcp_seq": 1}): Expectation(None, "ValueError", _TCP_VALUE),
    _key("do_dns", {"mqtypes": {"list": ["A", "AAAA"]}}): Expectation(
        "host -O mqtypes=A,AAAA www.lab.example"
    ),
}


@dataclass
class GoldenCase:
    lineno: int
    method: str
    raw: dict[str, Any]

    @property
    def id(self) -> str:
        return f"L{self.lineno:03d}-{self.method}"


def _cases() -> list[GoldenCase]:
    if not GOLDEN.exists():
        return []
    lines = GOLDEN.read_text().splitlines()
    return [GoldenCase(n, rec["method"], rec) for n, rec in enumerate(map(json.loads, lines), 1)]


CASES = _cases()


def _expectation(case: GoldenCase) -> Expectation:
    override = VERSION_OVERRIDES.get(_key(case.method, case.raw["kwargs"]))
    if override is not None:
        return override
    exc = case.raw["exception"]
    if exc is None:
        return Expectation(case.raw["command"])
    return Expectation(None, exc["type"], exc["message"])


def _bind(case: GoldenCase) -> dict[str, Any]:
    """Name the positional arguments after the inventory's parameter list."""
    names = [p.split("=", 1)[0] for p in METHODS[case.method]]
    args = [decode(a) for a in case.raw["args"]]
    kwargs = {k: decode(v) for k, v in case.raw["kwargs"].items()}
    assert len(args) <= len(names)
    bound = dict(zip(names, args, strict=False))
    bound.update(kwargs)
    bound.pop("sync", None)
    return bound


def _signature_error_tail(message: str) -> str | None:
    """Message text after ``name()`` for argument-binding TypeErrors, else None."""
    head, sep, tail = message.partition("() ")
    if sep and head.isidentifier() and "argument" in tail:
        return tail
    return None


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_golden_command(case: GoldenCase) -> None:
    kwargs = _bind(case)
    inst = kwargs.pop("inst", None)
    if inst is not None and inst is not INST:
        pytest.skip("inst validation belongs to the control plane, not the builder")
    expected = _expectation(case)
    builder = BUILDERS[case.method]

    if expected.error_type is None:
        assert builder(**kwargs) == expected.command
        return

    with pytest.raises(Exception) as info:
        builder(**kwargs)
    assert type(info.value).__name__ == expected.error_type
    assert expected.error_message is not None
    tail = _signature_error_tail(expected.error_message)
    if tail is None:
        assert str(info.value) == expected.error_message
    elif tail.startswith("got an unexpected keyword"):
        assert _signature_error_tail(str(info.value)) == tail
    # other binding errors ("takes at least 1 positional argument") are
    # worded by Cython; only the type is meaningful


def _default(text: str) -> object:
    return ast.literal_eval(text)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_builder_signature_matches_inventory(method: str) -> None:
    params = [p for p in METHODS[method] if p.split("=", 1)[0] not in ("inst", "sync")]
    sig = inspect.signature(BUILDERS[method])
    legacy = LEGACY_KEYWORDS.get(method, ())
    actual = list(sig.parameters.values())
    assert [p.name for p in actual] == [p.split("=", 1)[0] for p in params] + list(legacy)
    for spec, param in zip(params, actual, strict=False):
        name, has_default, default = spec.partition("=")
        if has_default:
            assert param.kind is inspect.Parameter.KEYWORD_ONLY, name
            assert param.default == _default(default), name
        else:
            assert param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, name
            assert param.default is inspect.Parameter.empty, name
    for param in actual[len(params) :]:
        assert param.kind is inspect.Parameter.KEYWORD_ONLY
        assert param.default is None


def test_every_do_method_has_a_builder() -> None:
    assert set(BUILDERS) == set(METHODS)


# --- 20260902-only behaviour (no golden data exists for it) -----------------


def _raises(exc_type: type[BaseException], message: str) -> Any:
    """``pytest.raises`` requiring the exact message."""
    return pytest.raises(exc_type, match="^" + re.escape(message) + "$")


def test_ping_ip_ts_forms() -> None:
    assert build_ping("192.0.2.1", ip_ts="TSandAddr") == "ping -T TSandAddr 192.0.2.1"
    addr = _addr_class()("192.0.2.9")
    assert (
        build_ping("192.0.2.1", ip_ts=["192.0.2.8", addr])
        == "ping -T tsprespec=192.0.2.8,192.0.2.9 192.0.2.1"
    )
    with _raises(ValueError, "unexpected ip_ts method"):
        build_ping("192.0.2.1", ip_ts="bogus")
    for bad in ([1], ("192.0.2.8",), 5):
        with _raises(ValueError, "ip_ts expected list of addresses"):
            build_ping("192.0.2.1", ip_ts=bad)


def test_ping_tcp_mss_and_order() -> None:
    assert (
        build_ping("192.0.2.1", method="tcp-syn", tcp_seq=5, tcp_mss=1400, payload=b"\x01")
        == "ping -A 5 -O mss=1400 -B 01 -P tcp-syn 192.0.2.1"
    )
    with _raises(ValueError, "cannot specify tcp_mss with tcp-ack"):
        build_ping("192.0.2.1", method="tcp-ack", tcp_mss=1400)
    assert (
        build_ping("192.0.2.1", ip_rr=True, ip_ts="tsonly", dltx=True, size=60)
        == "ping -R -T tsonly -O dltx -s 60 192.0.2.1"
    )


def test_dns_mqtypes_validation() -> None:
    assert build_dns("x.example", nsid=True, mqtypes=["MX"]) == (
        "host -O nsid -O mqtypes=MX x.example"
    )
    for bad in ([], ["A", 1], "A", ("A",)):
        with _raises(ValueError, "mqtypes parameter was not a string list"):
            build_dns("x.example", mqtypes=bad)


def test_probedef_constructor_checks() -> None:
    pd = ScamperDealiasProbedef("UDP", dst="192.0.2.1", dport=33435)
    assert str(pd) == "-P udp -d 33435 -i 192.0.2.1"
    assert (pd.sport, pd.dport, pd.icmp_id, pd.icmp_sum, pd.ttl, pd.size) == (
        0,
        33435,
        None,
        None,
        0,
        0,
    )
    assert pd.is_udp() and not pd.is_tcp() and not pd.is_icmp()
    assert str(pd.dst) == "192.0.2.1"
    assert repr(pd) == "ScamperDealiasProbedef('udp', dst='192.0.2.1', dport=33435)"
    with pytest.raises(TypeError):
        ScamperDealiasProbedef(5)
    with _raises(ValueError, "unknown method icmp-time"):
        ScamperDealiasProbedef("icmp-time")
    with _raises(ValueError, "dport invalid for method icmp-echo"):
        ScamperDealiasProbedef("icmp-echo", dport=1)
    with _raises(ValueError, "icmp_sum invalid for method udp"):
        ScamperDealiasProbedef("udp", icmp_sum=1)
    with _raises(ValueError, "invalid TTL"):
        ScamperDealiasProbedef("udp", ttl=256)
    with _raises(ValueError, "invalid address nope"):
        ScamperDealiasProbedef("udp", dst="nope")
    with _raises(TypeError, "invalid src"):
        ScamperDealiasProbedef("udp", src=5)


def test_midardisc_round() -> None:
    rnd = ScamperDealiasMidardiscRound(datetime.timedelta(seconds=1.5), 0, 3)
    assert str(rnd) == "1.500000:0:3"
    assert (rnd.start, rnd.begin, rnd.end) == (datetime.timedelta(seconds=1.5), 0, 3)
    with _raises(TypeError, "expected timedelta for start"):
        ScamperDealiasMidardiscRound(1.5, 0, 3)
    with _raises(TypeError, "expected int for end"):
        ScamperDealiasMidardiscRound(datetime.timedelta(0), 0, "3")
