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

from scamperlab.emulation import netns
from scamperlab.emulation.network import CONTROLLER, EmulatedNetwork
from scamperlab.topology.cluster import ClusterPlan, TunnelEnd

#: The tunnel's interface in each host's ``controller`` namespace.
TUNNEL_IF = "vx0"


def _create(cluster: ClusterPlan, local: TunnelEnd, pid: int) -> str:
    """The ``ip`` line that makes the tunnel inside ``pid``'s namespace, over this host's."""
    return (
        f"link add {TUNNEL_IF} netns {pid} address {local.mac} mtu {cluster.mtu}"
        f" type vxlan id {cluster.vni} local {local.underlay} dstport {cluster.port}"
        " nolearning\n"
    )


def _inside(local: TunnelEnd, peers: list[TunnelEnd]) -> list[str]:
    """The tunnel's address, and one permanent neighbour per peer."""
    lines = [f"link set {TUNNEL_IF} up", f"addr add {local.transit} dev {TUNNEL_IF}"]
    lines += [
        f"neigh replace {p.transit.ip} lladdr {p.mac} dev {TUNNEL_IF} nud permanent" for p in peers
    ]
    return lines


def _fdb(peers: list[TunnelEnd]) -> str:
    """Where each peer's MAC is: one static entry each, so nothing is ever flooded."""
    return "".join(
        f"fdb add {p.mac} dev {TUNNEL_IF} dst {p.underlay} self permanent\n" for p in peers
    )


def _open(net: EmulatedNetwork, cluster: ClusterPlan, local: TunnelEnd, lines: list[str]) -> None:
    pid = net.pid(CONTROLLER)
    peers = [cluster.controller] if local != cluster.controller else []
    if not peers:
        peers = [h.end for h in cluster.hosts.values()]
    # Run from this process's namespace: the host's network is the tunnel's underlay.
    netns.run_batch(["ip", "-batch", "-"], _create(cluster, local, pid), "tunnel creation")
    net.run(
        CONTROLLER,
        ["ip", "-batch", "-"],
        "tunnel set-up",
        "\n".join([*_inside(local, peers), *lines]) + "\n",
    )
    net.run(CONTROLLER, ["bridge", "-batch", "-"], "tunnel peers", _fdb(peers))


def open_gateway(net: EmulatedNetwork, cluster: ClusterPlan, host: str) -> None:
    """Make lab host ``host``'s ``controller`` namespace the gateway to the controller host.

    ``net`` is built with ``gateway=True``: its management ports route each
    VP's /32 and the namespace has no controller address of its own.
    """
    local = cluster.host(host).end
    netns.write_sysctls([(net.pid(CONTROLLER), {"net.ipv4.ip_forward": "1"})])
    route = f"route add {cluster.lab.controller_ipv4}/32 via {cluster.controller.transit.ip}"
    _open(net, cluster, local, [f"{route} dev {TUNNEL_IF}"])


def open_controller(net: EmulatedNetwork, cluster: ClusterPlan) -> None:
    """Route every VP's measurement address to the host it runs on, through the tunnel."""
    lines = []
    for host in cluster.hosts.values():
        for vp in host.vps:
            address = cluster.lab.nodes[vp].ipv4
            lines.append(f"route add {address}/32 via {host.end.transit.ip} dev {TUNNEL_IF}")
    _open(net, cluster, cluster.controller, lines)
