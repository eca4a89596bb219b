"""Exceptions raised by the warts decoder.

All are ``ValueError`` subclasses so callers that only know "bad input"
semantics can catch ``ValueError``; callers that care can tell a record cut
short (often a transport problem) from one whose content makes no sense.
"""

from __future__ import annotations

__all__ = ["WartsError", "WartsFormatError", "WartsTruncatedError"]


class WartsError(ValueError):
    """Base class: the bytes given are not valid warts."""


class WartsTruncatedError(WartsError):
    """A record or a field inside it ends before its declared length."""


class WartsFormatError(WartsError):
    """A record is complete but its content is inconsistent."""
