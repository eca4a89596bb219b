"""The warts codec on its own: plain data both ways, standard library only,
and what the mux loads with it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scamperlab.wire.warts.decoder import StreamDecoder
from scamperlab.wire.warts.encoder import ENCODERS, StreamEncoder
from scamperlab.wire.warts.listcycle import CycleData, ListData
from scamperlab.wire.warts.records import T_CYCLE_DEF, T_CYCLE_START, T_CYCLE_STOP, split_records
from tests.reference import GOLDEN

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "warts"
SOURCES = [GOLDEN / "results.warts", *sorted(FIXTURES.glob("*.warts"))]
CYCLES = (T_CYCLE_START, T_CYCLE_DEF, T_CYCLE_STOP)


def _results(data: bytes) -> list[tuple[int, Any]]:
    dec = StreamDecoder()
    out = []
    for rtype, body in split_records(data):
        got = dec.decode_body(rtype, body)
        if rtype in ENCODERS and got is not None:
            out.append((rtype, got))
    return out


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_plain_data_survives_a_write_and_read(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} not present")
    data = path.read_bytes()
    dec, enc = StreamDecoder(), StreamEncoder()
    out = bytearray()
    for rtype, body in split_records(data):
        got = dec.decode_body(rtype, body)
        if rtype in CYCLES:
            out += enc.cycle(rtype, got)
        elif rtype in ENCODERS and got is not None:
            out += enc.result(rtype, got)
    before, after = _results(data), _results(bytes(out))
    assert before and after == before


def test_results_of_a_stream_share_its_list_and_cycle_data() -> None:
    dec = StreamDecoder()
    seen = [
        dec.decode_body(t, b) for t, b in split_records((GOLDEN / "results.warts").read_bytes())
    ]
    lists = {id(d.list_) for d in seen if getattr(d, "list_", None) is not None}
    cycles = {id(d.cycle) for d in seen if getattr(d, "cycle", None) is not None}
    assert len(lists) == 1 and len(cycles) == 1
    assert any(isinstance(d, ListData) and id(d) in lists for d in seen)
    assert any(isinstance(d, CycleData) and id(d) in cycles for d in seen)


def test_userid_offset_points_at_the_userid() -> None:
    dec = StreamDecoder()
    for rtype, body in split_records((GOLDEN / "results.warts").read_bytes()):
        data = dec.decode_body(rtype, body)
        if dec.userid_at is not None:
            assert int.from_bytes(body[dec.userid_at : dec.userid_at + 4], "big") == data.userid


def test_wire_imports_only_the_standard_library_and_itself() -> None:
    outside = []
    for path in sorted((ROOT / "scamperlab" / "wire").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if name.startswith("scamperlab.wire") or top in sys.stdlib_module_names:
                    continue
                if top != "__future__":
                    outside.append(f"{path.relative_to(ROOT)}: {name}")
    assert outside == []


def test_loading_the_mux_loads_none_of_the_client() -> None:
    code = (
        "import sys, scamperlab.mux.legacy, scamperlab.mux.server\n"
        "print(sorted(m for m in sys.modules if m.startswith('scamperlab.scamper')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
