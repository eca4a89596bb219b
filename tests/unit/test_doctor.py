"""``scamperlab doctor``, and the modern-scamper paths this machine can only reach through text.

Debian's 20211212 is what is installed here; modern scamper cannot be. So a
modern install is made of what the lab reads from it: ``scamper -v``'s
version line and ``sc_remoted -?``'s usage text, from fake programs under a
prefix (as ``--scamper-prefix`` takes). What is tested that way: detection
of the mux, the lab's choice of mux server, the argument list and the
metadata file sc_remoted then gets, task-id handling, and what doctor says;
the import side uses a stand-in for CAIDA's module in another interpreter
(tests/standin.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from scamperlab.cli import main
from scamperlab.emulation.network import EmulatedNetwork
from scamperlab.processes import sources
from scamperlab.processes.binaries import ScamperInstall, find_scamper
from scamperlab.processes.remoted import Remoted
from tests.standin import clean_environ, make_interpreter

ROOT = Path(__file__).resolve().parents[2]

# Usage texts in the shape of sc_remoted's: 20211212 has no -M; a modern one lists it.
LEGACY_USAGE = """usage: sc_remoted [-?46D] [-O option] -P [ip:]port -U unix
                  [-e pidfile] [-Z zombie-time]
     -U directory for unix domain sockets
"""
MODERN_USAGE = """usage: sc_remoted [-?46Dv] [-O option] -P [ip:]port [-U unix] [-M mux]
                  [-m metadata] [-c cert] [-p key] [-C ca] [-e pidfile] [-Z zombie-time]
     -M path of the multiplexed socket
     -m file with the metadata of each VP
