"""Link delay and loss are really in effect, on every kernel (issue 7: link delay).

On a kernel without sch_netem these run through scamperlab's userspace
NFQUEUE holder; with netem, through netem. Bounds are one-sided where load can
only add delay (a busy machine never makes a packet faster), so they hold on
a loaded CI machine.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scamperlab.emulation.network import EmulatedNetwork
from scamperlab.emulation.selfcheck import link_name, loss_bounds, round_trip_loss
from scamperlab.emulation.shaping import kernel_has_netem
from scamperlab.errors import LabStartError
from scamperlab.lab import Lab
from scamperlab.lab.state import process_starttime
from scamperlab.topology.model import LinkParams
from scamperlab.topology.plan import link_between, path_between
from tests.integration.conftest import ROOT
from tests.integration.leftovers import alive, processes_in, root_links

DELAY = Path(__file__).parent / "topologies" / "delay.yaml"
MECHANISM = "netem" if kernel_has_netem() else "nfqueue"
# Load adds delay; a min over many pings stays within this of the configured RTT.
SLACK_MS = 10.0


@pytest.fixture(scope="module")
def delay_lab(state_dir: Path) -> Iterator[Lab]:
    with Lab.from_file(DELAY, name="dly", state_dir=state_dir) as lab:
        yield lab


def one_way_ms(lab: Lab, src: str, dst: str) -> float:
    path = path_between(lab.plan, src, dst)
    return sum(link_between(lab.plan, a, b).params.delay for a, b in itertools.pairwise(path))


def ping(lab: Lab, node: str, dst: str, count: int, interval: float) -> tuple[int, int, float]:
    out = lab.run_in(
        node, ["ping", "-n", "-q", "-c", str(count), "-i", str(interval), "-W", "2", dst]
    ).stdout
    sent, received = map(int, re.findall(r"(\d+) packets transmitted, (\d+) received", out)[0])
    rtt = re.search(r"= ([\d.]+)/", out)
    return sent, received, float(rtt[1]) if rtt else float("nan")


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("dst", ["192.0.2.80", "2001:db8:80::80", "vp2.test"])
def test_min_rtt_is_twice_the_sum_of_the_path_delays(delay_lab: Lab, dst: str) -> None:
    dst_node = "www" if dst.startswith(("192", "2001")) else dst
    address = dst if dst_node == "www" else str(delay_lab.node(dst).ipv4)
    expected = 2 * one_way_ms(delay_lab, "vp1.test", dst_node)
    assert expected == (40.0 if dst_node == "www" else 34.0)
    _, received, min_rtt = ping(delay_lab, "vp1.test", address, 20, 0.05)
    assert received > 0
    assert expected <= min_rtt < expected + SLACK_MS, (min_rtt, expected)


def test_loss_is_observed_within_statistical_bounds(delay_lab: Lab) -> None:
    link = link_between(delay_lab.plan, "core-b", "loss-r")
    count = 1000
    sent, received, _ = ping(delay_lab, "vp1.test", "192.0.2.99", count, 0.003)
    assert sent == count
    low, high = loss_bounds(link.params.loss, count)
    lost = sent - received
    assert low <= lost <= high, (lost, round_trip_loss(link.params.loss) * count)


def test_mechanism_is_named_for_every_link(delay_lab: Lab, state_dir: Path) -> None:
    rows = {row["link"]: row for row in delay_lab.state.info["links"]}
    assert len(rows) == len(delay_lab.plan.links)
    for link in delay_lab.plan.links:
        row = rows[link_name(link)]
        assert row["mechanism"] == (MECHANISM if link.params.needs_netem else "none")
    summary = [e.message for e in delay_lab.events if e.kind == "links"]
    assert summary and f"5 {'shaped' if MECHANISM == 'netem' else 'delayed'}" in summary[0]
    env = dict(os.environ, SCAMPERLAB_STATE_DIR=str(state_dir), COLUMNS="200")
    out = subprocess.run(
        [sys.executable, "-m", "scamperlab.cli", "status", "dly"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    ).stdout
    assert "links" in out and MECHANISM in out
    assert "core-b:eth1" in out


def test_set_link_params_changes_delay_while_running(delay_lab: Lab) -> None:
    before = link_between(delay_lab.plan, "core-a", "core-b").params
    try:
        kind = delay_lab.net.set_link_params(
            "core-a", "core-b", LinkParams(delay=30.0), verify=True
        )
        assert kind == MECHANISM
        _, _, min_rtt = ping(delay_lab, "vp1.test", "192.0.2.80", 10, 0.05)
        assert 80.0 <= min_rtt < 80.0 + SLACK_MS
    finally:
        delay_lab.net.set_link_params("core-a", "core-b", before, verify=True)
    _, _, min_rtt = ping(delay_lab, "vp1.test", "192.0.2.80", 10, 0.05)
    assert 40.0 <= min_rtt < 40.0 + SLACK_MS


@pytest.mark.skipif(MECHANISM == "netem", reason="netem has no daemon to die")
def test_dead_daemon_fails_open_visibly_then_comes_back(delay_lab: Lab) -> None:
    assert delay_lab.net.delayd is not None
    daemon = delay_lab.net.delayd
    old_pid = daemon.pid
    assert old_pid is not None and old_pid in delay_lab.state.processes
    daemon.restart_delay = 4.0  # long enough to look at the lab without its daemon
    seen = len(delay_lab.events)
    try:
        os.kill(old_pid, signal.SIGKILL)
        wait_for(lambda: any(e.kind == "delay-died" for e in delay_lab.events[seen:]), 10, "report")
        # Fail open: traffic flows, undelayed, and the lab has said so.
        sent, received, min_rtt = ping(delay_lab, "vp1.test", "192.0.2.80", 5, 0.05)
        assert received == sent and min_rtt < 40.0
        died = next(e for e in delay_lab.events[seen:] if e.kind == "delay-died")
        assert "UNDELAYED" in died.message
        wait_for(
            lambda: any(e.kind == "delay-restarted" for e in delay_lab.events[seen:]),
            30,
            "restart",
        )
    finally:
        daemon.restart_delay = 0.2
    assert daemon.pid != old_pid
    assert daemon.pid in delay_lab.state.processes and old_pid not in delay_lab.state.processes
    _, _, min_rtt = ping(delay_lab, "vp1.test", "192.0.2.80", 10, 0.05)
    assert 40.0 <= min_rtt < 40.0 + SLACK_MS


def test_self_check_refuses_to_start_a_lab_whose_delay_is_not_in_effect(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sabotage one link after shaping, the way Mininet-based labs fail silently."""
    links_before = root_links()
    seen: dict[str, object] = {}
    shape = EmulatedNetwork._shape

    def shape_then_sabotage(net: EmulatedNetwork) -> None:
        shape(net)
        link = link_between(net.plan, "core-b", "core-c")
        seen["link"] = link_name(link)
        seen["namespaces"] = set(net.namespace_ids().values())
        pid = net.delayd.pid if net.delayd else None
        seen["delayd"] = (pid, process_starttime(pid)) if pid else None
        for end in (link.a, link.b):
            if net.netem:
                net.run(end.node, ["tc", "qdisc", "del", "dev", end.name, "root"], "sabotage")
                continue
            for tool in ("iptables", "ip6tables"):
                rules = subprocess.run(
                    net.in_node(end.node, [tool, "-t", "mangle", "-S"]),
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.splitlines()
                for rule in rules:
                    if f" {end.name} " in rule and rule.startswith("-A "):
                        argv = [tool, "-t", "mangle", "-D", *rule.split()[1:]]
                        net.run(end.node, argv, "sabotage")

    monkeypatch.setattr(EmulatedNetwork, "_shape", shape_then_sabotage)
    lab = Lab.from_file(DELAY, name="dlysab", state_dir=state_dir)
    with pytest.raises(LabStartError) as failure:
        lab.start()
    message = str(failure.value)
    assert "self-check failed" in message
    assert str(seen["link"]) in message and "NOT in effect" in message
    # Only the sabotaged link is blamed, for IPv4 and IPv6.
    blamed = [line for line in message.splitlines() if "NOT in effect" in line]
    assert len(blamed) == 2 and all(str(seen["link"]) in line for line in blamed), message
    # And the failed start left nothing behind.
    namespaces = seen["namespaces"]
    assert isinstance(namespaces, set)
    assert processes_in(namespaces) == []
    if MECHANISM == "nfqueue":
        pid, start = seen["delayd"]  # type: ignore[misc]
        assert not alive(pid, start), "the delay daemon outlived the failed start"
    assert not (state_dir / "dlysab").exists()
    assert root_links() == links_before
