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

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import ARK_MINI, ROOT
from tests.integration.test_examples import FAR, WWW

#: (script, target): the shortest-ping pattern (issue all, collect with a timeout) and
#: the event-driven one (work given as each VP asks for it; prints in arrival order)
SCRIPTS = {"ping_all.py": WWW, "event_driven.py": FAR}
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
