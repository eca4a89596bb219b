"""One lab over several hosts: which host runs which VP, and the tunnel's addresses.

A cluster is one controller host (sc_remoted and the mux) and N lab hosts.
It is planned once, from the topology and a cluster file, as netlab's
multiserver plugin computes its allocations once and hands each server its
slice: every host computes the same :class:`ClusterPlan` from the same two
files, so no host needs to ask another what it was given.

Each lab host builds the *whole* emulated network (routers, targets and
their services, with the addresses of the one :class:`LabPlan`) plus only
its own VPs: a VP measures the same paths, from the same address, whichever
host it lands on. Only the management network crosses hosts, in a VXLAN
tunnel whose transit network is the last /24 of the management range
(``198.19.255.0/24``: the controller ``.1``, the hosts ``.2`` upward), which
topology files cannot use. Inside the tunnel the VPs' management
connections cross hosts in TLS (``encryption: stunnel``, the default), or in
clear text on a network the lab's owner trusts (``encryption: none``).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import zlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scamperlab.errors import ClusterError
from scamperlab.topology.addresses import MANAGEMENT_V4
from scamperlab.topology.model import Topology
from scamperlab.topology.plan import LabPlan, make_plan

IPv4 = ipaddress.IPv4Address

#: The tunnel's own network: the management range's last /24, far from the controller's .1.
TRANSIT_V4 = list(MANAGEMENT_V4.subnets(new_prefix=24))[-1]
#: IANA's VXLAN port, the one firewalls between lab hosts must let through (UDP).
VXLAN_PORT = 4789
#: VXLAN's 50 bytes of encapsulation inside a 1,500-byte underlay.
TUNNEL_MTU = 1450
#: Where each host keeps its TLS files for the tunnel's TLS (the playbook puts them there).
DEFAULT_TLS_DIR = "/etc/scamperlab/cluster/tls"
#: The controller host's name where a TLS directory names ``{host}``.
CONTROLLER_HOST = "controller"
# Hosts get .2 to .254 of the transit /24.
MAX_HOSTS = TRANSIT_V4.num_addresses - 3


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HostEntry(_Strict):
    """A lab host of the cluster file: where its tunnel ends, and VPs pinned to it."""

    address: IPv4
    vps: list[str] = Field(default_factory=list)


class ClusterFile(_Strict):
    """The cluster file: the controller host's address, the lab hosts, optionally the VNI."""

    controller: IPv4
    hosts: dict[str, HostEntry] = Field(min_length=1)
    # Two labs over the same hosts need two VNIs (one UDP port); default: from the lab's name.
    vni: int | None = Field(default=None, ge=1, le=2**24 - 1)
    encryption: Literal["stunnel", "none"] = "stunnel"
    # Each host's TLS files (ca.pem, cert.pem, key.pem); "{host}" becomes the host's name.
    tls: str = DEFAULT_TLS_DIR


@dataclasses.dataclass(frozen=True)
class TunnelEnd:
    """One end of the management tunnel: its host's real address, its address and MAC inside."""

    name: str
    underlay: IPv4
    transit: ipaddress.IPv4Interface
    mac: str


@dataclasses.dataclass(frozen=True)
class HostPlan:
    end: TunnelEnd
    vps: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.end.name


@dataclasses.dataclass(frozen=True)
class ClusterPlan:
    """The whole lab's plan, which host runs which VP, and the tunnel between them."""

    lab: LabPlan
    controller: TunnelEnd
    hosts: dict[str, HostPlan]
    vni: int
    port: int = VXLAN_PORT
    mtu: int = TUNNEL_MTU
    encryption: Literal["stunnel", "none"] = "stunnel"
    tls: str = DEFAULT_TLS_DIR

    @property
    def encrypted(self) -> bool:
        return self.encryption != "none"

    def tls_dir(self, host: str) -> Path:
        return tls_dir(self.tls, host)

    def host_of(self, vp: str) -> HostPlan:
        for host in self.hosts.values():
            if vp in host.vps:
                return host
        raise KeyError(f"no VP named {vp!r} in the cluster")

    def host(self, name: str) -> HostPlan:
        try:
            return self.hosts[name]
        except KeyError:
            known = ", ".join(self.hosts)
            raise ClusterError(f"no lab host named {name!r} in the cluster ({known})") from None

    def shard(self, name: str) -> LabPlan:
        """What lab host ``name`` builds: the whole network, only its own VPs."""
        host = self.host(name)
        if not host.vps:
            raise ClusterError(f"lab host {name} has no VP to run: the cluster has too many hosts")
        return shard_plan(self.lab, host.vps)


def tls_dir(pattern: str, host: str) -> Path:
    """Host ``host``'s TLS directory (:data:`CONTROLLER_HOST` for the controller host)."""
    return Path(pattern.replace("{host}", host))


