"""After the playbook site is torn down: nothing of it remains on this machine."""

from __future__ import annotations

import pytest

from scamperlab.emulation.netns import processes_in
from tests.playbooks.conftest import TEARDOWNS

pytestmark = [pytest.mark.root, pytest.mark.slow]


@pytest.mark.parametrize("site", ["pifleet", "clusterfleet"])
def test_site_left_nothing_behind(site: str) -> None:
    done = [t for t in TEARDOWNS if t["site"] == site]
    if not done:
        pytest.skip(f"site {site} was not started in this session")
    (left,) = done
    assert not left["tmp_exists"], f"copies left in {left['tmp']}"
    assert left["mounts"] == [], "overlay mounts left"
    assert left["nspawn_alive"] == [], "containers still running"
    assert processes_in(left["namespaces"]) == [], "processes left in lab namespaces"
    assert left["links_added"] == set(), "interfaces left in the host namespace"
    assert left["nspawn_run"] == [], "systemd-nspawn's runtime files left in /run"
    assert not left["state_dir_exists"], "lab state left"
