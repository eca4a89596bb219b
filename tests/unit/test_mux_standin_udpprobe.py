"""The UDP probe stand-in's pure parts: command lines as scamper reads them, the record's
layout against the golden corpus (real modern-scamper udpprobe records), the features it
covers. The lab tests (tests/integration/test_standin_udpprobe.py) send real datagrams."""

from __future__ import annotations

from pathlib import Path

import pytest

from scamperlab.mux.standin.probers import PROBERS, offered, prober_for
from scamperlab.mux.standin.udpprobe import (
    _Probe,
    _reply,
    parse_udpprobe,
    udpprobe_for,
    udpprobe_record,
)
from scamperlab.mux.standin.vp import StandinRefused, StandinVp
from scamperlab.scamper.commands.udpprobe import build_udpprobe
from scamperlab.wire.releases import lacking
from scamperlab.wire.warts.decoder import StreamDecoder
from scamperlab.wire.warts.encoder import StreamEncoder
from scamperlab.wire.warts.records import T_UDPPROBE, split_records
from scamperlab.wire.warts.udpprobe import UdpprobeData

GOLDEN = Path("/work/shared/reference/golden/results.warts")


def _golden() -> list[UdpprobeData]:
    decoder = StreamDecoder()
    out = []
    for rtype, body in split_records(GOLDEN.read_bytes()):
        data = decoder.decode_body(rtype, body)
        if rtype == T_UDPPROBE:
            assert isinstance(data, UdpprobeData)
            out.append(data)
    return out


@pytest.mark.parametrize(
    ("line", "count", "stop", "wait", "probe_wait", "flags"),
    [
        ("udpprobe -d 7 -p 68656c6c6f 192.0.2.7", 1, 1, 2.0, 1.0, 0),
        ("udpprobe -d 7 -p 70696e67 -c 3 -o 1 -S 192.0.2.9 -U 2 192.0.2.7", 3, 1, 2.0, 1.0, 0),
        ("udpprobe -d 53 -p 0001 -c 2 -w 0.5s -W 1 -O exitfirst 2001:db8::7", 2, 1, 0.5, 1.0, 1),
    ],
)
def test_udpprobe_lines_parse_as_scamper_reads_them(
    line: str, count: int, stop: int, wait: float, probe_wait: float, flags: int
) -> None:
    cmd = parse_udpprobe(line)
    got = (cmd.probe_count, cmd.stop_count, cmd.wait_timeout, cmd.wait_probe, cmd.flags)
    assert got == (count, stop, wait, probe_wait, flags)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("udpprobe -d 7 -p 70696e67 -c 0 192.0.2.7", "probe-count must be within 1 - 20"),
        ("udpprobe -d 7 -p 70696e67 -c abc 192.0.2.7", "probe-count must be within 1 - 20"),
        ("udpprobe -d 7 -p 70696e67 -o 2 192.0.2.7", "stop-count cannot be larger"),
        ("udpprobe -d 7 -p 70696e67 notanaddress", "invalid destination address"),
        ("udpprobe -d 7 -p 7 192.0.2.7", "payload must be specified in hex"),
        ("udpprobe -d 7 -p  192.0.2.7", "expected address to probe"),
        ("udpprobe -p 78 192.0.2.7", "missing destination port"),
        ("udpprobe -d 7 -p 78 -S ::1 192.0.2.7", "different families"),
        ("udpprobe -d 7 -p 78 -w 9 192.0.2.7", "wait-timeout must be within 0.5s - 5s"),
    ],
)
def test_what_scamper_would_refuse_is_refused_with_its_reason(line: str, reason: str) -> None:
    with pytest.raises(StandinRefused, match=reason):
        parse_udpprobe(line)


