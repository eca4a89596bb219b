"""Ready-made topologies of any size, for benchmarks and scale tests.

Like Mininet's ``topolib``: a shape a user can name and size, returned as a
validated :class:`Topology` (no file needed).
"""

from __future__ import annotations

from typing import Any

from scamperlab.topology.model import Topology

_PLACES = [
    ("NZ", "Auckland", -36.85, 174.76, "AKL"),
    ("US", "New York", 40.71, -74.01, "JFK"),
    ("GB", "London", 51.51, -0.13, "LHR"),
    ("JP", "Tokyo", 35.68, 139.69, "NRT"),
    ("BR", "Sao Paulo", -23.55, -46.63, "GRU"),
    ("ZA", "Johannesburg", -26.20, 28.05, "JNB"),
]


def ring(vps: int, routers: int = 8, delay_ms: float = 5.0, name: str = "ring") -> Topology:
    """``routers`` routers in a ring, ``vps`` VPs spread over them, one target per router."""
    spec: dict[str, Any] = {
        "name": name,
        "routers": [{"name": f"r{i}"} for i in range(routers)],
        "links": [
            {"ends": [f"r{i}", f"r{(i + 1) % routers}"], "delay": f"{delay_ms}ms"}
            for i in range(routers if routers > 2 else routers - 1)
        ],
        "vps": [],
        "targets": [{"name": f"t{i}", "uplink": {"router": f"r{i}"}} for i in range(routers)],
    }
    for i in range(vps):
        cc, place, lat, lon, iata = _PLACES[i % len(_PLACES)]
        spec["vps"].append(
            {
                "name": f"vp{i}.{iata.lower()}.example",
                "cc": cc,
                "place": place,
                "latlong": [lat, lon],
                "iata": iata,
                "asn4": 64496 + i % 16,
                "uplink": {"router": f"r{i % routers}"},
            }
        )
    return Topology.model_validate(spec)
