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

Encrypted (the cluster's ``encryption: stunnel``), the VPs' TCP crosses
hosts only inside TLS, and sc_remoted still sees each VP at its own address
and port: one stunnel (:mod:`scamperlab.processes.stunnel`) at each end,
both with ``transparent = source``, which binds its outgoing connection to
the address of the connection it accepted (``IP_TRANSPARENT``). Two policy
rules bring back the answers to those borrowed addresses, which the main
table routes elsewhere:

- on a lab host, ``198.19.240.1`` is the gateway's own (the VPs' connections
  end at its stunnel), and TLS from the controller host's stunnel, on its
  way to a VP's address, is delivered locally to the stunnel there;
- on the controller host, sc_remoted's packets to the VPs are delivered
  locally to its stunnel instead of being routed into the tunnel.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from scamperlab.emulation import netns
from scamperlab.emulation.network import CONTROLLER, EmulatedNetwork
from scamperlab.errors import LabStartError
from scamperlab.topology.cluster import ClusterPlan, TunnelEnd

#: The tunnel's interface in each host's ``controller`` namespace.
TUNNEL_IF = "vx0"
#: The routing table, in a lab's own namespace, that delivers borrowed addresses locally.
LOCAL_TABLE = 100
#: The handle on the lab's controller namespace (:func:`pin`), in the lab's state directory.
HANDLE = "tunnel-netns"
#: What ``ip`` says when another VXLAN device on this host has the same VNI and port.
_SAME_VNI = "VNI already exists"


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


def _deliver_locally(selector: str) -> list[str]:
    """Packets matching ``selector`` go to this namespace's own sockets, whatever their address."""
    return [
        f"rule add {selector} lookup {LOCAL_TABLE} pref 100",
        f"route add local 0.0.0.0/0 dev lo table {LOCAL_TABLE}",
    ]


def gateway_config(cluster: ClusterPlan, host: str, pid: int) -> TunnelConfig:
    """Lab host ``host``'s end: ``198.19.240.1`` is routed to the controller host.

    Encrypted, it is this namespace's own address instead (its stunnel's), and
    the controller's TLS to the VPs' addresses is delivered to that stunnel.
    """
    controller = cluster.controller
    remoted = cluster.lab.controller_ipv4
    if not cluster.encrypted:
        routes = [f"route add {remoted}/32 via {controller.transit.ip} dev {TUNNEL_IF}"]
    else:
        port = cluster.lab.topology.controller.port
        routes = [
            f"addr add {remoted}/32 dev lo",
            *_deliver_locally(
                f"from {controller.transit.ip} iif {TUNNEL_IF} ipproto tcp sport {port}"
            ),
        ]
    return _config(cluster, cluster.host(host).end, [controller], pid, routes)


def controller_config(cluster: ClusterPlan, pid: int) -> TunnelConfig:
    """The controller host's end: each VP's /32 is routed to the host it runs on.

    Encrypted, sc_remoted's own packets (from its address and port) go to the
    stunnel that connected on the VP's behalf instead.
    """
    routes = [
        f"route add {cluster.lab.nodes[vp].ipv4}/32 via {host.end.transit.ip} dev {TUNNEL_IF}"
        for host in cluster.hosts.values()
        for vp in host.vps
    ]
    if cluster.encrypted:
        port = cluster.lab.topology.controller.port
        routes += _deliver_locally(f"from {cluster.lab.controller_ipv4} ipproto tcp sport {port}")
    peers = [host.end for host in cluster.hosts.values()]
    return _config(cluster, cluster.controller, peers, pid, routes)


def _create(config: TunnelConfig) -> None:
    """Make the tunnel's device, from this process's namespace (the host's: the underlay)."""
    try:
        netns.run_batch(["ip", "-batch", "-"], config.create, "tunnel creation")
    except LabStartError as exc:
        if _SAME_VNI not in str(exc):
            raise
        raise LabStartError(
            f"{exc}: another VXLAN device on this host has the cluster's VNI and port;"
            " is another lab of this cluster running here?"
        ) from exc


def pin(pid: int, handle: Path) -> None:
    """Keep a handle on the namespace of process ``pid`` (the lab's controller) at ``handle``.

    A bind mount of the namespace, as ``ip netns add`` makes one, in the
    lab's state directory: :func:`close` reaches the tunnel device through
    it even after the lab crashed with every process in that namespace.
    Without it a crashed lab's device outlives its processes for as long as
    the kernel keeps the namespace (its own references, such as TCP sockets
    still closing, then its asynchronous destruction of namespaces: seconds
    for a hundred, and on a crashed lab host of the playbook tests over 60 s
    once), and holds the VNI and the port against the lab's restart.
    """
    handle.touch(mode=0o600)
    done = subprocess.run(
        ["mount", "--bind", f"/proc/{pid}/ns/net", str(handle)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        handle.unlink(missing_ok=True)
        why = done.stderr.strip()
        raise LabStartError(f"cannot keep a handle on the tunnel's namespace: {why}")


def close(handle: Path) -> bool:
    """Delete the tunnel device in the namespace pinned at ``handle``, then the handle.

    Deleting the device closes its UDP socket in the host's namespace at
    once, whatever still keeps the namespace alive. Returns whether there
    was a device to delete; a missing or unmounted handle is nothing to do.
    """
    if not os.path.ismount(handle):
        handle.unlink(missing_ok=True)
        return False
    deleted = subprocess.run(
        ["nsenter", f"--net={handle}", "ip", "link", "del", TUNNEL_IF],
        capture_output=True,
        check=False,
    )
    subprocess.run(["umount", str(handle)], capture_output=True, check=False)
    handle.unlink(missing_ok=True)
    return deleted.returncode == 0


def _open(net: EmulatedNetwork, config: TunnelConfig, handle: Path) -> None:
    pin(net.pid(CONTROLLER), handle)
    _create(config)
    net.run(CONTROLLER, ["ip", "-batch", "-"], "tunnel set-up", config.inside)
    net.run(CONTROLLER, ["bridge", "-batch", "-"], "tunnel peers", config.fdb)


def open_gateway(net: EmulatedNetwork, cluster: ClusterPlan, host: str, handle: Path) -> None:
    """Make lab host ``host``'s ``controller`` namespace the gateway to the controller host.

    ``net`` is built with ``gateway=True``: its management ports route each
    VP's /32 and the namespace has no controller address of its own.
    ``handle`` is where :func:`pin` keeps the namespace, for :func:`close`.
    """
    # Forwarding there was switched on with the namespace (EmulatedNetwork.gateway).
    _open(net, gateway_config(cluster, host, net.pid(CONTROLLER)), handle)


def open_controller(net: EmulatedNetwork, cluster: ClusterPlan, handle: Path) -> None:
    """Route every VP's measurement address to the host it runs on, through the tunnel."""
    _open(net, controller_config(cluster, net.pid(CONTROLLER)), handle)
