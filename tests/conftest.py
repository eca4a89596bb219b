"""Session-wide fixtures of every test directory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.load import ENV, cpu_hogs, hogs_wanted


@pytest.fixture(scope="session", autouse=True)
def machine_load() -> Iterator[list[int]]:
    """``SCAMPERLAB_TEST_LOAD=N``: N CPU hogs for the session (see tests/load.py)."""
    with cpu_hogs(hogs_wanted()) as pids:
        yield pids


def pytest_report_header() -> str | None:
    count = hogs_wanted()
    return f"machine load: {count} CPU hogs for the session ({ENV})" if count else None
