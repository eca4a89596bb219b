"""Audits of a real lab: real scamper probes, captured by tcpdump in each VP's namespace.

Counts in the report must equal what scamper's own results say it sent;
policies must pass a polite script and name the packets of a rude one; the
captures must leave nothing behind, and never see the management link.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from scamperlab.audit import Capture, audit
from scamperlab.lab import Lab
from scamperlab.lab.state import read_state
from scamperlab.scamper import ScamperCtrl, ScamperPing, ScamperTrace
from tests.integration.conftest import ROOT, TINY
from tests.integration.leftovers import alive

TARGET = "192.0.2.1"  # tiny's target
CONTROLLER = "198.19.240.1"


@pytest.fixture(scope="module")
def lab(state_dir: Path) -> Iterator[Lab]:
    with Lab.from_file(TINY, name="aud", state_dir=state_dir) as lab:
        yield lab


def measure(lab: Lab, jobs: list[tuple[str, str, dict[str, object]]]) -> list[object]:
    """Run (vp, kind, options) jobs through the mux; every result, or fail."""
    wanted = {vp for vp, _, _ in jobs}
    deadline = time.monotonic() + 60
    while True:
        # A VP restarted by the lab (a loaded CI machine) is briefly off the mux.
        ctrl = ScamperCtrl(mux=str(lab.mux_path))
        if wanted <= {vp.name for vp in ctrl.vps()}:
            break
        del ctrl
        events = [f"{e.kind} {e.vp}: {e.message}" for e in lab.events]
        assert time.monotonic() < deadline, f"VPs {wanted} not on the mux; lab events: {events}"
        time.sleep(0.5)
    try:
        insts = {inst.name: inst for inst in ctrl.add_vps(ctrl.vps())}
        for vp, kind, options in jobs:
            do = ctrl.do_ping if kind == "ping" else ctrl.do_trace
            do(inst=insts[vp], **options)
        results = list(ctrl.responses(timeout=timedelta(seconds=30)))
        assert not list(ctrl.exceptions())
        ctrl.done()
    finally:
        for inst in ctrl.instances():
            ctrl.remove(inst)
        for mux in ctrl._muxes:
            mux._transport.close()
    assert len(results) == len(jobs)
    return results


def vp_names(lab: Lab) -> list[str]:
    return [vp.name for vp in lab.vps]


def test_counts_equal_the_probes_in_scamper_results(lab: Lab, tmp_path: Path) -> None:
    names = vp_names(lab)
    jobs: list[tuple[str, str, dict[str, object]]] = [
        (vp, "ping", {"dst": TARGET, "attempts": 5, "wait_probe": timedelta(seconds=0.1)})
        for vp in names
    ]
    jobs += [(vp, "trace", {"dst": TARGET}) for vp in names]
    with audit(lab, out_dir=tmp_path, draw=False) as session:
        results = measure(lab, jobs)
    report = session.report
    assert report is not None
    pings = [r for r in results if isinstance(r, ScamperPing)]
    traces = [r for r in results if isinstance(r, ScamperTrace)]
    assert sum(p.probe_count for p in pings) == 15  # ping -c 5 from 3 VPs
    assert report.measurement_packets("ping") == 15
    assert report.measurement_packets("trace") == sum(t.probe_count for t in traces)
    for vp in names:
        traffic = report.vps[vp]
        ping = next(p for p in pings if p.inst.name == vp)
        trace = next(t for t in traces if t.inst.name == vp)
        assert traffic.by_measurement["ping"].packets == ping.probe_count
        assert traffic.by_measurement["trace"].packets == trace.probe_count
        assert set(traffic.destinations) == {TARGET}
        echo = [p for p in traffic.packets if p.kind == "ping"]
        assert all(p.src == traffic.ipv4 and p.icmp_type == 8 for p in echo)
        # Nothing from or to the controller: the management link is not captured.
        assert all(CONTROLLER not in (p.src, p.dst) for p in traffic.packets)
        assert traffic.dropped == 0
        assert Path(traffic.pcap or "").stat().st_size > 0
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["totals"]["by_measurement"]["ping"] == 15
    assert any("management link" in note for note in data["notes"])
    assert (
        "ping: ICMP echo to 1 destination (192.0.2.1), 15 packets"
        in (tmp_path / "manifest.txt").read_text()
    )


def test_a_script_within_its_budget_passes(lab: Lab, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "destinations: [192.0.2.0/24]\nprotocols: [icmp]\nmeasurements: [ping]\n"
        "max_rate: budget\nmax_packets_per_destination: 3\n"
    )
    jobs: list[tuple[str, str, dict[str, object]]] = [
        (vp, "ping", {"dst": TARGET, "attempts": 3}) for vp in vp_names(lab)
    ]
    with audit(lab, policy=policy, out_dir=tmp_path / "out") as session:
        measure(lab, jobs)
    assert session.report is not None
    assert session.report.ok, session.report.violations
    assert (tmp_path / "out" / "rate.png").stat().st_size > 1000


def test_exceeding_the_rate_names_the_packets_beyond_it(lab: Lab, tmp_path: Path) -> None:
    vp = vp_names(lab)[0]
    jobs: list[tuple[str, str, dict[str, object]]] = [
        # Debian's scamper 20211212 sends at most 5 pings a second per task.
        (vp, "ping", {"dst": TARGET, "attempts": 12, "wait_probe": timedelta(seconds=0.2)})
    ]
    with audit(lab, policy=_policy(tmp_path, "max_rate: 3\n"), out_dir=tmp_path) as session:
        measure(lab, jobs)
    report = session.report
    assert report is not None and not report.ok
    (violation,) = report.violations
    assert (violation.vp, violation.rule) == (vp, "max_rate")
    echo = [p for p in report.vps[vp].packets if p.kind == "ping"]
    assert len(echo) == 12
    # Beyond the 3rd in each 1-s window, in capture order: exactly those are named.
    expected = []
    per_window: dict[int, int] = {}
    for p in echo:
        window = int(p.time - report.started)
        per_window[window] = per_window.get(window, 0) + 1
        if per_window[window] > 3:
            expected.append(p.frame)
    assert [p.frame for p in violation.packets] == expected and expected
    assert all(p.kind == "ping" and p.dst == TARGET for p in violation.packets)


def test_a_forbidden_prefix_names_only_the_packets_sent_into_it(lab: Lab, tmp_path: Path) -> None:
    names = vp_names(lab)
    router = str(lab.node("edge").interfaces[0].ipv4.ip)  # a lab address outside 192.0.2.0/24
    jobs: list[tuple[str, str, dict[str, object]]] = [
        (names[0], "ping", {"dst": router, "attempts": 2}),
        (names[1], "ping", {"dst": TARGET, "attempts": 2}),
    ]
    policy = _policy(
        tmp_path, "destinations: [198.18.0.0/15, 192.0.2.0/24]\n"
        "forbidden_destinations: [192.0.2.0/24]\n"
    )  # fmt: skip
    with audit(lab, policy=policy, out_dir=tmp_path) as session:
        measure(lab, jobs)
    report = session.report
    assert report is not None
    (violation,) = report.violations
    assert (violation.vp, violation.rule) == (names[1], "forbidden_destinations")
    assert [p.dst for p in violation.packets] == [TARGET, TARGET]
    assert all(p.kind == "ping" for p in violation.packets)
    assert report.vps[names[0]].destinations == {router: 2}


def test_captures_are_tracked_by_pid_and_leave_nothing(lab: Lab, tmp_path: Path) -> None:
    with Capture(lab, tmp_path) as cap:
        pids = cap.pids
        assert len(pids) == len(lab.vps)
        state = read_state(lab.name, lab.state.root) or {}
        tracked = {p["pid"]: p for p in state["processes"] if p["kind"] == "tcpdump"}
        assert set(tracked) == set(pids)
        starts = {pid: tracked[pid]["starttime"] for pid in pids}
        # Each runs inside its VP's network namespace, on the measurement interface only.
        for vp in lab.vps:
            ns = os.stat(f"/proc/{lab.net.pid(vp.name)}/ns/net").st_ino  # type: ignore[union-attr]
            assert any(os.stat(f"/proc/{pid}/ns/net").st_ino == ns for pid in pids)
        measure(lab, [(vp_names(lab)[0], "ping", {"dst": TARGET, "attempts": 1})])
    assert not any(alive(pid, starts[pid]) for pid in pids)
    state = read_state(lab.name, lab.state.root) or {}
    assert not [p for p in state["processes"] if p["kind"] == "tcpdump"]
    sent = cap.sent(vp_names(lab)[0])
    assert [p.kind for p in sent if p.attributed] == ["ping"]


def test_a_failing_block_still_stops_the_capture(lab: Lab, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), audit(lab, out_dir=tmp_path) as session:
        pids = session.capture.pids
        raise RuntimeError("the script failed")
    assert session.report is None
    assert all(not Path(f"/proc/{pid}").exists() or _zombie(pid) for pid in pids)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _policy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


# -- the command line ---------------------------------------------------------------

SCRIPT = """
import sys
from datetime import timedelta
from scamper import ScamperCtrl

