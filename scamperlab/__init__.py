"""scamperlab: an emulated Ark (scamper VPs, sc_remoted and its mux) on one Linux machine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Lab", "__version__"]

if TYPE_CHECKING:
    from scamperlab.lab.core import Lab


def __getattr__(name: str) -> Any:
    # Importing Lab pulls in the emulation, the mux and pydantic models: keep
    # `import scamperlab.scamper` (and `scamperlab --help`) light.
    if name == "Lab":
        from scamperlab.lab.core import Lab

        return Lab
    raise AttributeError(name)
