"""Creation-order handles for mux connections, instances and tasks.

The real module orders and hashes these objects by their C pointers; a
counter gives the same stable creation order without exposing ``id()``.
One counter serves every kind, so ``str(task)`` numbers stay what they were
when all of these lived in one module.
"""

from __future__ import annotations

import itertools

_counter = itertools.count(1)


def next_handle() -> int:
    return next(_counter)
