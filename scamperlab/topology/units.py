"""Parsing of the human units a topology file uses (``10ms``, ``100Mbit``, ``0.5%``).

Values are normalised once, here, so the rest of scamperlab only ever sees
milliseconds, megabits per second and percentages as floats.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

_NUMBER = r"(?P<num>\d+(?:\.\d*)?|\.\d+)"
_DURATION_RE = re.compile(rf"^\s*{_NUMBER}\s*(?P<unit>us|ms|s)?\s*$")
_RATE_RE = re.compile(rf"^\s*{_NUMBER}\s*(?P<unit>kbit|mbit|gbit|bit)?(?:/s|ps)?\s*$", re.I)
_PERCENT_RE = re.compile(rf"^\s*{_NUMBER}\s*%?\s*$")

_DURATION_SCALE = {"us": 0.001, "ms": 1.0, "s": 1000.0, None: 1.0}
_RATE_SCALE = {"bit": 1e-6, "kbit": 1e-3, "mbit": 1.0, "gbit": 1000.0, None: 1.0}


def parse_duration_ms(value: object) -> float:
    """A duration in milliseconds; bare numbers are milliseconds, as in tc."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '10ms', '1.5s' or '250us'")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str) and (m := _DURATION_RE.match(value)):
        result = float(m["num"]) * _DURATION_SCALE[m["unit"]]
    else:
        raise ValueError(f"expected a duration such as '10ms', '1.5s' or '250us', got {value!r}")
    if result < 0:
        raise ValueError("a duration cannot be negative")
    return result


def parse_rate_mbit(value: object) -> float:
    """A bandwidth in Mbit/s; bare numbers are Mbit/s, as in Mininet's ``bw``."""
    if isinstance(value, bool):
        raise ValueError("expected a bandwidth such as '100Mbit' or '1Gbit'")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str) and (m := _RATE_RE.match(value)):
        unit = m["unit"].lower() if m["unit"] else None
        result = float(m["num"]) * _RATE_SCALE[unit]
    else:
        raise ValueError(f"expected a bandwidth such as '100Mbit' or '1Gbit', got {value!r}")
    if result <= 0:
        raise ValueError("a bandwidth must be positive")
    return result


def parse_percent(value: object) -> float:
    """A loss rate in percent (0 to 100); ``1%`` and ``1`` mean the same."""
    if isinstance(value, bool):
        raise ValueError("expected a percentage such as '1%'")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str) and (m := _PERCENT_RE.match(value)):
        result = float(m["num"])
    else:
        raise ValueError(f"expected a percentage such as '0.5%', got {value!r}")
    if not 0 <= result <= 100:
        raise ValueError("a percentage must be between 0 and 100")
    return result


DurationMs = Annotated[float, BeforeValidator(parse_duration_ms)]
RateMbit = Annotated[float, BeforeValidator(parse_rate_mbit)]
Percent = Annotated[float, BeforeValidator(parse_percent)]
