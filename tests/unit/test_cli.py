"""The CLI's surface: help, exit statuses, output that survives a pipe (no root, no lab)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import Any

import pytest

from scamperlab.cli import main
from scamperlab.lab.lifecycle import LAB_FAILED_EXIT

ROOT = Path(__file__).resolve().parents[2]
LONG_TAGS = ["os:linux", "hw:raspberry-pi-4-model-b-8gb", "site:a-very-long-site-name-here"]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI with stdout and stderr piped, as in a script or a CI log."""
    return subprocess.run(
        [sys.executable, "-m", "scamperlab.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=ROOT,
        env=dict(os.environ, COLUMNS="80", **(env or {})),
    )


def fake_lab(root: Path, name: str, vps: int = 2) -> dict[str, Any]:
    """A lab's state directory as a lab whose owner died leaves it (no lock held)."""
    state: dict[str, Any] = {
        "name": name,
        "owner_pid": 1,
        "owner_starttime": 0,
        "mux": f"{root}/{name}/mux",
        "scamper_version": "20240101",
        "started_at": 0,
        "processes": [],
        "vps": [
            {
                "name": f"vp{i}.a-rather-long-monitor-name.example.org",
                "state": "up",
                "pid": 1000 + i,
                "ipv4": f"198.18.0.{i}",
                "ipv6": f"2001:db8:1000:{i:x}::2",
                "restarts": 0,
                "up_since": None,
                "problem": None,
                "cc": "NZ",
                "place": "Palmerston North",
                "asn4": 64496,
                "tags": LONG_TAGS,
            }
            for i in range(vps)
        ],
        "targets": [{"name": "www.example", "kind": "target", "ipv4": "192.0.2.1", "ipv6": "::"}],
    }
    (root / name).mkdir(parents=True)
    (root / name / "state.json").write_text(json.dumps(state))
    return state


# -- help ---------------------------------------------------------------------------


def test_help_lists_no_hidden_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "_daemon" not in text and "SUPPRESS" not in text
    for command in ("up", "down", "status", "run", "audit"):
        assert f"    {command} " in text


# -- status ---------------------------------------------------------------------------


def test_status_json_is_an_empty_list_without_labs(tmp_path: Path) -> None:
    done = cli("status", "--json", env={"SCAMPERLAB_STATE_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_status_json_is_one_list_of_every_lab(tmp_path: Path) -> None:
    fake_lab(tmp_path, "one")
    fake_lab(tmp_path, "two")
    done = cli("status", "--json", env={"SCAMPERLAB_STATE_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    labs = json.loads(done.stdout)  # one document: json.loads rejects two back to back
    assert [lab["name"] for lab in labs] == ["one", "two"]
    assert [lab["running"] for lab in labs] == [False, False]
    named = cli("status", "--json", "two", env={"SCAMPERLAB_STATE_DIR": str(tmp_path)})
    assert [lab["name"] for lab in json.loads(named.stdout)] == ["two"]


def test_status_piped_is_neither_wrapped_nor_truncated(tmp_path: Path) -> None:
    state = fake_lab(tmp_path, "wide")
    done = cli("status", env={"SCAMPERLAB_STATE_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout
    rows = [line for line in done.stdout.splitlines() if "a-rather-long-monitor-name" in line]
    assert len(rows) == len(state["vps"])  # one line per VP, not folded
    for vp, row in zip(state["vps"], rows, strict=True):
        assert vp["name"] in row and ",".join(LONG_TAGS) in row and "Palmerston North" in row
    assert "STALE: owner died; run scamperlab down wide" in done.stdout


def test_status_says_what_stand_ins_perform_or_that_they_are_off(tmp_path: Path) -> None:
    from scamperlab.lab.standins import standins_info

    env = {"SCAMPERLAB_STATE_DIR": str(tmp_path)}
    for name, enabled, said in (
        ("on", True, "stand-ins: every VP's scamper 20211212 lacks these"),
        ("off", False, "stand-ins off: commands needing these are refused"),
    ):
        state = fake_lab(tmp_path, name)
        state["standins"] = standins_info("20211212", enabled, True)
        (tmp_path / name / "state.json").write_text(json.dumps(state))
        done = cli("status", name, env=env)
        assert done.returncode == 0, done.stderr
        line = next(x for x in done.stdout.splitlines() if "stand-ins" in x)
        assert line.startswith(said) and "host -t NS (DNS NS queries)" in line, line


def test_status_of_a_cluster_lab_host_names_no_mux(tmp_path: Path) -> None:
    env = {"SCAMPERLAB_STATE_DIR": str(tmp_path)}
    state = fake_lab(tmp_path, "shard")
    state["mux"] = None  # the controller host serves the mux, not this one
    (tmp_path / "shard" / "state.json").write_text(json.dumps(state))
    done = cli("status", "shard", env=env)
    assert done.returncode == 0, done.stderr
    assert "no mux here" in done.stdout and "mux None" not in done.stdout
    fake_lab(tmp_path, "solo")
    assert "no mux here" not in cli("status", "solo", env=env).stdout


def test_status_in_a_narrow_terminal_folds_cells_to_fit(tmp_path: Path) -> None:
    state = fake_lab(tmp_path, "narrow", vps=1)
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 60, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(SCAMPERLAB_STATE_DIR=str(tmp_path), TERM="xterm", NO_COLOR="1")
    with subprocess.Popen(
        [sys.executable, "-m", "scamperlab.cli", "status"],
        stdout=secondary,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    ) as proc:
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
    os.close(primary)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode())
    lines = text.replace("\r", "").splitlines()
    assert max(len(line) for line in lines) <= 60, text
    assert "…" not in text  # folded, not cut: every character is still there
    # The VP table's first column, read down: the name, folded over several lines.
    first_table = lines[: next(i for i, line in enumerate(lines) if line.startswith("└"))]
    column = "".join(line.split("│")[1].strip() for line in first_table if line.startswith("│"))
    assert column == state["vps"][0]["name"]


def test_errors_are_one_unwrapped_line_when_piped(tmp_path: Path) -> None:
    missing = tmp_path / ("a-directory-with-a-long-name-" * 4) / "topology.yaml"
    done = cli("check", str(missing))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"error: {missing}: cannot read topology file")


# -- run --------------------------------------------------------------------------------


def test_run_exits_125_when_the_lab_cannot_be_made(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nvps:\n  - name: vp1\n    uplink: {router: nowhere}\n")
    done = cli("run", str(bad), "--", "true", env={"SCAMPERLAB_STATE_DIR": str(tmp_path)})
    assert done.returncode == LAB_FAILED_EXIT == 125, done.stderr
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    missing = cli("run", str(tmp_path / "none.yaml"), "--", "true")
    assert missing.returncode == 125


def test_audit_exits_125_when_the_lab_cannot_be_made(tmp_path: Path) -> None:
    done = cli("audit", str(tmp_path / "none.yaml"), "--ssh", "--json", "--", "true")
    assert done.returncode == 125, done.stderr
    assert done.stdout == ""


def test_run_without_a_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["run", "topologies/ark-mini.yaml"])
    assert done.value.code == 2
    assert "nothing to run" in capsys.readouterr().err


# -- inventory -------------------------------------------------------------------------


def test_inventory_of_a_missing_file_is_an_error_line(tmp_path: Path) -> None:
    done = cli("inventory", "--to-topology", str(tmp_path / "hosts.yml"))
    assert done.returncode == 1
    assert (
        done.stderr == f"error: cannot read {tmp_path / 'hosts.yml'}: No such file or directory\n"
    )


def test_inventory_of_bad_yaml_is_an_error_line(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.yml"
    hosts.write_text("all: [unclosed\n")
    done = cli("inventory", "--to-topology", str(hosts))
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: {hosts}: not valid YAML"), done.stderr
    assert "Traceback" not in done.stderr


def test_inventory_to_an_unwritable_file_is_an_error_line(tmp_path: Path) -> None:
    out = tmp_path / "no-such-dir" / "hosts.yml"
    done = cli("inventory", "topologies/ark-mini.yaml", "-o", str(out))
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: cannot write {out}"), done.stderr