"""
UBUNTU = {"ID": "ubuntu", "VERSION_ID": "24.04", "PRETTY_NAME": "Ubuntu 24.04.1 LTS"}
DEBIAN = {"ID": "debian", "VERSION_ID": "12", "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)"}


def fake_scamper(prefix: Path, version: str, usage: str) -> Path:
    """A prefix whose scamper says ``version`` and whose sc_remoted prints ``usage``."""
    bindir = prefix / "bin"
    bindir.mkdir(parents=True)
    for name, text in (("scamper", f"scamper version {version}\n"), ("sc_remoted", usage)):
        program = bindir / name
        program.write_text(f"#!/bin/sh\ncat >&2 <<'EOF'\n{text}EOF\nexit 255\n")
        program.chmod(0o755)
    return prefix


def doctor(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "scamperlab.cli", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=dict(env or clean_environ(), COLUMNS="200"),
        check=False,
    )
    return done.returncode, " ".join((done.stdout + done.stderr).split())


def test_a_modern_sc_remoted_is_recognised_by_its_usage_text(tmp_path: Path) -> None:
    modern = find_scamper(fake_scamper(tmp_path / "new", "20260420", MODERN_USAGE))
    assert (modern.version, modern.remoted_has_mux, modern.emits_task_ids) == (
        "20260420",
        True,
        True,
    )
    legacy = find_scamper(fake_scamper(tmp_path / "old", "20211212", LEGACY_USAGE))
    assert (legacy.remoted_has_mux, legacy.emits_task_ids) == (False, False)


def test_a_modern_sc_remoted_serves_the_mux_with_the_metadata_file(tmp_path: Path) -> None:
    net = cast(
        EmulatedNetwork, SimpleNamespace(plan=SimpleNamespace(controller_ipv4="198.19.240.1"))
    )
    install = find_scamper(fake_scamper(tmp_path / "new", "20260420", MODERN_USAGE))
    mux, meta = tmp_path / "mux", tmp_path / "metadata.txt"
    argv = Remoted(net, install, tmp_path / "vps", tmp_path / "log", 31337, mux, meta).argv()
    assert argv[0] == str(install.sc_remoted)
    assert argv[argv.index("-M") + 1] == str(mux) and argv[argv.index("-m") + 1] == str(meta)
    assert argv[argv.index("-P") + 1] == "198.19.240.1:31337"
    legacy = ScamperInstall(install.scamper, install.sc_remoted, "20211212", False)
    assert "-M" not in Remoted(net, legacy, tmp_path / "vps", tmp_path / "log", 31337).argv()


def test_the_ppa_only_where_it_has_packages() -> None:
    assert sources.ppa_applies(UBUNTU)
    assert sources.ppa_applies({"ID": "ubuntu", "VERSION_ID": "20.04"})
    assert not sources.ppa_applies({"ID": "ubuntu", "VERSION_ID": "26.04"})
    assert not sources.ppa_applies(DEBIAN)
    assert not sources.ppa_applies({"ID": "linuxmint", "VERSION_ID": "22.04"})
    on_ubuntu = sources.modern_guidance(UBUNTU)
    assert (
        on_ubuntu[0]
        == "on Ubuntu 24.04.1 LTS, install it from CAIDA's PPA (ppa:matthewluckie/scamper):"
    )
    assert on_ubuntu[1:4] == [f"    {command}" for command in sources.ppa_commands()]
    elsewhere = " ".join(sources.modern_guidance(DEBIAN))
    assert "is for Ubuntu 20.04, 22.04 and 24.04, not Debian GNU/Linux 12 (bookworm)" in elsewhere
    assert sources.TARBALL_URL in elsewhere and "--scamper-prefix DIR" in elsewhere
    assert "apt-get" not in elsewhere


def test_the_costs_are_those_of_the_release_installed() -> None:
    old = " ".join(sources.costs("20211212"))
    assert "DNS NS, SOA and TXT queries, http and udpprobe (the lab's stand-ins" in old
    assert "perform them), owamp" in old and "no task ids" in old
    newer = " ".join(sources.costs("20240503"))  # has http and task ids, not yet the mux
    assert "refuses" not in newer and "task ids" not in newer and "sc_remoted's -M" in newer


def test_doctor_on_this_machine_names_the_ppa_and_the_tarball_and_both_pythons() -> None:
    _status, said = doctor()
    assert "import scamper, scamperlab's Python (" in said
    assert "import scamper, python3 on PATH (" in said
    if find_scamper().remoted_has_mux:
        assert "modern scamper:" not in said
        return
    assert "mux socket served by scamperlab" in said
    assert "modern scamper: this one has no sc_remoted mux (-M), so" in said
    assert "ppa:matthewluckie/scamper" in said and sources.TARBALL_URL in said
    assert "--scamper-prefix DIR" in said


def test_doctor_reports_what_each_interpreter_imports(tmp_path: Path) -> None:
    caida = make_interpreter(tmp_path / "caida", standin=True)
    env = clean_environ(PATH=f"{caida.python.parent}:{os.environ['PATH']}")
    _status, said = doctor(env=env)
    assert f"import scamper, python3 on PATH ({caida.python.parent / 'python3'}, " in said, said
    assert f"its own scamper module (CAIDA's), {caida.standin}" in said
    assert "import scamper, scamperlab's Python (" in said
    assert "scamperlab's pure-Python scamper module (it has no scamper of its own)" in said
    status, said = doctor(env=dict(env, SCAMPERLAB_SCAMPER="real"))
    assert status == 1
    assert "has no scamper module of its own: install CAIDA's module" in said


def test_doctor_with_a_modern_prefix_gives_no_advice_and_can_require_it(tmp_path: Path) -> None:
    prefix = fake_scamper(tmp_path / "new", "20260420", MODERN_USAGE)
    _status, said = doctor("--scamper-prefix", str(prefix))
    assert "scamper 20260420 at " in said and "mux socket sc_remoted serves it (-M)" in said
    assert "modern scamper:" not in said
    status, said = doctor("--scamper-prefix", str(prefix), "--require-modern")
    assert status == 1  # scamperlab's Python has no CAIDA module here
    assert "--require-modern: no CAIDA's module in scamperlab's Python" in said
    old = fake_scamper(tmp_path / "old", "20211212", LEGACY_USAGE)
    status, said = doctor("--scamper-prefix", str(old), "--require-modern")
    assert status == 1
    assert "no sc_remoted's mux (-M) and no CAIDA's module in scamperlab's Python" in said


def test_doctor_require_modern_passes_with_the_mux_and_caida_s_module(tmp_path: Path) -> None:
    """scamperlab installed in the interpreter that has the stand-in, as in the CI job."""
    caida = make_interpreter(tmp_path / "caida", standin=True, scamperlab_env=True)
    prefix = fake_scamper(tmp_path / "new", "20260420", MODERN_USAGE)
    argv = [str(caida.python), "-m", "scamperlab.cli", "doctor", "--scamper-prefix", str(prefix)]
    plain = subprocess.run(
        argv,
        env=clean_environ(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert f"import scamper, scamperlab's Python ({caida.python}, " in plain.stdout
    assert f"its own scamper module (CAIDA's), {caida.standin}" in plain.stdout
    # With SCAMPERLAB_SCAMPER=real, python3 on PATH must have CAIDA's module too: it does here.
    path = f"{caida.python.parent}:{os.environ['PATH']}"
    done = subprocess.run(
        [*argv, "--require-modern"],
        env=clean_environ(SCAMPERLAB_SCAMPER="real", PATH=path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "--require-modern" not in done.stdout
    assert done.returncode == plain.returncode  # whatever the host checks say, nothing more


def test_on_ubuntu_doctor_prints_the_ppa_s_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sources, "this_system", lambda: UBUNTU)
    old = fake_scamper(tmp_path / "old", "20211212", LEGACY_USAGE)
    main(["doctor", "--scamper-prefix", str(old)])
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    at = lines.index(
        "on Ubuntu 24.04.1 LTS, install it from CAIDA's PPA (ppa:matthewluckie/scamper):"
    )
    assert lines[at + 1 : at + 4] == sources.ppa_commands()


@pytest.mark.parametrize(
    ("version", "usage", "served_by", "legacy"),
    [
        ("20260420", MODERN_USAGE, "sc_remoted", None),
        ("20240503", LEGACY_USAGE, "scamperlab", None),  # task ids, but no mux yet
        ("20211212", LEGACY_USAGE, "scamperlab", "20211212"),
    ],
)
def test_a_lab_s_parts_follow_what_the_installed_scamper_can_do(
    tmp_path: Path, version: str, usage: str, served_by: str, legacy: str | None
) -> None:
    """The lab's choice of mux server, taken before anything starts (no root needed).

    ``_make_parts`` is private; it is called here because on this machine the
    modern branch can be reached no other way: its constructors only record
    their inputs, and the one file it writes, sc_remoted's metadata, is checked.
    """
    from scamperlab.lab.core import Lab

    lab = Lab.from_file(
        ROOT / "tests" / "integration" / "topologies" / "tiny.yaml", state_dir=tmp_path
    )
    lab.state.dir.mkdir(parents=True)
    parts = lab._make_parts(find_scamper(fake_scamper(tmp_path / "prefix", version, usage)))
    try:
        argv = parts.remoted.argv()
        metadata = lab.state.path("metadata.txt")
        if served_by == "sc_remoted":
            assert parts.mux is None
            assert argv[argv.index("-M") + 1] == str(lab.mux_path)
            assert argv[argv.index("-m") + 1] == str(metadata)
            lines = metadata.read_text().splitlines()
            assert {"vp1.test cc NZ", "vp1.test place Hamilton", "vp2.test cc us"} <= set(lines)
        else:
            assert parts.mux is not None and "-M" not in argv and not metadata.exists()
            assert parts.mux.legacy_version == legacy
    finally:
        parts.teardown.close()