def test_the_module_lines_are_what_the_prober_reads() -> None:
    """scamperlab's module writes the same line CAIDA's does (golden commands.jsonl)."""
    line = build_udpprobe("192.0.2.7", 7, b"ping", attempts=3, stop_count=1, userid=2)
    assert line == "udpprobe -d 7 -p 70696e67 -c 3 -o 1 -U 2 192.0.2.7"
    cmd = parse_udpprobe(line)
    assert (cmd.dport, cmd.payload, cmd.probe_count, cmd.userid) == (7, b"ping", 3, 2)


def test_the_source_is_the_vps_own_address() -> None:
    vp = StandinVp("vp", 0, "192.0.2.9", "2001:db8::9", 100)
    assert udpprobe_for("udpprobe -d 7 -p 78 192.0.2.7", vp).src == "192.0.2.9"
    assert udpprobe_for("udpprobe -d 7 -p 78 2001:db8::7", vp).src == "2001:db8::9"
    with pytest.raises(StandinRefused, match="not an address of VP vp"):
        udpprobe_for("udpprobe -d 7 -p 78 -S 192.0.2.10 192.0.2.7", vp)


def test_the_udp_prober_covers_every_udpprobe_feature() -> None:
    for line in (
        "udpprobe -d 7 -p 78 192.0.2.7",
        "udpprobe -d 7 -p 78 -c 2 -o 1 192.0.2.7",
        "udpprobe -d 7 -p 78 -S 192.0.2.9 192.0.2.7",
        "udpprobe -d 7 -p 78 -w 1.0s 192.0.2.7",
    ):
        assert prober_for("udpprobe", lacking(line, "20211212")) is PROBERS["udpprobe"], line
    assert any(line.startswith("UDP probe: udpprobe") for line in offered("20211212"))
    assert not any(line.startswith("UDP probe") for line in offered("20260420"))


@pytest.mark.skipif(not GOLDEN.exists(), reason="golden corpus not here")
@pytest.mark.parametrize("which", [36, 37])
def test_a_stand_in_record_has_the_layout_of_modern_scampers(which: int) -> None:
    """Each golden udpprobe record (two probes and their echoes; one probe, no listener)
    remade from what was on its wire: every block carries the fields modern scamper's did."""
    golden = next(g for g in _golden() if g.userid == which)
    line = f"udpprobe -d {golden.dport} -p {golden.data.hex()} -c {golden.probe_count}"  # type: ignore[union-attr]
    cmd = parse_udpprobe(f"{line} -U {golden.userid} {golden.dst}")
    probes = []
    for gp in golden.probes:
        probe = _Probe(gp.tx[0] + gp.tx[1] / 1e6, gp.sport)  # type: ignore[index]
        for gr in gp.replies:
            rx = gr.rx[0] + gr.rx[1] / 1e6  # type: ignore[index]
            probe.replies.append(_reply(rx, gr.data or b"", gr.ifname))
        probes.append(probe)
    sport = probes[0].sport if cmd.probe_count == 1 else 0
    made = udpprobe_record(cmd, str(golden.src), probes[0].tx, 1, probes, sport)
    record = StreamEncoder().result(T_UDPPROBE, made)
    back = next(
        StreamDecoder().decode_body(t, b) for t, b in split_records(record) if t == T_UDPPROBE
    )
    assert back._wflags == golden._wflags
    assert [getattr(p, "_wflags", None) for p in back.probes[1:]] == [
        getattr(p, "_wflags", None) for p in golden.probes[1:]
    ]
    for ours, theirs in zip(back.probes, golden.probes, strict=True):
        assert (ours.tx, ours.sport, ours.replyc) == (theirs.tx, theirs.sport, theirs.replyc)
        for a, b in zip(ours.replies, theirs.replies, strict=True):
            assert a._wflags == b._wflags
            assert (a.rx, a.len, a.data, a.ifname) == (b.rx, b.len, b.data, b.ifname)
    fields = ("userid", "dport", "start", "wait_timeout", "flags", "stop", "len", "data")
    more = ("probe_count", "probe_sent", "stop_count", "sport", "wait_probe", "p0_sport")
    for name in fields + more:
        assert getattr(back, name) == getattr(golden, name), name
