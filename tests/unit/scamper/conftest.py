"""Collects per-test summary lines (skip counts, deviations) and prints
them at the end of the pytest run, so they show without ``-s``."""

from __future__ import annotations

import pytest

SUMMARY: list[str] = []


@pytest.fixture
def summary() -> list[str]:
    return SUMMARY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SUMMARY:
        terminalreporter.section("scamper decoder summary")
        for line in SUMMARY:
            terminalreporter.write_line(line)
