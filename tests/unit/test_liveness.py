"""The decision to declare a VP missing: only with no connection, counted in its own time."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from scamperlab.processes.liveness import (
    CONNECT_GRACE,
    Sample,
    Watch,
    connection,
    cpu_wait,
    opened,
    sample,
)

PATIENCE = 120.0


def test_a_scamper_kept_off_the_cpu_is_not_missing_however_long_the_wall_clock_runs() -> None:
    watch = Watch.started(0.0, PATIENCE)
    # 30 s since its start, 29 of them waiting for a CPU: 1 s of its own time.
    assert watch.judge(Sample(30.0, 29.0, "none"))[0] == "wait"
    assert watch.judge(Sample(31.0, 29.5, "none"))[0] == "wait"


def test_a_sleeping_scamper_with_no_connection_is_missing_after_the_grace() -> None:
    watch = Watch.started(0.0, PATIENCE)
    assert watch.judge(Sample(CONNECT_GRACE - 0.1, 0.0, "none"))[0] == "wait"
    verdict, why = watch.judge(Sample(CONNECT_GRACE + 0.1, 0.0, "none"))
    assert verdict == "missing"
    assert "never connected" in why


def test_a_connection_being_made_or_made_is_never_missing_before_the_patience() -> None:
    watch = Watch.started(0.0, PATIENCE)
    for at in (1.0, 10.0, 60.0, PATIENCE):
        assert watch.judge(Sample(at, 0.0, "connecting"))[0] == "wait"
    watch = Watch.started(0.0, PATIENCE)
    assert watch.judge(Sample(1.0, 0.0, "established"))[0] == "wait"
    assert watch.judge(Sample(PATIENCE, 0.0, "established"))[0] == "wait"
    verdict, why = watch.judge(Sample(PATIENCE + 1.1, 0.0, "established"))
    assert verdict == "missing" and "never appeared" in why


def test_the_grace_counts_from_when_the_connection_went_not_from_the_start() -> None:
    watch = Watch.started(0.0, PATIENCE)
    watch.judge(Sample(1.0, 0.0, "established"))
    watch.arrived()
    # Up for a long time, then sc_remoted drops its socket and the connection goes.
    assert watch.judge(Sample(500.0, 2.0, "none"))[0] == "wait"
    assert watch.judge(Sample(500.0 + CONNECT_GRACE, 2.0, "none"))[0] == "wait"
    verdict, why = watch.judge(Sample(500.0 + CONNECT_GRACE + 0.5, 2.0, "none"))
    assert verdict == "missing" and "lost its connection" in why


def test_a_vp_back_on_its_connection_starts_a_new_grace() -> None:
    watch = Watch.started(0.0, PATIENCE)
    assert watch.judge(Sample(2.5, 0.0, "none"))[0] == "wait"
    assert watch.judge(Sample(2.9, 0.0, "connecting"))[0] == "wait"
    # No connection again: 2.5 + 2.5 s unconnected, but never 3 s in a row.
    assert watch.judge(Sample(3.0, 0.0, "none"))[0] == "wait"
    assert watch.judge(Sample(5.5, 0.0, "none"))[0] == "wait"
    assert watch.judge(Sample(6.1, 0.0, "none"))[0] == "missing"


def test_a_connection_that_ended_before_the_vp_appeared_is_missing_at_once() -> None:
    # sc_remoted took the connection and closed it (a duplicate magic), or refused it:
    # the scamper sleeps 30-61 s, so the grace is not waited out.
    watch = Watch.started(0.0, PATIENCE, opened_before=4)
    assert watch.judge(Sample(0.05, 0.0, "none", 4))[0] == "wait"  # not tried yet
    assert watch.judge(Sample(0.1, 0.0, "connecting", 5))[0] == "wait"
    verdict, why = watch.judge(Sample(0.2, 0.0, "none", 5))
    assert verdict == "missing" and "ended before" in why


def test_a_vp_that_appeared_and_lost_its_connection_gets_the_grace() -> None:
    watch = Watch.started(0.0, PATIENCE, opened_before=0)
    watch.judge(Sample(0.1, 0.0, "established", 1))
    watch.arrived()
    assert watch.judge(Sample(100.0, 0.0, "none", 1))[0] == "wait"
    assert watch.judge(Sample(100.0 + CONNECT_GRACE + 0.1, 0.0, "none", 1))[0] == "missing"


def test_without_the_counter_the_grace_decides() -> None:
    watch = Watch.started(0.0, PATIENCE)
    assert watch.judge(Sample(0.2, 0.0, "none", 7))[0] == "wait"


def test_the_kernel_counts_the_connections_a_namespace_opens() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    before = opened(os.getpid())
    assert before is not None
    client = socket.create_connection(server.getsockname())
    try:
        after = opened(os.getpid())
        assert after is not None and after >= before + 1
    finally:
        client.close()
        server.close()


def test_the_kernel_reports_a_connection_to_the_port_and_none_to_another() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    try:
        assert connection(os.getpid(), port) == "established"
        assert connection(os.getpid(), port + 1 if port < 65535 else port - 1) == "none"
    finally:
        client.close()
        server.close()


def test_a_gone_process_has_no_connection_and_no_cpu_wait() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    pid = int(done.stdout)
    assert connection(pid, 1) is None
    assert opened(pid) is None
    assert cpu_wait(pid) is None
    assert (wait := cpu_wait(os.getpid())) is not None and wait >= 0.0


def test_a_namespace_that_opened_nothing_has_no_connection_without_reading_the_table() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    try:
        now = opened(os.getpid())
        # The same count as at the start: taken as "nothing opened since", so "none".
        seen = sample(os.getpid(), port, now)
        assert seen is not None and seen.connection == "none"
        # Without a baseline, or with an older one, the table is read.
        for before in (None, (now or 1) - 1):
            seen = sample(os.getpid(), port, before)
            assert seen is not None and seen.connection == "established"
    finally:
        client.close()
        server.close()
