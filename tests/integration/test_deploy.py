"""``scamperlab deploy`` end to end: paramiko client, the lab's real OpenSSH server.

Every example runs twice against the same lab: locally (as ``scamperlab run``
would run it) and deployed to the lab's controller host, where it finds the
mux at ``/run/ark/mux``. The two outputs must have the same structure (RTTs,
and the VP a script happens to pick, may differ). The failure cases each
need a clear message and a non-zero exit status, and Ctrl-C must leave
nothing running on the far side.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scamperlab.lab import Lab
from scamperlab.lab.replay import summary
from scamperlab.shim import environment
from scamperlab.topology.loader import load_topology
from scamperlab.wire.recording import read_recording
from tests.integration.conftest import ARK_MINI, ROOT
from tests.integration.leftovers import Snapshot, processes_in, root_links

EXAMPLES = ROOT / "examples"
WWW = "203.0.113.80"
FAR = "192.0.2.7"
VP_NAMES = sorted(vp.name for vp in load_topology(ARK_MINI).vps)
# (script, arguments after {mux}, whether the script picks a VP of its own choice)
CASES = [
    ("list_vps.py", [], False),
    ("vps_in_country.py", ["US"], False),
    ("sync_ping.py", [WWW], True),
    ("ping_all.py", [WWW], True),
    ("event_driven.py", [FAR], False),
    ("demo_mux.py", [WWW], False),
    ("survey.py", [WWW, FAR], False),
    ("nameservers.py", ["lab.example"], True),
    ("authns_delay.py", ["lab.example"], True),
    ("http_fetch.py", [WWW, "http://www.lab.example/"], True),
    ("udp_probe.py", [FAR, "7"], False),
]
PING_ALL = ("examples/ping_all.py", "{mux}", WWW)
# Examples written for another library topology than the deploy lab's ark-mini.
OTHER_TOPOLOGY = {"mda_trace.py": "loadbalanced.yaml", "aliases.py": "aliases.yaml"}


@pytest.fixture(scope="module")
def ssh_lab(state_dir: Path) -> Iterator[Lab]:
    before = root_links()
    lab = Lab.from_file(ARK_MINI, name="depl", state_dir=state_dir, ssh=True)
    lab.start()
    snap = Snapshot(
        namespaces=set(lab.net.namespace_ids().values()),
        processes={p.pid: p.starttime for p in lab.state.processes.values()},
        state_dir=lab.state.dir,
        links_before=before,
    )
    assert any(p.kind == "sshd" for p in lab.state.processes.values())
    try:
        yield lab
        # The relay to sshd must not have added anything to the host's namespace.
        assert root_links() == before
    finally:
        lab.stop()
    snap.assert_gone()
    mounts = Path("/proc/self/mountinfo").read_text()
    assert "scamperlab-run" not in mounts and "scamperlab-tmp" not in mounts


def _env(state_dir: Path, home: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, SCAMPERLAB_STATE_DIR=str(state_dir))
    env.pop("SSH_AUTH_SOCK", None)  # only the keys a test names
    env.pop("PYTHONPATH", None)
    if home is not None:
        env["HOME"] = str(home)
    return env


def deploy(
    state_dir: Path, *args: str, home: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scamperlab.cli", "deploy", *args],
        env=_env(state_dir, home),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def deploy_in_background(state_dir: Path, *args: str) -> subprocess.Popen[str]:
    """A deploy to interrupt: its output read as it comes."""
    return subprocess.Popen(
        [sys.executable, "-m", "scamperlab.cli", "deploy", *args],
        env=_env(state_dir),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def normalized(text: str, picks_vp: bool) -> list[str]:
    """The output's structure: numbers and the times of HTTP headers masked, lines sorted
    (VPs answer in any order)."""
    lines = []
    for line in text.splitlines():
        line = re.sub(r"\d+\.\d+ ms", "<rtt> ms", line)
        line = re.sub(r"^(\s*(date|last-modified): ).*", r"\1<time>", line)
        line = re.sub(r"\s+", " ", line).strip()
        if picks_vp:
            for name in VP_NAMES:
                line = line.replace(name, "<vp>")
        lines.append(line)
    return sorted(lines)


def run_locally(lab: Lab, script: str, args: list[str], status: int = 0) -> str:
    python3 = shutil.which("python3")
    assert python3 is not None
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [python3, str(EXAMPLES / script), str(lab.mux_path), *args],
        env=environment(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == status, proc.stderr
    return proc.stdout


@pytest.mark.parametrize(("script", "args", "picks_vp"), CASES, ids=[c[0] for c in CASES])
def test_every_example_deploys_with_the_same_output(
    ssh_lab: Lab, state_dir: Path, script: str, args: list[str], picks_vp: bool
) -> None:
    status = 0  # every example runs on 20211212 too: the lab stands in for what it lacks
    local = run_locally(ssh_lab, script, args, status)
    remote = deploy(state_dir, "--lab", "depl", f"examples/{script}", "{mux}", *args)
    assert remote.returncode == status, remote.stderr
    assert "Traceback" not in remote.stderr
    assert normalized(remote.stdout, picks_vp) == normalized(local, picks_vp)
    assert "remote Python 3." in remote.stderr


def test_every_example_is_in_the_cases() -> None:
    deployed = {c[0] for c in CASES} | set(OTHER_TOPOLOGY)
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(deployed)


def test_status_shows_the_ssh_endpoint_and_plain_ssh_works(ssh_lab: Lab, state_dir: Path) -> None:
    endpoint = ssh_lab.ssh_endpoint
    assert endpoint is not None
    status = subprocess.run(
        [sys.executable, "-m", "scamperlab.cli", "status", "depl"],
        env=_env(state_dir),
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"ssh -F {endpoint.config} {endpoint.alias}" in status.stdout
    # OpenSSH's own client, with the files the lab wrote, sees the mux where Ark has it.
    ssh = subprocess.run(
        [
            "ssh",
            "-F",
            endpoint.config,
            "-o",
            "BatchMode=yes",
            endpoint.alias,
            "test -S /run/ark/mux",
        ],
        env=_env(state_dir),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert ssh.returncode == 0, ssh.stderr


def _project(tmp_path: Path) -> Path:
    """A script with a local module, a data directory, and an output to fetch."""
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "helpers.py").write_text("def shout(text):\n    return text.upper()\n")
    (project / "data" / "targets.txt").write_text(f"{WWW}\n{FAR}\n")
    (project / "measure.py").write_text(
        "import os\nimport sys\n\nfrom helpers import shout\n\n"
        "targets = open('data/targets.txt').read().split()\n"
        "os.makedirs('results', exist_ok=True)\n"
        "with open('results/out.txt', 'w') as f:\n"
        "    f.write(shout(' '.join(targets)) + '\\n')\n"
        "print('mux is', sys.argv[1])\n"
    )
    return project


def test_uploads_modules_and_data_and_fetches_outputs(
    ssh_lab: Lab, state_dir: Path, tmp_path: Path
) -> None:
    project = _project(tmp_path)
    into = tmp_path / "back"
    done = deploy(
        state_dir,
        "--lab",
        "depl",
        str(project / "measure.py"),
        "{mux}",
        "--data",
        str(project / "data"),
        "--fetch",
        "results/out.txt",
        "--into",
        str(into),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "mux is /run/ark/mux\n"
    assert (into / "results" / "out.txt").read_text() == f"{WWW} {FAR}\n"
    # The temporary directory on the far side is gone.
    sshd = next(p.pid for p in ssh_lab.state.processes.values() if p.kind == "sshd")
    listing = subprocess.run(
        ["nsenter", "-t", str(sshd), "-m", "ls", "/tmp"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "scamperlab-deploy" not in listing.stdout


def test_a_declared_output_that_was_not_written_fails(
    ssh_lab: Lab, state_dir: Path, tmp_path: Path
) -> None:
    project = _project(tmp_path)
    done = deploy(
        state_dir,
        "--lab",
        "depl",
        str(project / "measure.py"),
        "x",
        "--data",
        str(project / "data"),
        "--fetch",
        "nothing.warts",
        "--into",
        str(tmp_path),
    )
    assert done.returncode == 1
    assert "did not write nothing.warts" in done.stderr


def _config(tmp_path: Path, lab: Lab, *, key: str, known: str, extra: str = "") -> Path:
    endpoint = lab.ssh_endpoint
    assert endpoint is not None
    known_path = tmp_path / "known_hosts"
    known_path.write_text(known)
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host target\n  HostName 127.0.0.1\n  Port {endpoint.port}\n  User root\n"
        f"  IdentityFile {key}\n  IdentitiesOnly yes\n  UserKnownHostsFile {known_path}\n"
        f"  GlobalKnownHostsFile /dev/null\n{extra}"
    )
    return config


def _keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


def _lab_known(lab: Lab) -> str:
    assert lab.ssh_endpoint is not None
    return Path(lab.ssh_endpoint.known_hosts).read_text()


def test_deploy_with_an_ssh_config_file(ssh_lab: Lab, state_dir: Path, tmp_path: Path) -> None:
    assert ssh_lab.ssh_endpoint is not None
    config = _config(
        tmp_path, ssh_lab, key=ssh_lab.ssh_endpoint.identity, known=_lab_known(ssh_lab)
    )
    done = deploy(
        state_dir,
        "-F",
        str(config),
        "--host",
        "target",
        "examples/vps_in_country.py",
        "{mux}",
        "GB",
        home=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "1 VPs in GB"


def test_proxyjump_through_the_controller_host(
    ssh_lab: Lab, state_dir: Path, tmp_path: Path
) -> None:
    endpoint = ssh_lab.ssh_endpoint
    assert endpoint is not None
    key = Path(endpoint.known_hosts).read_text().split()[1:3]
    known = _lab_known(ssh_lab) + f"127.0.0.1 {key[0]} {key[1]}\n"
    config = _config(
        tmp_path,
        ssh_lab,
        key=endpoint.identity,
        known=known,
        extra=f"Host inner\n  HostName 127.0.0.1\n  Port 22\n  User root\n  ProxyJump target\n"
        f"  IdentityFile {endpoint.identity}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {tmp_path / 'known_hosts'}\n  GlobalKnownHostsFile /dev/null\n",
    )
    done = deploy(
        state_dir,
        "-F",
        str(config),
        "--host",
        "inner",
        "examples/list_vps.py",
        "{mux}",
        home=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "via target" in done.stderr
    assert done.stdout.splitlines()[-1] == f"{len(VP_NAMES)} VPs"


def test_host_key_mismatch_is_refused(ssh_lab: Lab, state_dir: Path, tmp_path: Path) -> None:
    assert ssh_lab.ssh_endpoint is not None
    other = _keygen(tmp_path / "other_host")
    kind, blob = Path(f"{other}.pub").read_text().split()[:2]
    known = f"[127.0.0.1]:{ssh_lab.ssh_endpoint.port} {kind} {blob}\n"
    config = _config(tmp_path, ssh_lab, key=ssh_lab.ssh_endpoint.identity, known=known)
    done = deploy(
        state_dir,
        "-F",
        str(config),
        "--host",
        "target",
        "examples/list_vps.py",
        "{mux}",
        home=tmp_path,
    )
    assert done.returncode == 255
    assert "does NOT match known_hosts" in done.stderr
    assert "ssh-keygen -R" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_unknown_host_key_is_refused_not_added(
    ssh_lab: Lab, state_dir: Path, tmp_path: Path
) -> None:
    assert ssh_lab.ssh_endpoint is not None
    config = _config(tmp_path, ssh_lab, key=ssh_lab.ssh_endpoint.identity, known="")
    done = deploy(
        state_dir,
        "-F",
        str(config),
        "--host",
        "target",
        "examples/list_vps.py",
        "{mux}",
        home=tmp_path,
    )
    assert done.returncode == 255
    assert "is unknown (ssh-ed25519 SHA256:" in done.stderr
    assert (tmp_path / "known_hosts").read_text() == "", "the key must not be added"


def test_authentication_failure(ssh_lab: Lab, state_dir: Path, tmp_path: Path) -> None:
    wrong = _keygen(tmp_path / "wrong_key")
    config = _config(tmp_path, ssh_lab, key=str(wrong), known=_lab_known(ssh_lab))
    done = deploy(
        state_dir,
        "-F",
        str(config),
        "--host",
        "target",
        "examples/list_vps.py",
        "{mux}",
        home=tmp_path,
    )
    assert done.returncode == 255
    assert "authentication as root on 127.0.0.1" in done.stderr
    assert str(wrong) in done.stderr


def test_missing_remote_module(ssh_lab: Lab, state_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "needs.py"
    script.write_text("import scamperlab_no_such_module\nprint('never')\n")
    done = deploy(state_dir, "--lab", "depl", str(script))
    assert done.returncode == 1
    assert "not installed for" in done.stderr
    assert "python3-scamperlab-no-such-module" in done.stderr
    assert "never" not in done.stdout


def test_api_mismatch_is_refused_before_running(
    ssh_lab: Lab, state_dir: Path, tmp_path: Path
) -> None:
    script = tmp_path / "old.py"
    script.write_text(
        "import sys\nfrom scamper import ScamperCtrl\n"
        "ctrl = ScamperCtrl(mux=sys.argv[1])\n"
        "print('ran')\n"
        "ctrl.do_ping('192.0.2.7', recordroute=True, inst=ctrl.instances()[0], sync=True)\n"
    )
    done = deploy(state_dir, "--lab", "depl", str(script), "{mux}")
    assert done.returncode == 1
    assert "recordroute" in done.stderr and "ip_rr" in done.stderr
    assert "ran" not in done.stdout


def test_remote_crash_gives_its_status(ssh_lab: Lab, state_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "crash.py"
    script.write_text("import sys\nprint('started', flush=True)\nsys.exit(int('x'))\n")
    done = deploy(state_dir, "--lab", "depl", str(script))
    assert done.returncode == 1
    assert done.stdout == "started\n"
    assert "ValueError: invalid literal" in done.stderr
    assert "the remote script exited with status 1" in done.stderr


def _controller_processes(lab: Lab) -> list[str]:
    namespace = lab.net.namespace_ids()["controller"]
    found = []
    for pid in processes_in({namespace}):
        try:
            found.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


def test_ctrl_c_leaves_no_remote_process(ssh_lab: Lab, state_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "forever.py"
    script.write_text(
        "import subprocess, time\n"
        "helper = subprocess.Popen(['sleep', '600'])\n"
        "while True:\n    print('tick', flush=True)\n    time.sleep(0.1)\n"
    )
    baseline = len(_controller_processes(ssh_lab))
    proc = deploy_in_background(state_dir, "--lab", "depl", str(script))
    assert proc.stdout is not None
    assert proc.stdout.readline() == "tick\n"
    assert any("forever.py" in p for p in _controller_processes(ssh_lab))
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "the remote script was stopped" in err
    deadline = time.monotonic() + 10
    while True:
        left = [p for p in _controller_processes(ssh_lab) if "forever.py" in p or "sleep 600" in p]
        sessions = len(_controller_processes(ssh_lab))
        if not left and sessions == baseline:
            break
        assert time.monotonic() < deadline, f"left running: {_controller_processes(ssh_lab)}"
        time.sleep(0.1)


def test_the_controller_host_adds_no_way_out_of_the_lab(ssh_lab: Lab) -> None:
    out = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    host_addrs = [
        line.split()[3].split("/")[0]
        for line in out.splitlines()
        if " lo " not in line and "scope global" in line
    ]
    for addr in host_addrs:
        route = ssh_lab.run_in("controller", ["ip", "route", "get", addr])
        assert route.returncode != 0, f"the controller has a route to {addr}: {route.stdout}"
    # sshd listens on the controller's loopback only: a VP cannot reach it.
    vp = ssh_lab.vps[0].name
    probe = "import socket; socket.create_connection(('198.19.240.1', 22), timeout=2)"
    reach = ssh_lab.run_in(vp, [sys.executable, "-c", probe])
    assert reach.returncode != 0
    assert "refused" in reach.stderr or "timed out" in reach.stderr, reach.stderr


def test_a_deployed_run_is_recorded_and_replays_with_its_output(
    ssh_lab: Lab, state_dir: Path
) -> None:
    """``deploy --record``: recorded next to the remote mux, fetched, replayed here as nobody."""
    from tests.integration.test_replay import PYTHON3, replay

    home = Path(tempfile.mkdtemp(prefix="scamperlab-deploy-rec-"))
    try:
        home.chmod(0o755)  # the replay runs as nobody
        rec = home / "ark.rec"
        live = deploy(state_dir, "--lab", "depl", "--record", str(rec), *PING_ALL)
        assert live.returncode == 0, live.stderr
        assert f"recorded the run's mux sessions in {rec}" in live.stderr
        assert live.stdout.count(" ms\n") == len(VP_NAMES) + 1, live.stdout  # and the closest
        rec.chmod(0o644)
        info = summary(read_recording(rec))
        assert {vp.name for vp in info.vps} == set(VP_NAMES)
        assert info.results == len(VP_NAMES)
        assert "ping_all.py" in " ".join(info.command)
        done = replay(rec, PYTHON3, *PING_ALL)
        assert done.returncode == 0, done.stderr
        assert done.stdout == live.stdout
    finally:
        shutil.rmtree(home, ignore_errors=True)
    # The recorder went with the remote directory: nothing of it is left running.
    assert not [p for p in _controller_processes(ssh_lab) if "scamperlab-record" in p]


def test_ctrl_c_during_a_recorded_deploy_keeps_the_recording(
    ssh_lab: Lab, state_dir: Path, tmp_path: Path
) -> None:
    script = tmp_path / "ping_then_wait.py"
    script.write_text(
        "import sys, time\n"
        "from scamper import ScamperCtrl\n"
        "ctrl = ScamperCtrl(mux=sys.argv[1])\n"
        "inst = ctrl.add_vps(ctrl.vps()[:1])[0]\n"
        f"print(ctrl.do_ping('{WWW}', inst=inst, sync=True).min_rtt, flush=True)\n"
        "while True:\n    time.sleep(0.1)\n"
    )
    rec = tmp_path / "interrupted.rec"
    proc = deploy_in_background(
        state_dir, "--lab", "depl", "--record", str(rec), str(script), "{mux}"
    )
    assert proc.stdout is not None and proc.stderr is not None
    if not proc.stdout.readline().strip():
        proc.kill()
        pytest.fail(f"no RTT: {proc.stderr.read()}")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert f"recorded the run's mux sessions in {rec}" in err
    assert summary(read_recording(rec)).results == 1
    deadline = time.monotonic() + 10
    while left := [p for p in _controller_processes(ssh_lab) if "ping_then_wait" in p]:
        assert time.monotonic() < deadline, f"left running: {left}"
        time.sleep(0.1)
