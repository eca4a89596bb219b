"""A lab's VPs as an Ansible inventory for ``playbooks/site.yml``, and back.

A team that develops against a lab and then deploys Raspberry Pis wants the
same monitor names and the same Ark metadata on both, so that scripts see the
same ``ScamperVp`` attributes. The topology file stays the single source:
``scamperlab inventory TOPO`` writes the inventory (the user then adds each
host's ``ansible_host``), and ``--to-topology`` turns a fleet's inventory
into a lab whose VPs mirror it (on a one-router topology, since an inventory
says nothing about the network between VPs).

May import: ``scamperlab.lab`` and every layer below it (it needs only the
topology model). Not ``audit`` or ``deploy``, nor the CLI above it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from scamperlab.topology.model import Topology, VantagePoint

VP_GROUP = "scamper_vps"
CONTROLLER_GROUP = "scamper_controller"
# Ark metadata keys of a VP, in sc_remoted's order; the inventory uses the same names.
_META_KEYS = ("asn4", "asn6", "latlong", "cc", "st", "place", "shortname", "iata", "tags")

_HEADER = """\
# Ansible inventory for scamperlab's playbooks (playbooks/site.yml), written by
# `scamperlab inventory` from the lab topology {source}.
# Give each host an ansible_host (and ansible_user) before running the playbooks.
"""


def _metadata(vp: VantagePoint) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for key in _META_KEYS:
        value = getattr(vp, key)
        if value is None or value == []:
            continue
        if key == "latlong":
            value = f"{value[0]!r},{value[1]!r}"
        elif key == "tags":
            value = list(value)
        meta[key] = value
    return meta


def topology_to_inventory(topo: Topology, controller: str = "controller") -> dict[str, Any]:
    hosts: dict[str, Any] = {}
    for vp in topo.vps:
        host: dict[str, Any] = {}
        if vp.rate is not None and vp.rate != topo.defaults.rate:
            host["scamper_vp_rate"] = vp.rate
        meta = _metadata(vp)
        if meta:
            host["scamper_vp_metadata"] = meta
        hosts[vp.name] = host or None
    return {
        "all": {
            "children": {
                CONTROLLER_GROUP: {
                    "hosts": {controller: {"scamper_controller_port": topo.controller.port}}
                },
                VP_GROUP: {"vars": {"scamper_vp_rate": topo.defaults.rate}, "hosts": hosts},
            }
        }
    }


def dump_inventory(inventory: Mapping[str, Any], source: str) -> str:
    body = yaml.safe_dump(dict(inventory), sort_keys=False, default_flow_style=False)
    return _HEADER.format(source=source) + "---\n" + body


def _groups(node: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for name, group in (node.get("children") or {}).items():
        group = group or {}
        yield name, group
        yield from _groups(group)


def _find_group(inventory: Mapping[str, Any], wanted: str) -> Mapping[str, Any] | None:
    for top_name, top in inventory.items():
        top = top or {}
        if top_name == wanted:
            return top
        for name, group in _groups(top):
            if name == wanted:
                return group
    return None


def inventory_to_topology(inventory: Mapping[str, Any], name: str = "fleet") -> dict[str, Any]:
    """A topology (as data, validated) with one VP per host of the ``scamper_vps`` group."""
    group = _find_group(inventory, VP_GROUP)
    if group is None or not group.get("hosts"):
        raise ValueError(f"the inventory has no hosts in a group named {VP_GROUP}")
    group_vars = group.get("vars") or {}
    vps = []
    for host, hostvars in group["hosts"].items():
        hostvars = {**group_vars, **(hostvars or {})}
        vp: dict[str, Any] = {"name": hostvars.get("scamper_vp_name", host)}
        if "scamper_vp_rate" in hostvars and hostvars["scamper_vp_rate"] != group_vars.get(
            "scamper_vp_rate"
        ):
            vp["rate"] = hostvars["scamper_vp_rate"]
        meta = hostvars.get("scamper_vp_metadata") or {}
        unknown = set(meta) - set(_META_KEYS)
        if unknown:
            raise ValueError(f"{host}: unknown scamper_vp_metadata keys {sorted(unknown)}")
        vp |= {key: meta[key] for key in _META_KEYS if key in meta}
        vp["uplink"] = {"router": "core"}
        vps.append(vp)
    topo: dict[str, Any] = {
        "name": name,
        "description": "VPs mirrored from an Ansible inventory by `scamperlab inventory`",
    }
    if "scamper_vp_rate" in group_vars:
        topo["defaults"] = {"rate": group_vars["scamper_vp_rate"]}
    controller = _find_group(inventory, CONTROLLER_GROUP)
    ports = [
        (h or {}).get("scamper_controller_port")
        for h in ((controller or {}).get("hosts") or {}).values()
    ]
    if ports and ports[0] is not None:
        topo["controller"] = {"port": ports[0]}
    topo["routers"] = [{"name": "core"}]
    topo["vps"] = vps
    Topology.model_validate(topo)  # fail here, not when the lab starts
    return topo


def dump_topology(topo: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(topo), sort_keys=False, default_flow_style=None)
