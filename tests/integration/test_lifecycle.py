"""A lab leaves nothing behind, survives VP crashes and refuses clashes (issue: the lab)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scamperlab.errors import LabStateError
from scamperlab.lab import Lab
from scamperlab.lab.state import process_starttime
from tests.integration.conftest import ARK_MINI, TINY
from tests.integration.leftovers import Snapshot, now_ticks, processes_in, root_links
from tests.integration.muxclient import RawMux, parse_channel_text


def snapshot(lab: Lab, links_before: set[str]) -> Snapshot:
    return Snapshot(
        namespaces=set(lab.net.namespace_ids().values()),
        processes={p.pid: p.starttime for p in lab.state.processes.values()},
        state_dir=lab.state.dir,
        links_before=links_before,
    )


def wait_for(cond: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_down_leaves_nothing(state_dir: Path) -> None:
    before = root_links()
    lab = Lab.from_file(TINY, name="down", state_dir=state_dir)
    lab.start()
    snap = snapshot(lab, before)
    assert len(snap.namespaces) == len(lab.plan.nodes) + 1
    assert len(processes_in(snap.namespaces)) >= len(snap.namespaces)
    assert lab.mux_path.is_socket()
    lab.stop()
    snap.assert_gone()
    lab.stop()  # twice is harmless


def test_killed_vp_is_reported_restarted_and_others_keep_working(state_dir: Path) -> None:
    before = root_links()
    with Lab.from_file(TINY, name="kill", state_dir=state_dir) as lab:
        snap = snapshot(lab, before)
        mux = RawMux(str(lab.mux_path))
        vps = {v.attrs["name"]: v.id for v in mux.read_until_go().values()}
        # A channel to vp2 gets a result before vp1 dies ...
        mux.open(vps["vp2.test"], 1)
        mux.send(1, "ping -c 1 192.0.2.1\n")
        mux.pump_until(lambda: mux.text.get(1, b"").count(b"DATA") >= 3)
        old_pid = lab.vp_pid("vp1.test")
        assert old_pid is not None
        snap.processes[old_pid] = process_starttime(old_pid)
        os.kill(old_pid, signal.SIGKILL)

        wait_for(
            lambda: any(e.kind == "vp-died" and e.vp == "vp1.test" for e in lab.events),
            what="vp-died",
        )
        # ... vp1 comes back as a new VP on the mux, and the old id departs ...
        mux.pump_until(lambda: vps["vp1.test"] in mux.departed, timeout=30)
        mux.pump_until(
            lambda: any(
                v.attrs["name"] == "vp1.test" and v.id != vps["vp1.test"] for v in mux.vps.values()
            ),
            timeout=30,
        )
        new_pid = lab.vp_pid("vp1.test")
        assert new_pid not in (None, old_pid)
        assert any(e.kind == "vp-restarted" and e.vp == "vp1.test" for e in lab.events)
        # ... and vp2's channel, open all along, still measures.
        mux.send(1, "ping -c 1 192.0.2.1\ndone\n")
        mux.pump_until(lambda: 1 in mux.closed, timeout=30)
        _, records = parse_channel_text(mux.text[1])
        assert len(records) == 5  # list, cycle-start, two pings, cycle-stop
        mux.close()
        status = json.loads((lab.state.dir / "state.json").read_text())
        vp1 = next(v for v in status["vps"] if v["name"] == "vp1.test")
        assert vp1["restarts"] == 1 and "signal 9" in vp1["problem"]
        snap.processes.update({p.pid: p.starttime for p in lab.state.processes.values()})
    snap.assert_gone()


def test_vp_that_never_reaches_sc_remoted_is_restarted(state_dir: Path) -> None:
    with Lab.from_file(TINY, name="lost", state_dir=state_dir, appear_timeout=2.0) as lab:
        # Cut vp3's management link, then kill it: its next scamper cannot connect.
        lab.run_in("vp3.test", ["ip", "link", "set", "mgmt0", "down"])
        pid = lab.vp_pid("vp3.test")
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_for(
            lambda: any(e.kind == "vp-missing" and e.vp == "vp3.test" for e in lab.events),
            what="vp-missing",
        )
        lab.run_in("vp3.test", ["ip", "link", "set", "mgmt0", "up"])
        lab.run_in(
            "vp3.test",
            [
                "ip",
                "route",
                "replace",
                f"{lab.plan.controller_ipv4}/32",
                "dev",
                "mgmt0",
                "src",
                lab.node("vp3.test").ipv4.exploded,
            ],
        )
        wait_for(lambda: "vp3.test" in lab.present_vps, timeout=60, what="vp3 back on the mux")


def test_same_lab_name_twice_is_refused_and_another_name_works(state_dir: Path) -> None:
    with Lab.from_file(TINY, name="one", state_dir=state_dir) as first:
        with pytest.raises(LabStateError, match="already running"):
            Lab.from_file(TINY, name="one", state_dir=state_dir).start()
        assert first.mux_path.is_socket(), "the refused start must not touch the running lab"
        with Lab.from_file(TINY, name="two", state_dir=state_dir) as second:
            assert second.mux_path != first.mux_path
            mux = RawMux(str(second.mux_path))
            assert len(mux.read_until_go()) == 3
            mux.close()


def _as_in_a_terminal() -> None:
    """SIGINT and SIGQUIT at their defaults, as for a command typed at a terminal.

    A test suite started in the background (``pytest &``, a CI runner's job)
    has them ignored, and its children inherit that: Python then installs no
    KeyboardInterrupt, and a Ctrl-C test would test nothing.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def _cli(*args: str, state_dir: Path, **kwargs: object) -> subprocess.Popen[str]:
    env = dict(os.environ, SCAMPERLAB_STATE_DIR=str(state_dir))
    return subprocess.Popen(
        [sys.executable, "-m", "scamperlab.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_as_in_a_terminal,
        **kwargs,  # type: ignore[call-overload]
    )


def _tracked(state_file: Path) -> dict[int, int | None]:
    try:
        data = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return {}
    return {p["pid"]: p["starttime"] for p in data.get("processes", [])}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_run_start_up_tears_down(state_dir: Path, sig: signal.Signals) -> None:
    before = root_links()
    proc = _cli("run", str(TINY), "--name", "sig", "--", "sleep", "60", state_dir=state_dir)
    state_file = state_dir / "sig" / "state.json"
    # Interrupt once namespaces and processes exist, before or after the VPs are up.
    wait_for(lambda: len(_tracked(state_file)) >= 3, what="lab processes")
    tracked = _tracked(state_file)
    namespaces = set()
    for pid in tracked:
        with contextlib.suppress(OSError):
            namespaces.add(os.stat(f"/proc/{pid}/ns/net").st_ino)
    # Taken now, with the namespaces: a process found later by a reused inode
    # (another lab's, made since) is not this lab's.
    snapshot = Snapshot(namespaces, tracked, state_dir / "sig", before)
    proc.send_signal(sig)
    _, _err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    snapshot.assert_gone()


def _state(state_file: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return {}
    return data


def _kinds(state_file: Path) -> set[str]:
    return {p["kind"] for p in _state(state_file).get("processes", [])}


@pytest.mark.parametrize("moment", ["namespaces", "vps", "up"])
def test_ctrl_c_during_up_tears_down_the_daemon(state_dir: Path, moment: str) -> None:
    """Ctrl-C at any moment of ``up`` (even as the lab reports itself up) removes it all."""
    before = root_links()
    proc = _cli("up", str(TINY), "--name", "upint", state_dir=state_dir)
    state_file = state_dir / "upint" / "state.json"
    if moment == "namespaces":
        wait_for(lambda: len(_tracked(state_file)) >= 3, what="lab processes")
    elif moment == "vps":
        wait_for(lambda: "scamper" in _kinds(state_file), what="a VP process")
    else:
        wait_for(lambda: bool(_state(state_file).get("vps")), what="VP status")
    tracked = _tracked(state_file)
    namespaces = set()
    for pid in tracked:
        with contextlib.suppress(OSError):
            namespaces.add(os.stat(f"/proc/{pid}/ns/net").st_ino)
    owner = _state(state_file)["owner_pid"]
    owner_start = process_starttime(owner)
    # Taken now, with the namespaces: a process found later by a reused inode
    # (another lab's, made since) is not this lab's.
    snapshot = Snapshot(namespaces, tracked, state_dir / "upint", before)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if "lab upint is up" in err:
        # The lab was up before the signal landed (it may still kill the CLI as it
        # exits): the lab stays, and 'down' must then remove it all.
        down = _cli("down", "upint", state_dir=state_dir)
        _, derr = down.communicate(timeout=60)
        assert down.returncode == 0, derr
    else:
        assert proc.returncode == 130, err
        assert "lab removed" in err
    snapshot.processes[owner] = owner_start
    snapshot.assert_gone()


def test_up_after_a_crash_cleans_stale_state(state_dir: Path) -> None:
    up = _cli("up", str(TINY), "--name", "crash", state_dir=state_dir)
    out, err = up.communicate(timeout=120)
    assert up.returncode == 0, err
    state_file = state_dir / "crash" / "state.json"
    state = json.loads(state_file.read_text())
    scampers = {p["pid"]: p["starttime"] for p in state["processes"] if p["kind"] == "scamper"}
    os.kill(state["owner_pid"], signal.SIGKILL)  # the daemon dies without tearing down
    wait_for(lambda: process_starttime(state["owner_pid"]) is None, what="daemon death")
    assert any(process_starttime(pid) == start for pid, start in scampers.items()), (
        "expected leftovers"
    )

    status = _cli("status", "crash", state_dir=state_dir)
    out, _ = status.communicate(timeout=30)
    assert "STALE" in out

    again = _cli("up", str(TINY), "--name", "crash", state_dir=state_dir)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    for pid, start in scampers.items():
        assert process_starttime(pid) != start, "a crashed lab's scamper survived the next up"
    down = _cli("down", "crash", state_dir=state_dir)
    _, err = down.communicate(timeout=60)
    assert down.returncode == 0, err
    assert not (state_dir / "crash").exists()


def test_run_exits_125_when_the_lab_fails_and_leaves_the_running_one_alone(
    state_dir: Path,
) -> None:
    with Lab.from_file(TINY, name="busy", state_dir=state_dir) as busy:
        proc = _cli("run", str(TINY), "--name", "busy", "--", "true", state_dir=state_dir)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 125, err
        assert "already running" in err
        assert busy.mux_path.is_socket()
        missing = _cli("run", str(TINY), "--name", "nocmd", "--", "no-such-program-here",
                       state_dir=state_dir)  # fmt: skip
        _, err = missing.communicate(timeout=120)
        assert missing.returncode == 127, err
        assert "cannot run no-such-program-here" in err
        assert not (state_dir / "nocmd").exists()


def test_run_substitutes_the_mux_and_returns_the_command_status(state_dir: Path) -> None:
    script = 'test -S {mux} && test "$SCAMPERLAB_MUX" = {mux} && exit 7'
    proc = _cli("run", str(TINY), "--name", "runst", "--", "sh", "-c", script, state_dir=state_dir)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 7, err
    assert not (state_dir / "runst").exists()


def test_lab_namespaces_cannot_reach_the_host(ark_lab: Lab) -> None:
    out = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    host_addrs = [
        line.split()[3].split("/")[0]
        for line in out.splitlines()
        if " lo " not in line and "scope global" in line
    ]
    assert host_addrs, "the host has no global address to test against"
    for node in [*ark_lab.net.hosts]:
        for addr in host_addrs:
            flag = "-6" if ":" in addr else "-4"
            ping = ark_lab.run_in(node, ["ping", flag, "-c", "1", "-W", "1", addr])
            assert ping.returncode != 0, f"{node} reached the host's {addr}"
            if node == "controller" or ark_lab.node(node).kind == "router":
                route = ark_lab.run_in(node, ["ip", "route", "get", addr])
                assert route.returncode != 0, f"{node} has a route to {addr}: {route.stdout}"


def test_a_client_that_stopped_reading_does_not_hold_up_teardown(state_dir: Path) -> None:
    """Results queued for a client that never reads them are dropped at ``stop``."""
    lab = Lab.from_file(TINY, name="flood", state_dir=state_dir)
    lab.start()
    try:
        mux = RawMux(str(lab.mux_path))
        vps = list(mux.read_until_go().values())
        target = lab.targets[0].ipv4
        burst = "".join(f"ping -c 1 -o 1 {target}\n" for _ in range(300))
        for chan, vp in enumerate(vps, start=1):
            mux.open(vp.id, chan)
            mux.send(chan, burst)
        mux.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        time.sleep(8)  # results pile up in the mux: the client reads nothing
    finally:
        start = time.monotonic()
        lab.stop()
        elapsed = time.monotonic() - start
    mux.close()
    assert elapsed < 5, f"teardown took {elapsed:.1f} s"


_LAB_UNTIL_KILLED = """
import json, sys, time
from scamperlab.lab import Lab
lab = Lab.from_file(sys.argv[1], name="twice", state_dir=sys.argv[2])
lab.start()
try:
    procs = {p.pid: p.starttime for p in lab.state.processes.values()}
    print(json.dumps(procs), flush=True)
    while True:
        time.sleep(0.05)
finally:
    lab.stop()
"""


def test_sigterm_twice_at_once_still_tears_down(state_dir: Path) -> None:
    """``timeout`` signals its child, then the child's process group: the second
    SIGTERM must not cut short the teardown the first one started."""
    before = root_links()
    proc = subprocess.Popen(
        [
            "timeout",
            "-s",
            "TERM",
            "20",
            sys.executable,
            "-c",
            _LAB_UNTIL_KILLED,
            str(TINY),
            str(state_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else ""
    tracked = {int(pid): start for pid, start in json.loads(line).items()}
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 124, err
    Snapshot(set(), tracked, state_dir / "twice", before).assert_gone()


def _sigblk(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigBlk:"):
                return int(line.split()[1], 16)
    except OSError:
        return None
    return None


def test_nothing_the_lab_starts_has_signals_blocked(ark_lab: Lab) -> None:
    """A blocked mask survives exec: holders started under it ignored SIGTERM for life,
    and cleaning up after a crashed ark-mini took 96 s (issue: crash-proof labs)."""
    kinds = {"shell", "scamper", "sc_remoted", "delayd"}
    procs = [p for p in ark_lab.state.processes.values() if p.kind in kinds]
    assert {p.kind for p in procs} >= {"shell", "scamper", "sc_remoted"}
    blocked = {
        f"{p.kind} {p.name} (pid {p.pid})": hex(mask)
        for p in procs
        if (mask := _sigblk(p.pid)) is not None
        and mask & ((1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1)))
    }
    assert blocked == {}


def test_down_of_a_lab_whose_owner_was_killed_takes_seconds(state_dir: Path) -> None:
    """SIGKILL the ``up`` daemon of ark-mini: ``down`` removes everything at once."""
    before = root_links()
    up = _cli("up", str(ARK_MINI), "--name", "orphan", state_dir=state_dir)
    _, err = up.communicate(timeout=180)
    assert up.returncode == 0, err
    state = json.loads((state_dir / "orphan" / "state.json").read_text())
    tracked = {p["pid"]: p["starttime"] for p in state["processes"]}
    shells = [p["pid"] for p in state["processes"] if p["kind"] == "shell"]
    namespaces = {os.stat(f"/proc/{pid}/ns/net").st_ino for pid in shells}
    taken = now_ticks()
    os.kill(state["owner_pid"], signal.SIGKILL)
    wait_for(lambda: process_starttime(state["owner_pid"]) is None, what="daemon death")
    start = time.monotonic()
    down = _cli("down", "orphan", state_dir=state_dir)
    _, err = down.communicate(timeout=120)
    took = time.monotonic() - start
    assert down.returncode == 0, err
    Snapshot(namespaces, tracked, state_dir / "orphan", before, taken=taken).assert_gone()
    assert took < 5.0, f"down of a crashed {len(shells)}-node lab took {took:.1f} s"


def test_run_returns_when_the_lab_is_gone(state_dir: Path, tmp_path: Path) -> None:
    """At the instant ``run`` returns no process of the lab runs and no namespace is used."""
    before = root_links()
    seen = tmp_path / "seen.json"
    capture = (
        "import json, os, sys, time;"
        "s = json.load(open(os.path.join(os.environ['SCAMPERLAB_STATE_DIR'],"
        " os.environ['SCAMPERLAB_LAB'], 'state.json')));"
        "ns = [os.stat(f'/proc/{p[\"pid\"]}/ns/net').st_ino"
        " for p in s['processes'] if p['kind'] == 'shell'];"
        "t = int(time.clock_gettime(time.CLOCK_BOOTTIME) * os.sysconf('SC_CLK_TCK')) + 1;"
        "json.dump({'processes': s['processes'], 'namespaces': ns, 'taken': t},"
        " open(sys.argv[1], 'w'))"
    )
    proc = _cli(
        "run", str(ARK_MINI), "--name", "runs", "--", sys.executable, "-c", capture, str(seen),
        state_dir=state_dir,
    )  # fmt: skip
    _, err = proc.communicate(timeout=180)
    # Checked before anything else can run: what is alive now was left by run.
    data = json.loads(seen.read_text())
    tracked = {p["pid"]: p["starttime"] for p in data["processes"]}
    snap = Snapshot(set(data["namespaces"]), tracked, state_dir / "runs", before)
    snap.taken = data["taken"]
    snap.assert_gone()
    assert proc.returncode == 0, err
    assert {p["kind"] for p in data["processes"]} >= {"shell", "scamper", "sc_remoted"}
