"""The default lab measured through its mux socket with a raw client (issue: the lab)."""

from __future__ import annotations

import itertools
import json
import subprocess
import time
from pathlib import Path

import pytest

from scamperlab.lab import Lab
from scamperlab.processes.liveness import CONNECT_GRACE, connection
from scamperlab.scamper.warts import WartsDecoder
from scamperlab.topology.plan import link_between, path_between
from tests.integration.muxclient import RawMux, parse_channel_text


def _warts_json(records: list[bytes], tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "result.warts"
    path.write_bytes(b"".join(records))
    done = subprocess.run(["sc_warts2json", str(path)], capture_output=True, text=True, check=True)
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def _measure(lab: Lab, vp_name: str, command: str, chan: int = 7) -> tuple[list[str], list[bytes]]:
    mux = RawMux(str(lab.mux_path))
    try:
        vps = mux.read_until_go()
        vp_id = next(v.id for v in vps.values() if v.attrs.get("name") == vp_name)
        mux.open(vp_id, chan)
        mux.send(chan, command + "\n")
        mux.send(chan, "done\n")
        # After done, the VP finishes the command, sends cycle-stop and the mux closes the channel.
        mux.pump_until(lambda: chan in mux.closed, timeout=60)
        return parse_channel_text(mux.text[chan])
    finally:
        mux.close()


def _expected_rtt_ms(lab: Lab, src: str, dst: str) -> float:
    nodes = path_between(lab.plan, src, dst)
    return 2 * sum(link_between(lab.plan, a, b).params.delay for a, b in itertools.pairwise(nodes))


def test_every_vp_is_announced_with_its_metadata_before_go(ark_lab: Lab) -> None:
    mux = RawMux(str(ark_lab.mux_path))
    try:
        vps = {v.attrs["name"]: v for v in mux.read_until_go().values()}
    finally:
        mux.close()
    assert set(vps) == {vp.name for vp in ark_lab.vps}
    assert len({v.id for v in vps.values()}) == len(vps)
    for vp in ark_lab.vps:
        seen = vps[vp.name]
        meta = vp.metadata
        assert seen.attrs["ipv4"] == vp.ipv4
        assert seen.attrs["cc"] == meta.cc
        assert seen.attrs["place"] == meta.place
        assert seen.attrs["asn4"] == str(meta.asn4)
        assert seen.attrs["iata"] == meta.iata
        assert seen.attrs["shortname"] == meta.shortname
        lat, lon = (float(x) for x in seen.attrs["latlong"].split(","))
        assert (lat, lon) == pytest.approx(meta.latlong)
        assert seen.tags == meta.tags
        assert float(seen.attrs["arrival"]) > 1.7e9


def test_ping_through_the_mux_gives_plausible_rtts(ark_lab: Lab, tmp_path: Path) -> None:
    target = next(t for t in ark_lab.targets if t.name == "www.example")
    lines, records = _measure(ark_lab, "akl-nz.example", f"ping -c 3 {target.ipv4}")
    assert any(line.startswith("OK") for line in lines), lines
    objects = _warts_json(records, tmp_path)
    assert [o["type"] for o in objects] == ["cycle-start", "ping", "cycle-stop"]
    ping = objects[1]
    assert ping["dst"] == target.ipv4
    assert ping["src"] == next(v.ipv4 for v in ark_lab.vps if v.name == "akl-nz.example")
    rtts = [r["rtt"] for r in ping["responses"]]  # type: ignore[index, union-attr]
    assert len(rtts) == 3
    # Delays are in effect on every kernel (netem or the userspace fallback).
    expected = _expected_rtt_ms(ark_lab, "akl-nz.example", "www.example")
    for rtt in rtts:
        assert expected <= rtt < expected + 50, (rtt, expected)


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_trace_lists_the_routers_in_path_order(ark_lab: Lab, tmp_path: Path, family: str) -> None:
    src, dst = "akl-nz.example", "www.example"
    target = ark_lab.node(dst)
    _lines, records = _measure(ark_lab, src, f"trace -P icmp-paris {getattr(target, family)}")
    trace = _warts_json(records, tmp_path)[1]
    assert trace["type"] == "trace"
    hops = {h["probe_ttl"]: h["addr"] for h in trace["hops"]}  # type: ignore[index, union-attr]
    path = path_between(ark_lab.plan, src, dst)
    routers = path[1:-1]
    assert len(routers) >= 5
    expected = []
    for prev, router in zip(path, routers, strict=False):
        link = link_between(ark_lab.plan, prev, router)
        ingress = link.a if link.a.node == router else link.b
        expected.append(str(getattr(ingress, family).ip))
    expected.append(str(getattr(target, family)))
    assert [hops.get(ttl) for ttl in range(1, len(expected) + 1)] == expected
    assert trace["stop_reason"] == "COMPLETED"


def test_ipv6_ping_reaches_a_target(ark_lab: Lab, tmp_path: Path) -> None:
    target = next(t for t in ark_lab.targets if t.name == "far.example")
    _, records = _measure(ark_lab, "lhr-gb.example", f"ping -c 2 {target.ipv6}")
    ping = _warts_json(records, tmp_path)[1]
    assert ping["dst"] == target.ipv6
    assert len(ping["responses"]) == 2  # type: ignore[arg-type]


def test_channels_to_several_vps_at_once(ark_lab: Lab) -> None:
    target = ark_lab.targets[0].ipv4
    mux = RawMux(str(ark_lab.mux_path))
    try:
        vps = list(mux.read_until_go().values())
        for chan, vp in enumerate(vps, start=100):
            mux.open(vp.id, chan)
            mux.send(chan, f"ping -c 1 {target}\ndone\n")
        channels = set(range(100, 100 + len(vps)))
        mux.pump_until(lambda: channels <= mux.closed, timeout=60)
    finally:
        mux.close()
    for chan in channels:
        _, records = parse_channel_text(mux.text[chan])
        assert len(records) == 4  # list, cycle-start, ping, cycle-stop


def _results_by_task(
    lines: list[str], records: list[bytes], tmp_path: Path
) -> dict[int, dict[str, object]]:
    """Each task id's result, decoded by sc_warts2json from the whole channel's stream."""
    objects = iter(_warts_json(records, tmp_path))
    data_lines = [line for line in lines if line.startswith("DATA ")]
    out = {}
    for line, record in zip(data_lines, records, strict=True):
        if record[2:4] == b"\x00\x01":
            continue  # sc_warts2json prints no list records
        obj = next(objects)
        parts = line.split()
        if len(parts) > 2:
            out[int(parts[2].removeprefix("id-"))] = obj
    return out


def test_results_of_old_vps_carry_task_ids_for_modern_clients(ark_lab: Lab, tmp_path: Path) -> None:
    """Two concurrent pings to one target from one VP: each result comes back with its
    own task id and the client's own userid, as a modern scamper would send them."""
    target = next(t for t in ark_lab.targets if t.name == "www.example").ipv4
    lines, records = _measure(
        ark_lab,
        "akl-nz.example",
        f"ping -c 3 -U 11 {target}\nping -c 1 -U 22 {target}\ntrace -q 1 {target}",
    )
    oks = [line for line in lines if line.startswith("OK id-")]
    assert len(oks) == 3, lines
    by_id = _results_by_task(lines, records, tmp_path)
    assert sorted(by_id) == [int(ok.removeprefix("OK id-")) for ok in oks]
    ping3, ping1, trace = (by_id[int(ok.removeprefix("OK id-"))] for ok in oks)
    assert (ping3["userid"], ping3["ping_sent"]) == (11, 3)
    assert (ping1["userid"], ping1["ping_sent"]) == (22, 1)
    assert trace["type"] == "trace" and trace["userid"] == 0
    # list, cycle-start and cycle-stop belong to no task and keep their bare DATA lines.
    assert sum(1 for line in lines if line.startswith("DATA ") and "id-" not in line) == 3


def test_modern_durations_are_translated_or_refused_in_order(ark_lab: Lab, tmp_path: Path) -> None:
    if ark_lab.install is None or ark_lab.install.emits_task_ids:
        pytest.skip("the VPs' scamper understands modern durations itself")
    target = next(t for t in ark_lab.targets if t.name == "www.example").ipv4
    lines, records = _measure(
        ark_lab,
        "akl-nz.example",
        f"ping -c 1 -W 2.0s {target}\nping -c 1 -W 1.5s {target}\nping -c 1 -U 5 {target}",
    )
    replies = [line for line in lines if line.startswith(("OK", "ERR"))]
    assert replies[0].startswith("OK id-1"), replies
    assert replies[1].startswith("ERR command not accepted: ping -W 1.5s"), replies
    assert "20211212" in replies[1]
    assert replies[2].startswith("OK id-2"), replies
    assert _results_by_task(lines, records, tmp_path)[2]["userid"] == 5


def test_dns_results_of_old_vps_carry_task_ids(ark_lab: Lab, tmp_path: Path) -> None:
    """20211212 does not record a host command's userid: results match on the name asked."""
    lines, records = _measure(
        ark_lab,
        "akl-nz.example",
        "host -t AAAA www.lab.example\nhost www.lab.example\nhost -t MX lab.example",
    )
    oks = [int(line.removeprefix("OK id-")) for line in lines if line.startswith("OK id-")]
    assert len(oks) == 3, lines
    # sc_warts2json 20211212 prints no host records: scamperlab's decoder reads them.
    decoder = WartsDecoder()
    by_id = {}
    data_lines = [line for line in lines if line.startswith("DATA ")]
    for line, record in zip(data_lines, records, strict=True):
        obj = decoder.decode_record(record)
        if len(line.split()) > 2:
            by_id[int(line.split()[2].removeprefix("id-"))] = obj
    assert sorted(by_id) == sorted(oks)
    asked = [(by_id[i].qname, str(by_id[i].qtype)) for i in oks]
    assert asked == [("www.lab.example", "AAAA"), ("www.lab.example", "A"), ("lab.example", "MX")]


def test_a_client_leaving_right_after_done_keeps_every_vp_connected(ark_lab: Lab) -> None:
    """Debian's scamper drops its whole connection to sc_remoted (every user's channels)
    when the controller closes a channel the VP has just closed itself after ``done``:
    the mux must let the VP close such a channel, even when its user has gone."""
    before = len(ark_lab.events)
    pids = {vp.name: ark_lab.vp_pid(vp.name) for vp in ark_lab.vps}
    for round_ in range(40):
        mux = RawMux(str(ark_lab.mux_path))
        try:
            vps = list(mux.read_until_go().values())
            for chan, vp in enumerate(vps, start=1):
                mux.open(vp.id, chan)
                mux.send(chan, "done\n")
            time.sleep(0.001 * (round_ % 8))  # the VP's close and the user's, interleaved
        finally:
            mux.close()
    # Long enough for the supervisor to restart a VP that lost its connection.
    time.sleep(CONNECT_GRACE + 1.5)
    events = [f"{e.kind} {e.vp}: {e.message}" for e in ark_lab.events[before:]]
    assert not events
    assert {vp.name: ark_lab.vp_pid(vp.name) for vp in ark_lab.vps} == pids
    port = ark_lab.topology.controller.port
    assert {name: connection(pid, port) for name, pid in pids.items() if pid is not None} == {
        name: "established" for name in pids
    }
