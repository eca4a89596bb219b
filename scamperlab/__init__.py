"""scamperlab: an emulated Ark (scamper VPs, sc_remoted and its mux) on one Linux machine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Lab", "__version__"]

if TYPE_CHECKING:
    from scamperlab.lab import Lab


def __getattr__(name: str) -> Any:
    # Importing Lab pulls in Mininet; keep `import scamperlab.scamper` light.
    if name == "Lab":
        from scamperlab.lab import Lab

        return Lab
    raise AttributeError(name)
