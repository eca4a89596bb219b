"""What the delay fallback asks of the kernel, and how the self-check judges, without root."""

from __future__ import annotations

import struct

from scamperlab.emulation import delayd
from scamperlab.emulation.delay import QueuedInterface, mechanism, queue_rules, shaping_summary
from scamperlab.emulation.selfcheck import loss_bounds, loss_probes, round_trip_loss
from scamperlab.topology.model import LinkParams


def test_mechanism_follows_the_kernel() -> None:
    assert mechanism(LinkParams(delay=5), netem=True) == "netem"
    assert mechanism(LinkParams(delay=5), netem=False) == "nfqueue"
    assert mechanism(LinkParams(loss=1), netem=False) == "nfqueue"
    assert mechanism(LinkParams(bandwidth=10), netem=False) == "tbf"
    assert mechanism(LinkParams(), netem=False) == "none"


def test_each_packet_is_queued_once_where_nobody_owns_or_timestamped_it() -> None:
    q = QueuedInterface("eth1", 1, ("198.18.0.2", "192.0.2.1"), ("2001:db8::2",))
    v4 = queue_rules([q], 4).splitlines()
    target = "-j NFQUEUE --queue-num 1 --queue-bypass"
    assert v4 == [
        "*mangle",
        f"-A FORWARD -o eth1 {target}",
        f"-A PREROUTING -i eth1 -s 198.18.0.2,192.0.2.1 -m addrtype ! --dst-type LOCAL {target}",
        f"-A OUTPUT -o eth1 -d 198.18.0.2,192.0.2.1 {target}",
        "COMMIT",
    ]
    assert "-s 2001:db8::2 " in queue_rules([q], 6)
    # Without --queue-bypass, a dead daemon would silently drop the lab's traffic.
    assert all("--queue-bypass" in line for line in v4 if "NFQUEUE" in line)


def test_summary_counts_links_per_mechanism() -> None:
    line = shaping_summary(["nfqueue", "nfqueue", "none", "tbf"])
    assert line.startswith("links: 2 delayed by scamperlab's userspace NFQUEUE holder")
    assert "1 rate-limited only (tbf), 1 unshaped" in line


def test_loss_check_sizes_and_bounds() -> None:
    assert round(round_trip_loss(5.0), 4) == 0.0975
    assert loss_probes(0.0) == 0
    assert loss_probes(0.1) == 0  # too rare to tell from none within the budget
    assert 100 <= loss_probes(5.0) <= 1500
    low, high = loss_bounds(5.0, 1000)
    assert low < 97.5 < high and low > 40 and high < 160


def test_verdict_messages_have_the_kernel_layout() -> None:
    msg = delayd._verdict(3, 0x01020304, delayd.NF_ACCEPT, batch=True)
    length, kind, flags, _, _ = struct.unpack_from("=IHHII", msg)
    assert length == len(msg) == 16 + 4 + 12
    assert kind == (delayd.NFNL_SUBSYS_QUEUE << 8) | delayd.NFQNL_MSG_VERDICT_BATCH
    assert flags == delayd.NLM_F_REQUEST
    assert struct.unpack_from("!BBH", msg, 16) == (0, 0, 3)  # AF_UNSPEC, version, queue
    alen, akind, verdict, packet = struct.unpack_from("=HH", msg, 20) + struct.unpack_from(
        "!II", msg, 24
    )
    assert (alen, akind, verdict, packet) == (12, delayd.NFQA_VERDICT_HDR, 1, 0x01020304)