def tunnel_mac(index: int) -> str:
    """The MAC of tunnel end ``index`` (0 the controller): fixed, so FDB entries are written."""
    return f"02:5c:10:00:{index >> 8 & 0xFF:02x}:{index & 0xFF:02x}"


def vni_for(name: str) -> int:
    """A lab's default VNI: a function of its name, so every host derives the same one."""
    return zlib.crc32(name.encode()) % (2**24 - 1) + 1


def assign(topo: Topology, hosts: dict[str, HostEntry]) -> dict[str, tuple[str, ...]]:
    """Each host's VPs: pinned ones where pinned, the others to the least loaded host.

    Deterministic (topology order, ties to the host listed first), so every
    host of the cluster computes the same split.
    """
    names = [vp.name for vp in topo.vps]
    known = set(names)
    placed: dict[str, list[str]] = {host: [] for host in hosts}
    pinned: dict[str, str] = {}
    for host, entry in hosts.items():
        for vp in entry.vps:
            if vp not in known:
                raise ClusterError(f"cluster host {host}: no VP named {vp!r} in {topo.name}")
            if vp in pinned:
                raise ClusterError(f"VP {vp} is pinned to both {pinned[vp]} and {host}")
            pinned[vp] = host
    for vp in names:
        host = pinned.get(vp) or min(placed, key=lambda h: len(placed[h]))
        placed[host].append(vp)
    return {host: tuple(vps) for host, vps in placed.items()}


def make_cluster_plan(topo: Topology, cluster: ClusterFile, name: str | None = None) -> ClusterPlan:
    """Plan lab ``name`` (default: the topology's) over the hosts of ``cluster``."""
    if len(cluster.hosts) > MAX_HOSTS:
        raise ClusterError(f"a cluster has at most {MAX_HOSTS} lab hosts")
    underlays = [cluster.controller, *(h.address for h in cluster.hosts.values())]
    if len(set(underlays)) != len(underlays):
        raise ClusterError("every host of a cluster needs an address of its own")
    transit = list(TRANSIT_V4.hosts())

    def end(index: int, host: str, underlay: IPv4) -> TunnelEnd:
        address = ipaddress.IPv4Interface((transit[index], TRANSIT_V4.prefixlen))
        return TunnelEnd(host, underlay, address, tunnel_mac(index))

    split = assign(topo, cluster.hosts)
    hosts = {
        host: HostPlan(end(i, host, entry.address), split[host])
        for i, (host, entry) in enumerate(cluster.hosts.items(), start=1)
    }
    vni = cluster.vni or vni_for(name or topo.name)
    if CONTROLLER_HOST in cluster.hosts:
        raise ClusterError(f"{CONTROLLER_HOST!r} names the controller host: not a lab host name")
    controller = end(0, CONTROLLER_HOST, cluster.controller)
    return ClusterPlan(
        make_plan(topo), controller, hosts, vni, encryption=cluster.encryption, tls=cluster.tls
    )


def shard_plan(plan: LabPlan, vps: tuple[str, ...]) -> LabPlan:
    """``plan`` without the VPs not in ``vps``: their nodes, uplinks and routes over them.

    Everything else keeps the whole plan's names, addresses and link numbers
    (so MAC addresses too): a VP's paths are the same on every host. A
    router's route to an absent VP is kept as far as the router whose link
    to that VP is gone, which then has none: such packets die there, as
    towards a VP that is down.
    """
    keep = set(vps)
    gone = {n.name for n in plan.nodes.values() if n.kind == "vp" and n.name not in keep}
    links = [ln for ln in plan.links if ln.a.node not in gone and ln.b.node not in gone]
    present = {(end.node, end.name) for ln in links for end in (ln.a, ln.b)}
    nodes = {}
    for name, node in plan.nodes.items():
        if name in gone:
            continue
        interfaces = [i for i in node.interfaces if (i.node, i.name) in present]
        devs = {i.name for i in interfaces}
        routes = [r for r in node.routes if all(dev in devs for dev, _via in r.nexthops)]
        nodes[name] = dataclasses.replace(node, interfaces=interfaces, routes=routes)
    topo = plan.topology.model_copy(
        update={"vps": [vp for vp in plan.topology.vps if vp.name in keep]}
    )
    return LabPlan(topo, nodes, links, plan.management)


def load_cluster(path: str | Path) -> ClusterFile:
    """Read a cluster file (YAML), with errors that name the file."""
    try:
        data = yaml.safe_load(Path(path).read_text())
        return ClusterFile.model_validate(data)
    except OSError as exc:
        raise ClusterError(f"cannot read cluster file {path}: {exc.strerror}") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise ClusterError(f"{path}: not a valid cluster file: {exc}") from exc
