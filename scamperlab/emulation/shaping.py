"""Link shaping with tc: netem where the kernel has it, and an honest report where not.

Mininet's ``TCLink`` prints an error per link and carries on without delay
when ``sch_netem`` is missing; a lab must not pretend, so scamperlab builds
its own tc lines and checks the kernel first.
"""

from __future__ import annotations

import functools
import subprocess

from scamperlab.topology.model import LinkParams


@functools.cache
def kernel_has_netem() -> bool:
    """Try a netem qdisc in a throwaway network namespace (the host is not touched)."""
    script = "ip link set lo up && tc qdisc add dev lo root netem delay 1ms"
    try:
        done = subprocess.run(
            ["unshare", "--net", "sh", "-c", script], capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _tbf(rate_mbit: float) -> str:
    # The bucket must hold at least one timer tick of traffic at this rate.
    burst = max(1600, int(rate_mbit * 1e6 / 8 / 250))
    return f"tbf rate {rate_mbit:g}mbit burst {burst} latency 100ms"


def tc_lines(dev: str, params: LinkParams, netem: bool) -> list[str]:
    """The ``tc -batch`` lines that shape ``dev`` (one direction of a link)."""
    if netem and params.needs_netem:
        opts = f"delay {params.delay:g}ms"
        if params.jitter:
            opts += f" {params.jitter:g}ms distribution normal"
        if params.loss:
            opts += f" loss {params.loss:g}%"
        if params.bandwidth:
            opts += f" rate {params.bandwidth:g}mbit"
        # netem's default queue (1000 packets) is too short for long, fast links.
        return [f"qdisc replace dev {dev} root netem {opts} limit 100000"]
    if params.bandwidth:
        return [f"qdisc replace dev {dev} root {_tbf(params.bandwidth)}"]
    return []
