"""The management network across hosts: a VXLAN tunnel between lab namespaces.

A VP reaches sc_remoted from its own measurement address, as on Ark, so
its packets must reach the controller host unchanged: no NAT. They travel
in VXLAN (UDP port 4789 between the hosts' real addresses, in clear text),
which this kernel has where GRE, WireGuard and IPsec are missing.

The tunnel device lives in the lab's ``controller`` namespace on every
host, yet its UDP socket is in the host's own namespace: a VXLAN device
keeps the underlay of the namespace it was created from, and ``ip link add
... netns PID`` creates it directly inside the lab's namespace, so it is
never visible on the host and goes when the lab's namespace goes.

Everything is static, as in the rest of the lab: each end's MAC is fixed by
the plan, every peer is one FDB entry (no multicast group, no flooding, no
learning) and every neighbour is permanent (no ARP across hosts).

- On a lab host, the ``controller`` namespace is a gateway: it forwards
  between its VPs' management ports and the tunnel; ``198.19.240.1`` is
  routed to the controller host's transit address.
- On the controller host, sc_remoted listens at ``198.19.240.1`` as on one
  host; each VP's /32 is routed to the transit address of the host it runs on.
"""

from __future__ import annotations

from dataclasses import dataclass

from scamperlab.emulation import netns
from scamperlab.emulation.network import CONTROLLER, EmulatedNetwork
from scamperlab.topology.cluster import ClusterPlan, TunnelEnd

#: The tunnel's interface in each host's ``controller`` namespace.
TUNNEL_IF = "vx0"


@dataclass(frozen=True)
class TunnelConfig:
    """One host's end of the tunnel, as the three scripts that make it."""

    create: str  # ``ip -batch``, run in the host's own namespace: the underlay's
    inside: str  # ``ip -batch`` in the lab's controller namespace: address, neighbours, routes
    fdb: str  # ``bridge -batch`` there: where each peer's MAC is


def _config(
    cluster: ClusterPlan, local: TunnelEnd, peers: list[TunnelEnd], pid: int, routes: list[str]
) -> TunnelConfig:
    create = (
        f"link add {TUNNEL_IF} netns {pid} address {local.mac} mtu {cluster.mtu}"
        f" type vxlan id {cluster.vni} local {local.underlay} dstport {cluster.port}"
        " nolearning\n"
    )
    inside = [f"link set {TUNNEL_IF} up", f"addr add {local.transit} dev {TUNNEL_IF}"]
    inside += [
        f"neigh replace {p.transit.ip} lladdr {p.mac} dev {TUNNEL_IF} nud permanent" for p in peers
    ]
    # One static entry per peer and no all-zeros entry: nothing is ever flooded.
    fdb = "".join(
        f"fdb add {p.mac} dev {TUNNEL_IF} dst {p.underlay} self permanent\n" for p in peers
    )
    return TunnelConfig(create, "\n".join([*inside, *routes]) + "\n", fdb)


def gateway_config(cluster: ClusterPlan, host: str, pid: int) -> TunnelConfig:
    """Lab host ``host``'s end: ``198.19.240.1`` is routed to the controller host."""
    controller = cluster.controller
    route = (
        f"route add {cluster.lab.controller_ipv4}/32 via {controller.transit.ip} dev {TUNNEL_IF}"
    )
    return _config(cluster, cluster.host(host).end, [controller], pid, [route])


def controller_config(cluster: ClusterPlan, pid: int) -> TunnelConfig:
    """The controller host's end: each VP's /32 is routed to the host it runs on."""
    routes = [
        f"route add {cluster.lab.nodes[vp].ipv4}/32 via {host.end.transit.ip} dev {TUNNEL_IF}"
        for host in cluster.hosts.values()
        for vp in host.vps
    ]
    peers = [host.end for host in cluster.hosts.values()]
    return _config(cluster, cluster.controller, peers, pid, routes)


def _open(net: EmulatedNetwork, config: TunnelConfig) -> None:
    # Run from this process's namespace: the host's network is the tunnel's underlay.
    netns.run_batch(["ip", "-batch", "-"], config.create, "tunnel creation")
    net.run(CONTROLLER, ["ip", "-batch", "-"], "tunnel set-up", config.inside)
    net.run(CONTROLLER, ["bridge", "-batch", "-"], "tunnel peers", config.fdb)


def open_gateway(net: EmulatedNetwork, cluster: ClusterPlan, host: str) -> None:
    """Make lab host ``host``'s ``controller`` namespace the gateway to the controller host.

    ``net`` is built with ``gateway=True``: its management ports route each
    VP's /32 and the namespace has no controller address of its own.
    """
    # Forwarding there was switched on with the namespace (EmulatedNetwork.gateway).
    _open(net, gateway_config(cluster, host, net.pid(CONTROLLER)))


def open_controller(net: EmulatedNetwork, cluster: ClusterPlan) -> None:
    """Route every VP's measurement address to the host it runs on, through the tunnel."""
    _open(net, controller_config(cluster, net.pid(CONTROLLER)))
