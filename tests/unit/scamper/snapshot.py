"""Every public value of a result object, as plain data, for comparing two
objects that should be the same measurement (e.g. before and after a
warts write/read round trip)."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

_SKIP = frozenset({"inst"})


def _is_scamper(v: object) -> bool:
    return type(v).__module__.startswith("scamperlab.scamper") and not isinstance(v, int)


def _value(v: Any, depth: int) -> Any:
    if _is_scamper(v) and type(v).__name__ != "ScamperAddr":
        return snapshot(v, depth + 1)
    if isinstance(v, dict):
        return {k: _value(x, depth) for k, x in v.items()}
    if isinstance(v, (str, bytes)) or not isinstance(v, Iterable):
        return v
    return [_value(x, depth) for x in list(v)[:500]]


def snapshot(obj: Any, depth: int = 0) -> dict[str, Any]:
    """Properties and zero-argument methods, recursively (depth 6)."""
    out: dict[str, Any] = {"__type__": type(obj).__name__}
    if depth > 6:
        return out
    for name in sorted(dir(type(obj))):
        if name.startswith("_") or name in _SKIP:
            continue
        attr = inspect.getattr_static(type(obj), name)
        try:
            if isinstance(attr, property):
                out[name] = _value(getattr(obj, name), depth)
            elif callable(attr):
                sig = inspect.signature(getattr(obj, name))
                if all(p.default is not p.empty for p in sig.parameters.values()):
                    out[name + "()"] = _value(getattr(obj, name)(), depth)
        except Exception as exc:  # a raising accessor must raise the same way
            out[name] = f"raised {type(exc).__name__}"
    if type(obj).__str__ is not object.__str__:
        out["__str__"] = str(obj)
    return out
