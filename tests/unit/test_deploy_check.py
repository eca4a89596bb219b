"""``scamperlab check SCRIPT``, the shipped API inventory, and ssh config resolution."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import paramiko
import pytest

from scamperlab.deploy import make_api_versions
from scamperlab.deploy.scriptcheck import (
    check_script,
    debian_package,
    known_versions,
    local_dependencies,
)
from scamperlab.deploy.sshconn import resolve
from scamperlab.deploy.upload import files_to_upload

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path("/work/shared/reference")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scamperlab.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def messages(script: Path, version: str) -> list[str]:
    return [f.message for f in check_script(script, version).findings]


def test_both_recorded_versions_are_shipped() -> None:
    assert known_versions() == ["20260420", "20260902"]


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="the reference inventory is not here")
def test_the_shipped_inventory_is_what_the_generator_makes() -> None:
    shipped = json.loads(make_api_versions.OUT.read_text())
    assert shipped == json.loads(json.dumps(make_api_versions.build(REFERENCE), sort_keys=True))


@pytest.mark.parametrize("version", ["20260420", "20260902"])
@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_examples_pass(script: Path, version: str) -> None:
    assert messages(script, version) == []


def test_cli_check_dispatches_scripts_and_topologies() -> None:
    ok = cli("check", "examples/ping_all.py", "--target-version", "20260420")
    assert ok.returncode == 0, ok.stderr
    assert "ok for scamper 20260420" in ok.stdout
    topo = cli("check", "topologies/ark-mini.yaml")
    assert topo.returncode == 0 and "14 VPs" in topo.stdout
    unknown = cli("check", "examples/ping_all.py", "--target-version", "20200101")
    assert unknown.returncode == 1
    assert "known versions are 20260420, 20260902" in " ".join(unknown.stderr.split())


RENAMED = """\
import sys
from scamper import ScamperCtrl

ctrl = ScamperCtrl(mux=sys.argv[1])
inst = ctrl.add_vps(ctrl.vps()[0])[0]
ping = ctrl.do_ping("192.0.2.7", recordroute=True, inst=inst, sync=True)
"""


def test_a_renamed_parameter_is_flagged_with_its_new_name(tmp_path: Path) -> None:
    script = write(tmp_path / "rr.py", RENAMED)
    assert messages(script, "20260420") == []
    [message] = messages(script, "20260902")
    assert message == (
        "do_ping(): no parameter recordroute= in scamper 20260902: it is called ip_rr= in 20260902"
    )
    done = cli("check", str(script), "--target-version", "20260902")
    assert done.returncode == 1
    assert "rr.py:6: do_ping(): no parameter recordroute=" in done.stderr


def test_the_new_name_is_flagged_for_the_old_version(tmp_path: Path) -> None:
    script = write(tmp_path / "new.py", RENAMED.replace("recordroute", "ip_rr"))
    assert messages(script, "20260902") == []
    assert messages(script, "20260420") == [
        "do_ping(): no parameter ip_rr= in scamper 20260420: it is called recordroute= in 20260420"
    ]


def test_do_calls_on_objects_of_unknown_type_and_members_by_version(tmp_path: Path) -> None:
    script = write(
        tmp_path / "cb.py",
        "import scamper as sc\n"
        "from scamper import ScamperCtrl, ScamperPingStop\n"
        "def more(ctrl, inst, param):\n"
        "    ctrl.do_dns('example.com', mqtypes=['A'], inst=inst)\n"
        "    ctrl.do_pingg('192.0.2.7')\n"
        "c = ScamperCtrl(morecb=more, bogus=1)\n"
        "c.remove(None)\n"
        "x = ScamperPingStop.Completed\n"
        "y = sc.ScamperCtrlError\n"
        "with sc.ScamperCtrl() as d:\n"
        "    d.add_mux('/a', '/b')\n",
    )
    old = messages(script, "20260420")
    assert "do_dns(): no parameter mqtypes= in scamper 20260420 (it exists in 20260902)" in old
    assert "ScamperCtrl.remove: no such member in scamper 20260420 (it exists in 20260902)" in old
    new = messages(script, "20260902")
    assert "ScamperCtrl.do_pingg: no such method in scamper 20260902" in new
    assert "ScamperCtrl(): no parameter bogus= in scamper 20260902" in new
    assert "scamper.ScamperCtrlError: scamper 20260902 has no ScamperCtrlError" in new
    assert "add_mux() takes at most 1 positional argument(s) in scamper 20260902, not 2" in new
    assert not any("ScamperPingStop" in m for m in new)


def test_imports_ark_will_not_have(tmp_path: Path) -> None:
    write(tmp_path / "helpers" / "__init__.py", "import yaml\nfrom . import more\n")
    write(tmp_path / "helpers" / "more.py", "import json\n")
    script = write(
        tmp_path / "s.py",
        "import os, numpy as np\nimport helpers\nfrom scamperlab.scamper import ScamperCtrl\n",
    )
    report = check_script(script, "20260902")
    kinds = {(f.path, f.kind) for f in report.findings}
    assert ("s.py", "scamperlab") in kinds
    assert report.third_party == {"numpy": "python3-numpy", "yaml": "python3-yaml"}
    assert any(f.path == "helpers/__init__.py" for f in report.findings)
    assert local_dependencies(script) == [tmp_path / "helpers"]


def test_debian_package_names() -> None:
    assert debian_package("numpy") == "python3-numpy"
    assert debian_package("yaml") == "python3-yaml"
    assert debian_package("dns.resolver") == "python3-dnspython"
    assert debian_package("some_module") == "python3-some-module"


def test_files_to_upload_keep_the_layout(tmp_path: Path) -> None:
    write(tmp_path / "lib" / "__init__.py", "")
    write(tmp_path / "lib" / "__pycache__" / "x.pyc", "")
    write(tmp_path / "data" / "in.txt", "1")
    script = write(tmp_path / "main.py", "import lib\n")
    remote = sorted(u.remote for u in files_to_upload(script, [tmp_path / "data"]))
    assert remote == ["data/in.txt", "lib/__init__.py", "main.py"]


def test_ssh_config_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    config = paramiko.SSHConfig.from_text(
        "Host ark\n  HostName ark.example.net\n  User alice\n  Port 2222\n"
        "  IdentityFile ~/.ssh/ark_key\n  IdentitiesOnly yes\n  ProxyJump bastion,jump2:2200\n"
        "  UserKnownHostsFile ~/kh1 ~/kh2\n"
        "Host *\n  User nobody\n"
    )
    spec = resolve("ark", config)
    assert (spec.hostname, spec.port, spec.user) == ("ark.example.net", 2222, "alice")
    assert spec.identity_files == [f"{tmp_path}/.ssh/ark_key"]
    assert spec.identities_only
    assert spec.proxy_jump == ["bastion", "jump2:2200"]
    assert spec.known_hosts[:2] == [f"{tmp_path}/kh1", f"{tmp_path}/kh2"]
    assert spec.known_hosts_name == "[ark.example.net]:2222"
    override = resolve("bob@ark", config, port=22, identity=["/k"])
    assert (override.user, override.port, override.identity_files[0]) == ("bob", 22, "/k")
    other = resolve("198.51.100.1", config)
    assert (other.user, other.port, other.proxy_jump) == ("nobody", 22, [])
