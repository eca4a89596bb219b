"""Which VPs the mux announces, with their Ark metadata and mux ids.

VP ids are handed out from 1 upward and never reused, like sc_remoted's: a
VP whose socket reappears under a new source port (its scamper was
restarted) is a new VP, and the old id departs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scamperlab.wire.mux import Attr, VpUpdate


@dataclass(frozen=True)
class MuxVp:
    id: int
    name: str
    socket: Path
    address: str
    arrival: float
    metadata: tuple[tuple[Attr, str], ...]

    def attrs(self) -> list[tuple[Attr, str]]:
        """Attributes in sc_remoted's order: name, arrival, address, then metadata."""
        attrs: list[tuple[Attr, str]] = [
            (Attr.NAME, self.name),
            (Attr.ARRIVAL, f"{int(self.arrival)}.{int(self.arrival * 1e6) % 1000000:06d}"),
        ]
        if ":" in self.address:
            attrs.append((Attr.IPV6, self.address))
        else:
            attrs.append((Attr.IPV4, self.address))
        attrs += self.metadata
        return attrs

    def announcement(self) -> VpUpdate:
        """The mux message that announces this VP to a user."""
        return VpUpdate(self.id, tuple(self.attrs()))


Listener = Callable[[str, MuxVp], None]


@dataclass
class VpRegistry:
    """The current VP list, fed by socket scans, observed by mux sessions."""

    metadata: Mapping[str, Sequence[tuple[Attr, str]]]
    by_id: dict[int, MuxVp] = field(default_factory=dict)
    by_name: dict[str, MuxVp] = field(default_factory=dict)
    listeners: list[Listener] = field(default_factory=list)
    _next_id: int = 1

    def sync(self, sockets: Mapping[str, tuple[Path, str]]) -> None:
        """Bring the list in line with ``{monitor: (socket path, peer address)}``."""
        for name, vp in list(self.by_name.items()):
            current = sockets.get(name)
            if current is None or current[0] != vp.socket:
                self._depart(vp)
        for name, (path, address) in sockets.items():
            if name not in self.by_name:
                self._arrive(name, path, address)

    def _arrive(self, name: str, path: Path, address: str) -> None:
        vp = MuxVp(
            id=self._next_id,
            name=name,
            socket=path,
            address=address,
            arrival=time.time(),
            metadata=tuple(self.metadata.get(name, ())),
        )
        self._next_id += 1
        self.by_id[vp.id] = vp
        self.by_name[name] = vp
        for listener in list(self.listeners):
            listener("arrived", vp)

    def _depart(self, vp: MuxVp) -> None:
        del self.by_id[vp.id]
        del self.by_name[vp.name]
        for listener in list(self.listeners):
            listener("departed", vp)
