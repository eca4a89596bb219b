"""The host watch's command (the watch itself runs in test_cluster.py)."""

from __future__ import annotations

from scamperlab.lab.hostwatch import kill_argv


def test_kill_argv_names_each_vp_and_sc_remoteds_port() -> None:
    assert kill_argv(["198.18.0.6", "198.18.0.10"], 31337) == [
        "ss", "-K", "-t", "-n", "sport", "=", ":31337",
        "(", "dst", "198.18.0.6", "or", "dst", "198.18.0.10", ")",
    ]  # fmt: skip
