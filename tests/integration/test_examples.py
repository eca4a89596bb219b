"""Every script in ``examples/`` runs through ``scamperlab run`` and prints what it should.

The scripts are what a researcher writes against Ark (``from scamper import
...``), run by the ``python3`` on PATH, which finds ``scamper`` only through
the PYTHONPATH that ``scamperlab run`` sets up.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scamperlab.topology.loader import load_topology
from tests.integration.conftest import ARK_MINI, ROOT

EXAMPLES = ROOT / "examples"
TOPOLOGY = load_topology(ARK_MINI)
VP_NAMES = sorted(vp.name for vp in TOPOLOGY.vps)
WWW = "203.0.113.80"
FAR = "192.0.2.7"
# The topology's delays apply on every kernel (netem or the userspace fallback).
MAX_RTT_MS = 2000.0

RTT_LINE = re.compile(r"^(\S+)\s+(\d+\.\d+) ms$")


def python3() -> str:
    found = shutil.which("python3")
    if found is None:
        pytest.fail("no python3 on PATH")
    return found


def run(name: str, state_dir: Path, *command: str, timeout: float = 180, status: int = 0) -> str:
    """``scamperlab run ark-mini -- COMMAND``; the command's stdout (it must exit ``status``)."""
    env = dict(os.environ, SCAMPERLAB_STATE_DIR=str(state_dir))
    env.pop("PYTHONPATH", None)  # only scamperlab run may make `import scamper` work
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scamperlab.cli",
            "run",
            str(ARK_MINI),
            "--name",
            name,
            "--",
            *command,
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == status, (
        f"rc={proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert not (state_dir / name).exists(), "scamperlab run left its lab behind"
    return proc.stdout


def example(name: str, state_dir: Path, script: str, *args: str, status: int = 0) -> list[str]:
    out = run(name, state_dir, python3(), f"examples/{script}", "{mux}", *args, status=status)
    return out.splitlines()


def test_python3_on_path_imports_scamper_only_through_the_run_environment(state_dir: Path) -> None:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    probe = "import scamper; print(scamper.__file__); print(scamper.ScamperCtrl.__module__)"
    bare = subprocess.run([python3(), "-c", probe], env=env, capture_output=True, text=True)
    inside = run("eximp", state_dir, python3(), "-c", probe).splitlines()
    assert inside[1] in ("scamper", "scamperlab.scamper.ctrl"), inside
    if bare.returncode != 0:  # no CAIDA module here: the shim must have provided it
        assert "scamperlab" in inside[0] and "shim" in inside[0], inside


def test_examples_are_ark_scripts() -> None:
    scripts = sorted(EXAMPLES.glob("*.py"))
    names = {p.name for p in scripts}
    for expected in (
        "list_vps.py",
        "vps_in_country.py",
        "sync_ping.py",
        "ping_all.py",
        "event_driven.py",
        "nameservers.py",
    ):
        assert expected in names
    for path in scripts:
        if path.name == "demo_mux.py":  # speaks the raw protocol on purpose
            continue
        text = path.read_text()
        assert "scamperlab" not in "\n".join(
            line for line in text.splitlines() if line.startswith(("import", "from"))
        ), f"{path.name} imports scamperlab"
        assert "from scamper import" in text, path.name
        assert f"python3 examples/{path.name} {{mux}}" in text, f"{path.name}: no usage line"


def test_list_vps(state_dir: Path) -> None:
    lines = example("exlist", state_dir, "list_vps.py")
    assert lines[0].split() == ["name", "cc", "place", "loc", "asn4", "tags"]
    assert lines[-1] == f"{len(VP_NAMES)} VPs"
    rows = lines[1:-1]
    assert [row.split()[0] for row in rows] == VP_NAMES
    by_name = {row.split()[0]: row for row in rows}
    for vp in TOPOLOGY.vps:
        row = by_name[vp.name]
        assert vp.latlong is not None and vp.place is not None and vp.cc is not None
        assert row.split()[1] == vp.cc.upper()
        assert f" {vp.place} " in row
        assert f"{vp.latlong[0]:.2f},{vp.latlong[1]:.2f}" in row
        assert f" {vp.asn4} " in row
        assert row.split()[-1] == ",".join(sorted(vp.tags))


@pytest.mark.parametrize("cc", ["US", "gb"])
def test_vps_in_country(state_dir: Path, cc: str) -> None:
    lines = example(f"excc{cc}", state_dir, "vps_in_country.py", cc)
    expected = sorted(vp.name for vp in TOPOLOGY.vps if (vp.cc or "").upper() == cc.upper())
    assert expected, "the topology should have VPs in this country"
    assert lines[-1] == f"{len(expected)} VPs in {cc.upper()}"
    assert [line.split()[0] for line in lines[:-1]] == expected
    assert all(line.split()[1] == cc.upper() for line in lines[:-1])


def test_sync_ping(state_dir: Path) -> None:
    lines = example("exsync", state_dir, "sync_ping.py", WWW)
    assert len(lines) == 1, lines
    m = re.fullmatch(r"(\S+): min_rtt (\d+\.\d+) ms to (\S+) \((\d+)/(\d+)\)", lines[0])
    assert m, lines[0]
    assert m.group(1) in VP_NAMES
    assert 0 < float(m.group(2)) < MAX_RTT_MS
    assert m.group(3) == WWW
    assert (m.group(4), m.group(5)) == ("3", "3")


def test_ping_all(state_dir: Path) -> None:
    lines = example("exall", state_dir, "ping_all.py", WWW)
    table = lines[:-1]
    rtts = {}
    for line in table:
        m = RTT_LINE.match(line)
        assert m, f"VP without a reply or bad line: {line!r}"
        rtts[m.group(1)] = float(m.group(2))
    assert sorted(rtts) == VP_NAMES
    assert all(0 < rtt < MAX_RTT_MS for rtt in rtts.values()), rtts
    m = re.fullmatch(r"closest: (\S+) (\d+\.\d+) ms", lines[-1])
    assert m, lines[-1]
    assert float(m.group(2)) == min(rtts.values())
    assert rtts[m.group(1)] == min(rtts.values())


def test_event_driven(state_dir: Path) -> None:
    lines = example("exevent", state_dir, "event_driven.py", FAR)
    assert lines[-1] == f"{len(VP_NAMES)} VPs finished"
    rtts = {}
    for line in lines[:-1]:
        m = re.fullmatch(r"(\S+): (\d+\.\d+) ms", line)
        assert m, f"VP without a reply or bad line: {line!r}"
        assert m.group(1) not in rtts, "a VP was pinged twice"
        rtts[m.group(1)] = float(m.group(2))
    assert sorted(rtts) == VP_NAMES
    assert all(0 < rtt < MAX_RTT_MS for rtt in rtts.values()), rtts


def test_nameservers(state_dir: Path) -> None:
    """NS set through the VP's resolver (or its fallback on 20211212), then A/AAAA and pings."""
    lines = example("exns", state_dir, "nameservers.py", "lab.example")
    m = re.fullmatch(
        r"lab\.example: 2 nameservers from (\S+): ns1\.lab\.example, ns2\.lab\.example", lines[0]
    )
    assert m, lines
    assert m.group(1) in VP_NAMES
    rows = [line.split() for line in lines[1:]]
    expected = {
        "203.0.113.80": "ns1.lab.example",
        "2001:db8:80::80": "ns1.lab.example",
        "192.0.2.7": "ns2.lab.example",
        "2001:db8:7::7": "ns2.lab.example",
    }
    assert {row[1]: row[0] for row in rows} == expected
    assert all(row[3] == "ms" for row in rows), rows
    delays = [float(row[2]) for row in rows]
    assert delays == sorted(delays) and all(0 < d < MAX_RTT_MS for d in delays), delays


def test_http_fetch(state_dir: Path) -> None:
    """A fetch from a VP over HTTP and HTTPS (the lab CA trusted, no ``insecure``): scamper's
    own ``http``, or on a scamper without it (Debian's 20211212) the lab's stand-in."""
    for url in ("http://www.lab.example/", "https://www.lab.example/"):
        lines = example("exhttp", state_dir, "http_fetch.py", WWW, url)
        assert lines[0].endswith(f": {url} -> HTTP 200"), lines
        assert lines[0].split(":")[0] in VP_NAMES, lines
        headers = dict(line.strip().split(": ", 1) for line in lines[1:])
        assert headers["server"].startswith("nginx") and int(headers["content-length"]) > 0


def test_udp_probe(state_dir: Path) -> None:
    """Every VP's two probes echoed by far.example: by its scamper where it has udpprobe,
    by the lab's stand-in from the VP's namespace where it does not (20211212)."""
    lines = example("exudp", state_dir, "udp_probe.py", FAR, "7")
    assert len(lines) == len(VP_NAMES), lines
    assert sorted(line.split(":")[0] for line in lines) == VP_NAMES, lines
    assert all(line.endswith(": 2 replies b'hello from a VP'") for line in lines), lines
