"""The pytest plugin in replay mode: fixtures served from a recording, no lab built.

Run through ``pytester`` in a subprocess, as a user's suite would run: the
recording is the version-1 fixture (``ping_all.py`` on ark-mini).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

V1 = Path(__file__).resolve().parents[1] / "fixtures" / "recording-v1.rec"

SUITE = f"""
import pytest

pytestmark = pytest.mark.scamperlab(replay={str(V1)!r})


def test_ping_from_the_recording(scamperlab_ctrl):
    (inst,) = scamperlab_ctrl.add_vps(
        [vp for vp in scamperlab_ctrl.vps() if vp.name == "lhr-gb.example"]
    )
    ping = scamperlab_ctrl.do_ping("203.0.113.80", attempts=3, inst=inst, sync=True)
    assert 0 < ping.min_rtt.total_seconds() < 1


def test_needs_the_lab_itself(scamperlab_lab):
    raise AssertionError("replay mode built a lab")
"""


def _run(pytester: pytest.Pytester, *args: str, state: Path) -> pytest.RunResult:
    pytester.makepyfile(test_suite=SUITE)
    return pytester.runpytest_subprocess(
        "--scamperlab-state-dir", str(state), *args,
        timeout=120,
    )  # fmt: skip


def test_replay_mode_serves_the_recording_and_builds_no_lab(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    result = _run(pytester, "-rs", "--scamperlab-mode", "replay", state=tmp_path / "state")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*replay mode: this test needs a lab*"])  # -rs is pytest's default
    assert not (tmp_path / "state").exists()


USERPROJECT = Path(__file__).resolve().parents[2] / "examples" / "userproject"


def test_replay_mode_gives_the_recorded_labs_vps_and_targets(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """From the topology the recording keeps (examples/userproject's, recorded by the
    plugin's --scamperlab-record)."""
    pytester.makepyfile(
        test_views=f"""
        import pytest

        pytestmark = pytest.mark.scamperlab(replay={str(USERPROJECT / "tests" / "survey.rec")!r})


        def test_views(scamperlab_vps, scamperlab_targets, scamperlab_ctrl):
            assert sorted(scamperlab_vps) == sorted(vp.name for vp in scamperlab_ctrl.vps())
            assert scamperlab_vps["akl-nz.example"].metadata.cc.upper() == "NZ"
            assert scamperlab_targets["www"].ipv4.count(".") == 3
        """
    )
    result = pytester.runpytest_subprocess("--scamperlab-mode", "replay", timeout=120)
    result.assert_outcomes(passed=1)


def test_lab_mode_ignores_the_recording(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """The default: a recording named by a marker changes nothing until a mode asks for it."""
    result = _run(pytester, "--scamperlab-mode", "lab", "--co", state=tmp_path / "state")
    assert result.ret == 0


def test_replay_mode_without_a_recording_is_a_usage_error(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makepyfile(test_bare="def test_x(scamperlab_mux):\n    pass\n")
    result = pytester.runpytest_subprocess(
        "--scamperlab-mode", "replay", "test_bare.py",
        timeout=120,
    )  # fmt: skip
    result.stdout.fnmatch_lines(["*replay mode: no recording*"])
    assert result.ret != 0


def test_a_bad_mode_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nscamperlab_mode = sometimes\n")
    result = pytester.runpytest_subprocess(timeout=120)
    result.stderr.fnmatch_lines(["*scamperlab mode 'sometimes'*"])
    assert result.ret == 4


def test_auto_mode_replays_where_no_lab_can_be_built(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # no mnexec, ip, tc or scamper
    result = _run(pytester, "-rs", "--scamperlab-mode", "auto", state=tmp_path / "state")
    result.assert_outcomes(passed=1, skipped=1)
    assert not (tmp_path / "state").exists()