with ScamperCtrl(mux=sys.argv[1]) as ctrl:
    ctrl.add_vps(ctrl.vps())
    for inst in ctrl.instances():
        ctrl.do_ping(sys.argv[2], attempts=int(sys.argv[3]), wait_probe=timedelta(seconds=0.2),
                     inst=inst)
    n = len(list(ctrl.responses(timeout=timedelta(seconds=30))))
    ctrl.done()
print(n, "pings")
"""


def cli_audit(
    state_dir: Path, tmp_path: Path, policy: str, *args: str
) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "pings.py"
    script.write_text(SCRIPT)
    (tmp_path / "policy.yaml").write_text(policy)
    env = dict(os.environ, SCAMPERLAB_STATE_DIR=str(state_dir))
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, "-m", "scamperlab.cli", "audit", str(TINY), "--name", "audcli",
         "--policy", str(tmp_path / "policy.yaml"), "--out", str(tmp_path / "out"),
         "--", sys.executable, str(script), "{mux}", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_cli_audit_passes_a_polite_script(state_dir: Path, tmp_path: Path) -> None:
    proc = cli_audit(state_dir, tmp_path, "destinations: [192.0.2.0/24]\nmax_rate: 100\n",
                     TARGET, "2")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "3 pings" in proc.stdout
    assert "policy ok" in proc.stderr
    out = tmp_path / "out"
    for name in ("report.json", "manifest.txt", "rate.png"):
        assert (out / name).stat().st_size > 0
    assert sorted(p.name for p in (out / "pcap").glob("*.pcap")) == [
        "vp1.test.pcap",
        "vp2.test.pcap",
        "vp3.test.pcap",
    ]
    assert json.loads((out / "report.json").read_text())["totals"]["by_measurement"] == {"ping": 6}
    assert not (state_dir / "audcli").exists()


def test_cli_audit_fails_a_rude_script_and_names_its_packets(
    state_dir: Path, tmp_path: Path
) -> None:
    proc = cli_audit(state_dir, tmp_path, "destinations: [203.0.113.0/24]\nmax_rate: 3\n",
                     TARGET, "10")  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert "policy violated" in proc.stderr
    for vp in ("vp1.test", "vp2.test", "vp3.test"):
        assert f"{vp}: destinations: 10 packet(s) to 192.0.2.1, outside" in proc.stderr
        assert f"{vp}: max_rate:" in proc.stderr
    assert "echo-request ttl=64 (ping)" in proc.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["policy"]["ok"] is False
    assert {v["rule"] for v in report["violations"]} == {"destinations", "max_rate"}
    assert not (state_dir / "audcli").exists()


def test_cli_audit_rejects_a_bad_policy_before_building_a_lab(
    state_dir: Path, tmp_path: Path
) -> None:
    proc = cli_audit(state_dir, tmp_path, "max_rate: 5\nprotocols: [icmp, sctp]\n", TARGET, "1")
    assert proc.returncode == 1
    assert "policy.yaml:2: protocols[1]:" in " ".join(proc.stderr.split())
    assert "pings" not in proc.stdout


def test_the_documented_audit_passes_and_counts_what_the_script_counted(
    state_dir: Path, tmp_path: Path
) -> None:
    """docs/audit.md's quick start: survey.py under the sample site policy, on ark-mini."""
    env = dict(os.environ, SCAMPERLAB_STATE_DIR=str(state_dir))
    env.pop("PYTHONPATH", None)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "scamperlab.cli", "audit", "topologies/ark-mini.yaml",
         "--name", "auddoc", "--policy", "examples/site-policy.yaml", "--out", str(out),
         "--", sys.executable, "examples/survey.py", "{mux}", "203.0.113.80", "198.51.100.53"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    counted = re.search(r"(\d+) ping probes, (\d+) trace probes", proc.stdout)
    assert counted, proc.stdout
    pings, traces = int(counted.group(1)), int(counted.group(2))
    report = json.loads((out / "report.json").read_text())
    assert report["policy"]["ok"] is True
    assert report["totals"]["by_measurement"] == {"ping": pings, "trace": traces}
    assert pings == 14 * 2 * 3
    manifest = (out / "manifest.txt").read_text()
    assert f"ping: ICMP echo to 2 destinations (198.51.100.53, 203.0.113.80), {pings}" in manifest


def test_cli_audit_json_keeps_the_command_s_output_off_the_report(
    state_dir: Path, tmp_path: Path
) -> None:
    """``audit --json | jq`` works: stdout is the report alone, the script's lines on stderr."""
    script = tmp_path / "pings.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, SCAMPERLAB_STATE_DIR=str(state_dir))
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [sys.executable, "-m", "scamperlab.cli", "audit", str(TINY), "--name", "audjson",
         "--json", "--no-plot", "--out", str(tmp_path / "out"),
         "--", sys.executable, str(script), "{mux}", TARGET, "1"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["totals"]["by_measurement"] == {"ping": 3}
    assert "3 pings" in proc.stderr and "3 pings" not in proc.stdout
    assert not (state_dir / "audjson").exists()
