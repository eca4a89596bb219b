"""The classes match the real module's public surface (names, parameter
lists, properties) as recorded in scamper-python-api.json, cannot be
instantiated directly, and cannot be pickled."""

from __future__ import annotations

import inspect
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from scamperlab.scamper import enums, results
from scamperlab.scamper.addr import ScamperAddr
from scamperlab.scamper.warts import WartsDecoder
from tests.reference import INVENTORY_PATH

from .golden import GOLDEN

INVENTORY = json.loads(INVENTORY_PATH.read_text())["classes"]

RESULT_CLASSES = [
    "ScamperList",
    "ScamperCycle",
    "ScamperIcmpExts",
    "ScamperIcmpExt",
    "ScamperIcmpMplsLabelStackEntry",
    "ScamperPing",
    "ScamperPingReply",
    "ScamperPingReplyIPTS",
    "ScamperTrace",
    "ScamperTraceHop",
    "ScamperTracePmtud",
    "ScamperTracePmtudNote",
    "ScamperHost",
    "ScamperHostQuery",
    "ScamperHostRR",
    "ScamperHostMX",
    "ScamperHostSOA",
    "ScamperHostTXT",
    "ScamperHostOPT",
    "ScamperHostOPTElem",
    "ScamperHostSVCB",
    "ScamperHostSVCBParam",
]
ENUMS = [n for n, c in INVENTORY.items() if "members" in c]


def _cls(name: str) -> Any:
    if name == "ScamperAddr":
        return ScamperAddr
    return getattr(results, name, None) or getattr(enums, name)


def _params(func: Any) -> list[str]:
    out = []
    for p in list(inspect.signature(func).parameters.values())[1:]:
        if p.kind is p.VAR_POSITIONAL:
            out.append("*" + p.name)
        elif p.kind is p.VAR_KEYWORD:
            out.append("**" + p.name)
        elif p.default is not p.empty:
            out.append(f"{p.name}={p.default!r}")
        else:
            out.append(p.name)
    return out


@pytest.mark.parametrize("name", [*RESULT_CLASSES, "ScamperAddr"])
def test_members_match_inventory(name: str) -> None:
    cls = _cls(name)
    inv = INVENTORY[name]
    for prop in inv["properties"]:
        assert isinstance(inspect.getattr_static(cls, prop, None), property), f"{name}.{prop}"
    for meth, params in inv["methods"].items():
        if meth == "__init__":
            continue
        func = inspect.getattr_static(cls, meth, None)
        assert callable(func), f"{name}.{meth}"
        assert _params(func) == params, f"{name}.{meth}: {_params(func)} != {params}"
    for extra in inv.get("runtime_only", []):
        assert callable(inspect.getattr_static(cls, extra, None)), f"{name}.{extra}"


@pytest.mark.parametrize("name", ENUMS)
def test_enums_match_inventory(name: str) -> None:
    cls = getattr(enums, name)
    assert {m.name: m.value for m in cls} == INVENTORY[name]["members"]
    assert all(isinstance(m, int) for m in cls)


@pytest.mark.parametrize("name", [n for n in RESULT_CLASSES if not INVENTORY[n]["constructible"]])
def test_not_instantiable(name: str) -> None:
    with pytest.raises(TypeError, match=r"^This class cannot be instantiated directly\.$"):
        _cls(name)()


def _objs() -> list[Any]:
    return WartsDecoder().decode((GOLDEN / "results.warts").read_bytes())


def test_results_cannot_be_pickled() -> None:
    ping = next(o for o in _objs() if type(o).__name__ == "ScamperPing")
    with pytest.raises(TypeError):
        pickle.dumps(ping)
    with pytest.raises(TypeError):
        pickle.dumps(next(iter(ping)))


def test_inst_is_attached_and_settable() -> None:
    data = (GOLDEN / "results.warts").read_bytes()
    marker = object()
    objs = WartsDecoder().decode(data, inst=marker)
    results_ = [o for o in objs if hasattr(o, "userid")]
    assert results_ and all(o.inst is marker for o in results_)
    file_objs = [o for o in _objs() if hasattr(o, "userid")]
    assert all(o.inst is None for o in file_objs)
    file_objs[0]._inst = marker
    assert file_objs[0].inst is marker


def test_common_result_properties() -> None:
    objs = _objs()
    lst = objs[0]
    for o in objs:
        if not hasattr(o, "userid"):
            continue
        assert o.list == lst and o.list.name == "/path/to/ctl.sock1:0"
        assert o.cycle is not None and o.cycle.id == 1 and o.cycle.hostname == "vm"
        assert o.start is not None and o.start.tzinfo is not None
        assert o.errmsg is None


def test_cycle_stop_updates_shared_cycle() -> None:
    path = Path(__file__).resolve().parents[2] / "fixtures" / "warts" / "ping-20211212.warts"
    objs = WartsDecoder().decode(path.read_bytes())
    start, stop = objs[1], objs[-1]
    assert type(stop).__name__ == "ScamperCycle" and stop.stop is not None
    assert stop.stop.microsecond == 999999 and stop.start is not None
    assert start.stop == stop.stop  # same cycle object underneath
    ping = objs[2]
    assert ping.cycle.stop == stop.stop
    assert start == ping.cycle and not (start < ping.cycle)
