"""The lifecycle functions that ``run``, ``audit``, ``down`` and scripts share (no root).

A stand-in lab (what :func:`run_with_lab` uses of a ``Lab``: ``start``,
``stop``, ``warnings``, ``mux_path``, ``name``, ``import_log`` and
``note_imports``) shows the one way a command
is run against a lab; real labs are in tests/integration/test_lifecycle.py.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from scamperlab.errors import CommandError, LabStartError, LabStateError, ScamperlabError
from scamperlab.lab.core import Lab
from scamperlab.lab.lifecycle import down, run_command, run_with_lab, up_detached
from scamperlab.lab.status import all_status, lab_status
from scamperlab.shim import ImportChoice, read_choices


class StandIn:
    def __init__(self, tmp: Path, fail: bool = False) -> None:
        self.name = "standin"
        self.mux_path = tmp / "mux"
        self.warnings = ["no sch_netem"]
        self.calls: list[str] = []
        self.fail = fail
        self.import_log = tmp / "imports.log"
        self._read = 0
        self.running = False

    def note_imports(self) -> list[ImportChoice]:
        choices, self._read = read_choices(self.import_log, self._read)
        return choices

    def start(self, progress: Any = None) -> None:
        self.calls.append("start")
        progress("VPs on the mux", 3, 3)
        if self.fail:
            raise LabStartError("lab 'standin' failed to start: on purpose")
        self.running = True

    def stop(self) -> None:
        self.calls.append("stop")
        self.running = False


def as_lab(stand_in: StandIn) -> Lab:
    return cast(Lab, stand_in)


def test_the_command_gets_the_lab_and_its_status_is_returned(tmp_path: Path) -> None:
    lab = StandIn(tmp_path)
    seen: list[str] = []
    out = tmp_path / "out.json"
    script = (
        "import json, os, sys; env = os.environ; json.dump({'argv': sys.argv[1:],"
        " 'mux': env['SCAMPERLAB_MUX'], 'lab': env['SCAMPERLAB_LAB']}, open(sys.argv[2], 'w'));"
        " sys.exit(7)"
    )
    status = run_with_lab(
        as_lab(lab), [sys.executable, "-c", script, "{mux}", str(out)], on_warning=seen.append
    )
    assert status == 7
    assert json.loads(out.read_text()) == {
        "argv": [str(lab.mux_path), str(out)],
        "mux": str(lab.mux_path),
        "lab": "standin",
    }
    assert seen == ["no sch_netem"]
    assert lab.calls == ["start", "stop"]


def test_what_the_command_s_pythons_import_is_heard_while_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCAMPERLAB_SCAMPER", "scamperlab")  # the same choice on any machine
    lab = StandIn(tmp_path)
    heard = tmp_path / "heard"
    seen: list[ImportChoice] = []

    def on_import(choice: ImportChoice) -> None:
        seen.append(choice)
        heard.touch()

    # The first Python waits until its choice has been heard: so it is heard while it runs.
    wait = (
        "import scamper, os, sys, time; deadline = time.time() + 30\n"
        f"while not os.path.exists({str(heard)!r}) and time.time() < deadline: time.sleep(0.05)\n"
        f"sys.exit(0 if os.path.exists({str(heard)!r}) else 3)"
    )
    command = ["sh", "-c", '"$0" -c "$1" && "$0" -c "import scamper"', sys.executable, wait]
    assert run_with_lab(as_lab(lab), command, on_import=on_import) == 0
    assert [(c.python, c.module, c.forced) for c in seen] == [
        (sys.executable, "scamperlab", "scamperlab")
    ] * 2
    assert len({c.pid for c in seen}) == 2


def test_a_bad_scamperlab_scamper_is_refused_before_a_lab_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCAMPERLAB_SCAMPER", "caida")
    lab = StandIn(tmp_path)
    with pytest.raises(ScamperlabError, match="SCAMPERLAB_SCAMPER='caida': use 'real'"):
        run_with_lab(as_lab(lab), ["true"])
    assert lab.calls == []


def test_around_is_entered_after_start_and_left_before_stop(tmp_path: Path) -> None:
    lab = StandIn(tmp_path)

    @contextlib.contextmanager
    def around(inner: Lab) -> Iterator[None]:
        lab.calls.append("capture")
        yield
        lab.calls.append("analyse")

    assert run_with_lab(as_lab(lab), ["true"], around=around) == 0
    assert lab.calls == ["start", "capture", "analyse", "stop"]


def test_progress_goes_through_the_starting_context(tmp_path: Path) -> None:
    lab = StandIn(tmp_path)
    reports: list[tuple[str, int, int]] = []

    @contextlib.contextmanager
    def starting() -> Iterator[Any]:
        yield lambda *args: reports.append(args)
        lab.calls.append("bar gone")

    run_with_lab(as_lab(lab), ["true"], starting=starting)
    assert reports == [("VPs on the mux", 3, 3)]
    assert lab.calls == ["start", "bar gone", "stop"]


def test_a_lab_that_fails_is_not_a_command_that_fails(tmp_path: Path) -> None:
    lab = StandIn(tmp_path, fail=True)
    with pytest.raises(LabStartError):
        run_with_lab(as_lab(lab), ["true"])
    assert lab.calls == ["start"]  # Lab.start removes what it made itself


def test_a_command_that_cannot_run_says_so_with_the_shell_s_status(tmp_path: Path) -> None:
    lab = StandIn(tmp_path)
    with pytest.raises(CommandError, match="cannot run no-such-program") as info:
        run_with_lab(as_lab(lab), ["no-such-program"])
    assert info.value.status == 127
    assert lab.calls == ["start", "stop"]
    (tmp_path / "not-executable").write_text("")
    with pytest.raises(CommandError) as info:
        run_command(as_lab(lab), [str(tmp_path / "not-executable")])
    assert info.value.status == 126


def test_stdout_can_be_sent_elsewhere_for_a_report_on_stdout(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """What ``audit --json`` does: the command's stdout on stderr, stdout for the report."""
    run_command(as_lab(StandIn(tmp_path)), ["echo", "from the command"], stdout=2)
    captured = capfd.readouterr()
    assert captured.out == ""
    assert captured.err == "from the command\n"


def test_down_of_a_lab_whose_owner_died_cleans_up(tmp_path: Path) -> None:
    (tmp_path / "dead").mkdir()
    (tmp_path / "dead" / "state.json").write_text(json.dumps({"name": "dead", "processes": []}))
    assert lab_status("dead", tmp_path) == {"name": "dead", "processes": [], "running": False}
    assert [s["name"] for s in all_status(tmp_path)] == ["dead"]
    assert down("dead", state_dir=tmp_path) == [f"removed stale state in {tmp_path / 'dead'}"]
    assert not (tmp_path / "dead").exists()
    assert all_status(tmp_path) == []


def test_down_of_no_lab_says_so(tmp_path: Path) -> None:
    with pytest.raises(LabStateError, match="no lab named 'ghost'"):
        down("ghost", state_dir=tmp_path)
    with pytest.raises(LabStateError, match="invalid lab name"):
        down("../etc", state_dir=tmp_path)


def test_up_detached_fails_in_the_foreground_on_a_bad_file(tmp_path: Path) -> None:
    from scamperlab.errors import TopologyError

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nvps: 3\n")
    with pytest.raises(TopologyError, match=r"bad\.yaml"):
        up_detached(bad, state_dir=tmp_path)
    assert list(tmp_path.iterdir()) == [bad]  # no daemon, no state directory
