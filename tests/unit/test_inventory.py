"""`scamperlab inventory`: a topology's VPs to an Ansible inventory and back."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scamperlab.cli import main
from scamperlab.inventory import inventory_to_topology, topology_to_inventory
from scamperlab.topology.loader import load_topology, parse_topology

ROOT = Path(__file__).resolve().parents[2]
ARK_MINI = ROOT / "topologies" / "ark-mini.yaml"
_FIELDS = ("name", "cc", "st", "place", "latlong", "asn4", "asn6", "shortname", "iata", "tags")


def test_round_trip_keeps_every_vp_and_its_metadata() -> None:
    topo = load_topology(ARK_MINI)
    back = parse_topology(yaml.safe_dump(inventory_to_topology(topology_to_inventory(topo))))
    assert len(back.vps) == len(topo.vps)
    for a, b in zip(topo.vps, back.vps, strict=True):
        assert [getattr(a, f) for f in _FIELDS] == [getattr(b, f) for f in _FIELDS]
        assert topo.vp_rate(a) == back.vp_rate(b)
    assert back.controller.port == topo.controller.port


def test_inventory_shape() -> None:
    inv = topology_to_inventory(load_topology(ARK_MINI))
    groups = inv["all"]["children"]
    assert list(groups["scamper_controller"]["hosts"]) == ["controller"]
    host = next(iter(groups["scamper_vps"]["hosts"].values()))
    assert set(host["scamper_vp_metadata"]) <= {*_FIELDS, "tags"} - {"name"}


def test_cli_writes_files(tmp_path: Path) -> None:
    hosts, topo = tmp_path / "hosts.yml", tmp_path / "fleet.yaml"
    assert main(["inventory", str(ARK_MINI), "-o", str(hosts)]) == 0
    assert hosts.read_text().startswith("# Ansible inventory")
    assert main(["inventory", "--to-topology", str(hosts), "-o", str(topo)]) == 0
    assert len(load_topology(topo).vps) == len(load_topology(ARK_MINI).vps)


def test_unknown_metadata_key_is_refused() -> None:
    inv = {
        "all": {"children": {"scamper_vps": {"hosts": {"a": {"scamper_vp_metadata": {"x": 1}}}}}}
    }
    with pytest.raises(ValueError, match="unknown scamper_vp_metadata"):
        inventory_to_topology(inv)
