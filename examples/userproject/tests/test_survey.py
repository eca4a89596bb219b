"""rttsurvey against a real lab: scamperlab's fixtures give the mux, a ScamperCtrl
and the lab itself, whose faults (a killed VP, a cut link) the code must survive."""

from __future__ import annotations

import threading
import time

import pytest
from rttsurvey import closest, ping_from, survey
from scamper import ScamperInstError


@pytest.fixture
def www(scamperlab_targets):
    return scamperlab_targets["www"].ipv4


def test_every_vp_answers(scamperlab_ctrl, scamperlab_vps, www):
    result = survey(scamperlab_ctrl, www)
    assert sorted(result.rtt_ms) == sorted(scamperlab_vps)
    assert result.unanswered == [] and result.errors == []
    assert closest(result) in scamperlab_vps


def test_the_vps_metadata_is_what_the_topology_says(scamperlab_ctrl):
    by_name = {vp.name: vp for vp in scamperlab_ctrl.vps()}
    assert by_name["akl-nz.example"].cc == "NZ"
    assert "os:linux" in by_name["akl-nz.example"].tags


def test_a_killed_vp_raises_instead_of_hanging(scamperlab_lab, scamperlab_ctrl, www):
    # Kill the VP while its synchronous ping (10 probes, one a second) is in
    # flight: the caller gets the module's error for an instance that went
    # away, not a hang.
    killer = threading.Timer(1.0, scamperlab_lab.kill_vp, ("ams-nl.example",))
    killer.start()
    start = time.monotonic()
    try:
        with pytest.raises(ScamperInstError):
            ping_from(scamperlab_ctrl, "ams-nl.example", www, attempts=10)
    finally:
        killer.join()
    assert time.monotonic() - start < 5
    # The others keep measuring, and the dead VP has left the mux.
    assert ping_from(scamperlab_ctrl, "sjc-us.example", www) is not None
    assert "ams-nl.example" not in {vp.name for vp in scamperlab_ctrl.vps()}


def test_a_survey_reports_a_dead_vp_without_waiting_for_it(scamperlab_lab, scamperlab_ctrl, www):
    scamperlab_lab.kill_vp("akl-nz.example")
    start = time.monotonic()
    result = survey(scamperlab_ctrl, www, timeout=30)
    assert time.monotonic() - start < 10
    # The ctrl may still have listed the VP (the mux told it only after it asked):
    # then the VP is reported as unanswered, not waited for.
    assert result.rtt_ms.get("akl-nz.example") is None
    assert result.rtt_ms["sjc-us.example"] is not None
    assert result.rtt_ms["ams-nl.example"] is not None


def test_a_cut_link_leaves_vps_unanswered(scamperlab_lab, scamperlab_ctrl, www):
    scamperlab_lab.cut_link("core", "edge")  # akl-nz is behind core, www behind edge
    result = survey(scamperlab_ctrl, www, attempts=2)
    assert result.unanswered == ["akl-nz.example"]
    assert closest(result) in {"sjc-us.example", "ams-nl.example"}


def test_faults_from_earlier_tests_are_undone(scamperlab_ctrl, www):
    # Same session lab: the killed VPs are back and the link is whole again.
    assert survey(scamperlab_ctrl, www).unanswered == []
