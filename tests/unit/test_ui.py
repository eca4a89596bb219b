"""What the consoles print is what was given them: addresses are not emoji codes."""

from __future__ import annotations

import pytest

from scamperlab.lab import ui


def test_ipv6_addresses_print_as_they_are(capsys: pytest.CaptureFixture[str]) -> None:
    # ':a:' and ':b:' are rich emoji codes (🅰, 🅱) unless emoji are off.
    ui.console().print("2001:db8:1000:a::2 2001:db8:1000:b::2")
    assert capsys.readouterr().out == "2001:db8:1000:a::2 2001:db8:1000:b::2\n"
