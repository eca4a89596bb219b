"""Router behaviour beyond forwarding: ECMP hashing, ICMP budgets, silence, IP-ID policy.

A lab router is a Linux namespace with forwarding on, and most of what makes
it behave like a real router is the kernel's own, switched on per router
with sysctls (:func:`router_sysctls`). Two behaviours the kernel does not
have are built from netfilter rules inside the router's namespace
(:func:`filter_rules`, :func:`ipid_rules`); nothing is ever added to the
host's namespace. How each option maps to the kernel is documented in
``docs/routers.md``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence

from scamperlab.topology.model import Router, Topology

NodeRunner = Callable[[str, Sequence[str], str, str | None], None]

# The NFQUEUE of a router's IP-ID rewriter. Queue numbers are per network
# namespace, and delayed links use 0..(interfaces - 1): this one never clashes.
IPID_QUEUE = 1000

# Originated ICMP a silent router swallows. Fragmentation needed / packet too big
# still go out: a router that hides from traceroute is not a PMTUD black hole.
_SILENT_V4 = ("time-exceeded", "destination-unreachable", "echo-reply", "parameter-problem")
_SILENT_V6 = ("time-exceeded", "destination-unreachable", "echo-reply", "parameter-problem")


def hash_seed(router: str) -> int:
    """A fixed, distinct multipath hash seed per router.

    Without one, every namespace hashes a flow with the same key, so a flow
    that takes the first branch of one load balancer takes the first branch
    of the next one too, and the links between nested diamonds never carry
    traffic. Real routers hash independently; so do lab routers.
    """
    return zlib.crc32(router.encode()) or 1


def router_sysctls(topo: Topology, router: Router) -> dict[str, str]:
    """The sysctls that realise ``router``'s options (on top of the lab's defaults)."""
    values: dict[str, str] = {}
    if topo.ecmp_at(router.name):
        # L4 hash: per-flow load balancing, so Paris traceroute stays on one path
        # and MDA (which varies the flow identifier) sees every branch.
        values["net.ipv4.fib_multipath_hash_policy"] = "1"
        values["net.ipv6.fib_multipath_hash_policy"] = "1"
        values["net.ipv4.fib_multipath_hash_seed"] = str(hash_seed(router.name))
    limit = router.icmp_rate_limit
    if limit is not None:
        # The kernel's per-namespace token bucket for the ICMP errors it
        # originates (the types in icmp_ratemask; IPv6 shares the bucket).
        values["net.ipv4.icmp_msgs_per_sec"] = str(limit.rate)
        values["net.ipv4.icmp_msgs_burst"] = str(limit.burst)
    return values


def filter_rules(router: Router, family: int, neighbours: Sequence[str] = ()) -> str | None:
    """``iptables-restore --noflush`` input that silences an unresponsive router, or None.

    Echo replies to the link addresses of its direct neighbours still go out:
    that is how the lab measures every link's delay before it starts
    (``emulation/selfcheck.py``), and a probe from further away never
    comes from such an address.
    """
    if not router.unresponsive:
        return None
    lines = ["*filter"]
    if neighbours:
        kind = "icmp --icmp-type" if family == 4 else "ipv6-icmp --icmpv6-type"
        lines.append(f"-A OUTPUT -p {kind} echo-reply -d {','.join(neighbours)} -j ACCEPT")
    if family == 4:
        lines.append("-A OUTPUT -p icmp --icmp-type fragmentation-needed -j ACCEPT")
        lines += [f"-A OUTPUT -p icmp --icmp-type {kind} -j DROP" for kind in _SILENT_V4]
    else:
        lines += [f"-A OUTPUT -p ipv6-icmp --icmpv6-type {kind} -j DROP" for kind in _SILENT_V6]
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def ipid_rules() -> str:
    """``iptables-restore --noflush`` input sending what a router originates to its rewriter.

    The ``raw`` table's OUTPUT chain runs first among the output hooks, before
    the delay holder's rules in ``mangle``: the IP-ID is stamped when the
    router sends a packet, not when a delayed link releases it. Forwarded
    packets never pass OUTPUT, so only the router's own packets are touched.
    ``--queue-bypass``: with the daemon gone, the kernel's own IP-IDs go out.
    """
    return f"*raw\n-A OUTPUT ! -o lo -j NFQUEUE --queue-num {IPID_QUEUE} --queue-bypass\nCOMMIT\n"


def needs_rewriter(router: Router) -> bool:
    return router.ipid != "kernel"


def install_filter_rules(
    run: NodeRunner, router: Router, neighbours: dict[int, list[str]] | None = None
) -> None:
    for tool, family in (("iptables-restore", 4), ("ip6tables-restore", 6)):
        rules = filter_rules(router, family, (neighbours or {}).get(family, []))
        if rules is not None:
            run(router.name, [tool, "--noflush"], "unresponsive-router rules", rules)


def install_ipid_rules(run: NodeRunner, router: Router) -> None:
    run(router.name, ["iptables-restore", "--noflush"], "IP-ID rules", ipid_rules())
