"""Record a script on ark-mini, replay it without root: the output is the recorded run's.

Each example is run once through ``scamperlab run --record`` (root, a real
lab, Debian's scamper), then through ``scamperlab replay`` as ``nobody``, in
a network namespace of its own that holds nothing but a loopback that is
down: no lab namespace, no scamper, no network reaches it, only the
recording and the replay's unix socket. Only scamperlab's ``scamper`` module
is tested here: CAIDA's cannot be installed on this machine (it speaks the
same mux protocol, which is what the replay serves).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from scamperlab.lab import Lab
from scamperlab.lab.replay import Replay, summary
from scamperlab.mux.recorder import Recorder
from scamperlab.scamper import ScamperCtrl, ScamperInstError
from scamperlab.wire.recording import read_recording
from tests.integration.conftest import ARK_MINI, ROOT
from tests.integration.test_examples import FAR, WWW

#: (script, target): the shortest-ping pattern (issue all, collect with a timeout), the
#: event-driven one (work given as each VP asks for it; prints in arrival order) and the
#: seed's authns-delay (DNS NS, A/AAAA, then SOA per address: the lab's stand-ins on 20211212)
SCRIPTS = {"ping_all.py": WWW, "event_driven.py": FAR, "authns_delay.py": "lab.example"}
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
#: The system's python3, which nobody may run (root's PATH may lead to root's own), for the
#: recording and the replay alike; ``import scamper`` works in it only through scamperlab.
PYTHON3 = "/usr/bin/python3"


@pytest.fixture(scope="module")
def shared_dir() -> Iterator[Path]:
    """A directory nobody may read (pytest's own temporary directories are root's only)."""
    path = Path(tempfile.mkdtemp(prefix="scamperlab-replay-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def recorded(state_dir: Path, shared_dir: Path) -> dict[str, tuple[Path, str]]:
    """Each script recorded on ark-mini: the recording and what the script printed."""
    out: dict[str, tuple[Path, str]] = {}
    for n, (script, target) in enumerate(SCRIPTS.items()):
        rec = shared_dir / f"{Path(script).stem}.rec"
        env = dict(os.environ, SCAMPERLAB_STATE_DIR=str(state_dir))
        env.pop("PYTHONPATH", None)
        argv = [sys.executable, "-m", "scamperlab.cli", "run", "--record", str(rec)]
        argv += [str(ARK_MINI), "--name", f"rec{n}", "--", PYTHON3, f"examples/{script}"]
        live = subprocess.run(
            [*argv, "{mux}", target],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert live.returncode == 0, live.stderr
        rec.chmod(0o644)
        out[script] = (rec, live.stdout)
    return out


def replay(rec: Path, *command: str, speed: str = "max") -> subprocess.CompletedProcess[str]:
    """``scamperlab replay`` as nobody, with no network at all (a fresh network namespace)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAMPERLAB_", "PYTHON"))}
    env["HOME"] = "/nonexistent"
    return subprocess.run(
        ["unshare", "--net", "--", *NOBODY, sys.executable, "-m", "scamperlab.cli", "replay",
         "--speed", speed, str(rec), "--", *command],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("script", sorted(SCRIPTS))
@pytest.mark.parametrize("speed", ["max", "1"])
def test_a_recorded_script_replays_byte_for_byte_without_root(
    recorded: dict[str, tuple[Path, str]], script: str, speed: str
) -> None:
    rec, live = recorded[script]
    done = replay(rec, PYTHON3, f"examples/{script}", "{mux}", SCRIPTS[script], speed=speed)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr, done.stderr
    assert done.stdout == live


def test_the_replay_really_runs_as_nobody_without_the_network(
    recorded: dict[str, tuple[Path, str]],
) -> None:
    rec, _live = recorded["ping_all.py"]
    probe = (
        "import os, socket, sys; print(os.geteuid());"
        " print(os.readlink('/proc/self/ns/net'));"
        " print(os.environ['SCAMPERLAB_MUX'] == sys.argv[1])"
    )
    done = replay(rec, PYTHON3, "-c", probe, "{mux}")
    assert done.returncode == 0, done.stderr
    uid, netns, same_mux = done.stdout.split()
    assert uid == "65534"
    assert netns != os.readlink("/proc/self/ns/net")
    assert same_mux == "True"


def test_a_command_not_in_the_recording_gets_the_clear_error(
    recorded: dict[str, tuple[Path, str]],
) -> None:
    rec, _live = recorded["ping_all.py"]
    done = replay(rec, PYTHON3, "examples/ping_all.py", "{mux}", FAR)
    assert done.returncode == 1, done.stderr  # the script's own: no VP got a reply
    assert f"no VP got a reply from {FAR}" in done.stdout
    expected = (
        f"'ping -c 3 {FAR}' to lhr-gb.example is not in the recording;"
        f" nearest recorded: 'ping -c 3 {WWW}'"
    )
    assert f"warning: replay: {expected}" in done.stderr  # from scamperlab replay
    assert f"error: got err from lhr-gb.example: replay: {expected}" in done.stderr  # the script


def test_list_shows_what_a_recording_holds(recorded: dict[str, tuple[Path, str]]) -> None:
    rec, _live = recorded["event_driven.py"]
    done = subprocess.run(
        [*NOBODY, sys.executable, "-m", "scamperlab.cli", "replay", "--list", str(rec)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "14 command(s), 14 result(s), 0 error(s)" in done.stdout
    assert done.stdout.count(f"ping -c 2 {FAR}") == 14


def _ping_that_loses_its_vp(mux: str, kill: Callable[[], None] | None) -> tuple[str, bool, bool]:
    """A 10-probe synchronous ping from ams-nl, whose VP goes away a second in (``kill``):
    the error, whether another VP still answers, whether ams-nl is still listed."""
    with ScamperCtrl(mux=mux) as ctrl:
        insts = {inst.name: inst for inst in ctrl.add_vps(ctrl.vps())}
        killer = threading.Timer(1.0, kill) if kill is not None else None
        if killer is not None:
            killer.start()
        try:
            with pytest.raises(ScamperInstError) as caught:
                ctrl.do_ping(WWW, attempts=10, inst=insts["ams-nl.example"], sync=True)
        finally:
            if killer is not None:
                killer.join()
        other = ctrl.do_ping(WWW, attempts=1, inst=insts["lhr-gb.example"], sync=True)
        ctrl.poll(timeout=timedelta(seconds=0.5))
        listed = "ams-nl.example" in {vp.name for vp in ctrl.vps()}
        return str(caught.value), other is not None, listed


def test_a_vp_killed_while_recording_departs_in_the_replay_with_the_same_error(
    state_dir: Path, shared_dir: Path
) -> None:
    recorder = Recorder()
    with Lab.from_file(ARK_MINI, name="recdep", state_dir=state_dir, recorder=recorder) as lab:
        live = _ping_that_loses_its_vp(str(lab.mux_path), lambda: lab.kill_vp("ams-nl.example"))
    recorder.save(shared_dir / "departed.rec")
    assert live[0] == "got fatal from ams-nl.example: disconnected", live
    assert live[1:] == (True, False)
    info = summary(read_recording(shared_dir / "departed.rec", results=False))
    assert [vp.name for vp in info.vps if vp.departed] == ["ams-nl.example"]
    with Replay(shared_dir / "departed.rec", speed=math.inf) as replay:
        replayed = _ping_that_loses_its_vp(str(replay.mux_path), None)
    assert replayed == live


def test_record_through_a_proxy_in_front_of_a_labs_mux(
    ark_lab: Lab, state_dir: Path, shared_dir: Path
) -> None:
    """``scamperlab record --mux``: what Ark (or a modern sc_remoted) needs, where
    scamperlab's mux server is not there to tap; here in front of a lab's mux."""
    rec = shared_dir / "proxied.rec"
    argv = [sys.executable, "-m", "scamperlab.cli", "record", str(rec), "--mux"]
    argv += [str(ark_lab.mux_path), "--", PYTHON3, "examples/ping_all.py", "{mux}", WWW]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    live = subprocess.run(
        argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert live.returncode == 0, live.stderr
    rec.chmod(0o644)
    done = replay(rec, PYTHON3, "examples/ping_all.py", "{mux}", WWW)
    assert done.returncode == 0, done.stderr
    assert done.stdout == live.stdout
