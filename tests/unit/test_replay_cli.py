"""``scamperlab replay``: its errors and its table, piped (as in a script or a CI log)."""

from __future__ import annotations

from pathlib import Path

from tests.unit.test_cli import cli

V1 = Path(__file__).resolve().parents[1] / "fixtures" / "recording-v1.rec"


def test_replay_runs_the_command_against_the_recordings_mux() -> None:
    probe = "import os, sys; print(os.environ['SCAMPERLAB_MUX'] == sys.argv[1])"
    done = cli("replay", str(V1), "--", "python3", "-c", probe, "{mux}")
    assert (done.returncode, done.stdout, done.stderr) == (0, "True\n", "")


def test_replay_returns_the_commands_status() -> None:
    assert cli("replay", str(V1), "--", "sh", "-c", "exit 7").returncode == 7


def test_replay_without_a_command_is_a_usage_error() -> None:
    done = cli("replay", str(V1))
    assert done.returncode == 2
    assert "nothing to run: scamperlab replay FILE -- COMMAND" in done.stderr


def test_a_missing_or_bad_recording_is_one_error_line(tmp_path: Path) -> None:
    done = cli("replay", str(tmp_path / "none.rec"), "--", "true")
    assert (done.returncode, done.stderr) == (1, f"error: no recording at {tmp_path}/none.rec\n")
    (tmp_path / "bad.rec").write_text("hello")
    done = cli("replay", "--list", str(tmp_path / "bad.rec"))
    assert done.returncode == 1
    assert done.stderr == f"error: {tmp_path}/bad.rec: not a recording (not a zip archive)\n"


def test_a_bad_speed_says_what_to_give() -> None:
    done = cli("replay", "--speed", "0", str(V1), "--", "true")
    assert (done.returncode, done.stderr) == (
        1,
        "error: --speed 0: give a number above 0, or 'max'\n",
    )


def test_list_prints_one_row_per_vp_and_command_unwrapped_when_piped() -> None:
    done = cli("replay", "--list", str(V1))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"{V1}: recording version 1, 1 mux session(s), 14 command(s)")
    rows = [line for line in lines if "ping -c 3 203.0.113.80" in line]
    assert len(rows) == 14
    assert all("│ 1     │ 1       │ 0      │" in row for row in rows)
    assert any("lhr-gb.example │ 5  │ 198.18.0.138 │ GB │ London" in line for line in lines)
