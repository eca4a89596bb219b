"""The node spawner against the kernel: programs land in the node, the thread comes back."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from scamperlab.emulation import holders
from scamperlab.emulation.spawner import NodeSpawner


def _ns(where: int | str, kind: str) -> int:
    return os.stat(f"/proc/{where}/ns/{kind}").st_ino


@pytest.fixture
def nodes() -> Iterator[list[holders.NodeNamespace]]:
    forks = holders.ForkServer()
    made: list[holders.NodeNamespace] = []
    forks.holders([("a", {}), ("b", {})], made.append)
    yield sorted(made, key=lambda h: h.name)
    forks.close()
    for holder in made:
        holder.terminate()
        holder.wait(10)
        holder.close()


def test_programs_start_in_the_node_as_the_labs_children_and_the_thread_comes_back(
    nodes: list[holders.NodeNamespace],
) -> None:
    a, b = nodes
    cwd = os.getcwd()
    spawner = NodeSpawner()
    try:
        tid = spawner._thread.native_id
        proc = spawner.popen(a.pid, ["sleep", "30"])
        try:
            for kind in ("net", "mnt"):
                assert _ns(proc.pid, kind) == _ns(a.pid, kind) != _ns("self", kind)
                # The thread is home again, in the lab's namespaces.
                assert _ns(f"self/task/{tid}", kind) == _ns("self", kind)
            assert Path(f"/proc/{proc.pid}/stat").read_text().split()[3] == str(os.getpid())
            assert os.getsid(proc.pid) == proc.pid  # a session of its own
        finally:
            proc.kill()
            proc.wait()
        pwd = spawner.popen(a.pid, ["pwd"], stdout=subprocess.PIPE)
        assert pwd.communicate(timeout=10)[0] == b"/\n"  # as mnexec -a leaves it
        # A program that cannot start is the caller's error; the next one still lands.
        with pytest.raises(FileNotFoundError):
            spawner.popen(b.pid, ["/no/such/program"])
        done = spawner.popen(b.pid, ["true"])
        assert done.wait(10) == 0
        # A node that is gone: an error, and the spawner serves the others.
        b.terminate()
        b.wait(10)
        with pytest.raises(OSError):
            spawner.popen(b.pid, ["true"])
        ok = spawner.popen(a.pid, ["readlink", "/proc/self/ns/net"], stdout=subprocess.PIPE)
        assert ok.communicate(timeout=10)[0].decode().strip() == os.readlink(
            f"/proc/{a.pid}/ns/net"
        )
        assert _ns(f"self/task/{tid}", "net") == _ns("self", "net")
        assert os.getcwd() == cwd  # the lab's other threads never moved
    finally:
        spawner.close()
