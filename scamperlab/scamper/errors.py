"""The module's one exception class."""

from __future__ import annotations

from typing import Any


class ScamperInstError(Exception):
    """An instance's error: scamper rejected a command, or its connection failed."""

    def __init__(self, message: str, inst: Any) -> None:
        super().__init__(message)
        self.inst = inst

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
