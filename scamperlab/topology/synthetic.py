"""Synthetic Internets of any size, with delays that follow geography.

``scamperlab generate`` writes what :func:`synthetic_internet` builds. The
shape is a caricature of the real thing, enough for measurement code to see
plausible paths and RTTs:

- VPs sit in real cities (:mod:`scamperlab.topology.cities`), spread over
  the continents round-robin, with the metadata Ark would serve for them.
- A third of the ASes (at least one, at most 12) are **transit** networks with core
  routers (``tr-<iata>-as<asn>``) at hub cities, joined by a minimum
  spanning tree over distance; transit networks peer once, in a city they share
  or else between their closest routers.
- The other ASes are **access** networks, each in one region, with an access
  router (``ar-<iata>-as<asn>``) in every city where it has VPs, homed to the
  nearest transit router and, when there are several transit networks,
  sometimes to a second one. Where a region has no access network, its VPs
  hang off access routers of a transit network.
- Every AS has one target host, ``www.as<asn>.example``.
- Every link's one-way delay is its great-circle length over the speed of
  light in fibre (2/3 c) plus :data:`HOP_MS`, so RTTs follow distance.

The same ``(vps, ases, seed)`` always gives the same topology, byte for byte
in YAML, so a generated file can be regenerated instead of stored.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from scamperlab.errors import ScamperlabError
from scamperlab.topology.cities import BY_IATA, CITIES, REGIONS, City, great_circle_km
from scamperlab.topology.model import Topology

# Light in fibre: 2/3 of c, in km per millisecond.
FIBRE_KM_PER_MS = 299_792.458 * 2 / 3 / 1000
# Per link: serialisation, switching and the detours fibre takes around a city.
HOP_MS = 0.5
MAX_VPS = 2000
MAX_ASES = 500
# The real Internet has about this many tier-1 networks; more would only add a full mesh.
MAX_TRANSIT = 12
# RFC 5398 documentation ASNs first, then RFC 6996 private 32-bit ones.
_DOC_ASNS = [*range(64496, 64512), *range(65536, 65552)]
_PRIVATE_ASN = 4_200_000_000


def link_delay_ms(km: float) -> float:
    """One-way delay of a link ``km`` long, rounded to 10 us as the file shows it."""
    return round(km / FIBRE_KM_PER_MS + HOP_MS, 2)


def asn_of(index: int) -> int:
    return _DOC_ASNS[index] if index < len(_DOC_ASNS) else _PRIVATE_ASN + index


@dataclass
class _AS:
    asn: int
    transit: bool
    region: str | None = None
    routers: dict[str, str] = field(default_factory=dict)  # iata -> router name

    def router(self, city: City) -> str:
        role = "tr" if self.transit and city.hub else "ar"
        return self.routers.setdefault(city.iata, f"{role}-{city.iata.lower()}-as{self.asn}")


class _Builder:
    def __init__(self) -> None:
        self.routers: dict[str, tuple[int, City]] = {}
        self.links: dict[frozenset[str], tuple[str, str]] = {}

    def add_router(self, name: str, asn: int, city: City) -> None:
        self.routers.setdefault(name, (asn, city))

    def link(self, a: str, b: str) -> None:
        if a != b:
            self.links.setdefault(frozenset((a, b)), (a, b))

    def km(self, a: str, b: str) -> float:
        return great_circle_km(self.routers[a][1].latlong, self.routers[b][1].latlong)

    def tree(self, names: list[str]) -> None:
        """Join ``names`` by the shortest links that connect them (Prim, ties by name)."""
        if not names:
            return
        joined, left = [names[0]], set(names[1:])
        while left:
            a, c = min(((j, n) for j in joined for n in left), key=lambda p: (self.km(*p), p))
            self.link(a, c)
            joined.append(c)
            left.remove(c)

    def nearest(self, name: str, among: Iterable[str]) -> str:
        return min(among, key=lambda other: (self.km(name, other), other))


def _pick_cities(count: int, rng: random.Random) -> list[tuple[City, int]]:
    """``count`` cities round-robin over shuffled regions, each with how often it was used."""
    regions = list(REGIONS)
    rng.shuffle(regions)
    per_region = {r: [c for c in CITIES if c.region == r] for r in regions}
    for cities in per_region.values():
        rng.shuffle(cities)
    order = [c for row in itertools.zip_longest(*per_region.values()) for c in row if c]
    uses: dict[str, int] = {}
    picked = []
    for i in range(count):
        city = order[i % len(order)]
        uses[city.iata] = uses.get(city.iata, 0) + 1
        picked.append((city, uses[city.iata]))
    return picked


def synthetic_internet(vps: int, ases: int, seed: int = 0, name: str | None = None) -> Topology:
    """``vps`` VPs in real cities over ``ases`` ASes; see the module docstring for the shape."""
    if not 1 <= vps <= MAX_VPS:
        raise ScamperlabError(f"--vps must be between 1 and {MAX_VPS}, not {vps}")
    if not 1 <= ases <= MAX_ASES:
        raise ScamperlabError(f"--ases must be between 1 and {MAX_ASES}, not {ases}")
    rng = random.Random(seed)
    b = _Builder()
    n_transit = max(1, min(ases // 3, MAX_TRANSIT))
    networks = [_AS(asn_of(i), transit=i < n_transit) for i in range(ases)]
    transit, access = networks[:n_transit], networks[n_transit:]

    # Transit: every region's hubs are covered by one network, some by several.
    hubs = {r: [c for c in CITIES if c.region == r and c.hub] for r in REGIONS}
    for i, region in enumerate(REGIONS):
        for k, net in enumerate(transit):
            if k == i % n_transit or rng.random() < 0.4:
                for city in hubs[region]:
                    if city is hubs[region][0] or rng.random() < 0.5:
                        b.add_router(net.router(city), net.asn, city)
    all_hubs = [c for c in CITIES if c.hub]
    for k, net in enumerate(transit):
        if not net.routers:  # more transit networks than regions
            city = all_hubs[k % len(all_hubs)]
            b.add_router(net.router(city), net.asn, city)
        b.tree(list(net.routers.values()))
    cores = {net.asn: list(net.routers.values()) for net in transit}
    for one, other in itertools.combinations(transit, 2):
        shared = sorted(set(one.routers) & set(other.routers))
        if shared:
            b.link(one.routers[shared[0]], other.routers[shared[0]])
        else:
            a, c = min(
                itertools.product(one.routers.values(), other.routers.values()),
                key=lambda pair: (b.km(*pair), pair),
            )
            b.link(a, c)
    transit_routers = [r for net in transit for r in net.routers.values()]

    # Access networks go to the regions with most VPs first.
    picked = _pick_cities(vps, rng)
    by_region: dict[str, int] = {}
    for city, _ in picked:
        by_region[city.region] = by_region.get(city.region, 0) + 1
    home = sorted(by_region, key=lambda r: (-by_region[r], REGIONS.index(r)))
    for j, net in enumerate(access):
        net.region = home[j % len(home)]
    turn: dict[str, int] = {}

    def network_for(city: City) -> _AS:
        candidates = [n for n in access if n.region == city.region]
        if not candidates:
            candidates = transit
        turn[city.region] = turn.get(city.region, -1) + 1
        return candidates[turn[city.region] % len(candidates)]

    vp_specs: list[dict[str, Any]] = []
    for city, nth in picked:
        net = network_for(city)
        router = net.router(city)
        b.add_router(router, net.asn, city)
        iata = city.iata.lower()
        short = f"{iata}{nth if nth > 1 else ''}-{city.cc.lower()}"
        spec: dict[str, Any] = {
            "name": f"{short}.example",
            "shortname": short,
            "cc": city.cc,
            "st": city.st,
            "place": city.place,
            "latlong": list(city.latlong),
            "iata": city.iata,
            "asn4": net.asn,
            "asn6": net.asn,
            "tags": ["os:linux", rng.choice(["hw:rpi4", "hw:server"])],
            "uplink": {"router": router, "delay": f"{link_delay_ms(0)}ms"},
        }
        vp_specs.append({k: v for k, v in spec.items() if v is not None})

    for net in access:
        if not net.routers:  # more access networks than VP cities: give it a city anyway
            region = net.region or REGIONS[0]
            city = rng.choice([c for c in CITIES if c.region == region])
            b.add_router(net.router(city), net.asn, city)
        names = list(net.routers.values())
        b.tree(names)
        for router in names:
            first = b.nearest(router, transit_routers)
            b.link(router, first)
            if n_transit > 1 and rng.random() < 0.5:
                first_asn = b.routers[first][0]
                others = [r for r in transit_routers if b.routers[r][0] != first_asn]
                b.link(router, b.nearest(router, others))
    for net in transit:
        # Routers a transit network added for VPs hang off its nearest core router.
        for router in net.routers.values():
            if router not in cores[net.asn]:
                b.link(router, b.nearest(router, cores[net.asn]))

    spec = {
        "name": name or f"synth-{vps}vp-{ases}as-s{seed}",
        "description": (
            f"synthetic Internet: {vps} VPs in real cities, {ases} ASes"
            f" ({n_transit} transit), delays from great-circle distances (seed {seed})"
        ),
        "routers": [
            {"name": r, "asn": asn, "latlong": list(city.latlong)}
            for r, (asn, city) in sorted(
                b.routers.items(), key=lambda i: (i[1][0], i[0][:2] != "tr", i[0])
            )
        ],
        "links": [
            {"ends": list(ends), "delay": f"{link_delay_ms(b.km(*ends))}ms"}
            for ends in b.links.values()
        ],
        "vps": vp_specs,
        "targets": [
            {
                "name": f"www.as{net.asn}.example",
                "uplink": {"router": next(iter(net.routers.values())), "delay": "0.5ms"},
            }
            for net in networks
        ],
    }
    return Topology.model_validate(spec)


def _flow(value: Any) -> str:
    """``value`` as one line of YAML, quoted only where YAML needs it."""
    text: str = yaml.safe_dump([value], default_flow_style=True, width=10**6, sort_keys=False)
    return text.strip()[1:-1]


def _ms(value: float) -> str:
    return f"{value:g}ms"


def _city_of(latlong: tuple[float, float] | None) -> str:
    if latlong is None:
        return "?"
    for city in BY_IATA.values():
        if city.latlong == latlong:
            return city.iata
    return f"{latlong[0]:g},{latlong[1]:g}"


# As in docs/topology.md and topologies/ark-mini.yaml.
_VP_ORDER = ["shortname", "cc", "st", "place", "latlong", "iata", "asn4", "asn6", "tags", "rate"]


def to_yaml(topo: Topology, header: str = "") -> str:
    """A topology file a person can read and edit: one line per router and link.

    Only fields that differ from their defaults are written, in the order
    ``docs/topology.md`` documents them. Link comments name the cities and
    the distance behind each delay, when the routers have a ``latlong``.
    """
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    lines.append(f"name: {_flow(topo.name)}")
    if topo.description:
        lines.append(f"description: {_flow(topo.description)}")
    lines.append(f"defaults: {{rate: {topo.defaults.rate}}}")
    if topo.controller.model_fields_set:
        lines.append(f"controller: {_flow(topo.controller.model_dump(exclude_defaults=True))}")
    lines.append("routers:")
    latlongs = {}
    for router in topo.routers:
        latlongs[router.name] = router.latlong
        entry: dict[str, Any] = {"name": router.name}
        if router.asn is not None:
            entry["asn"] = router.asn
        if router.latlong is not None:
            entry["latlong"] = list(router.latlong)
        lines.append(f"  - {_flow(entry)}")
    if topo.links:
        lines.append("links:")
    for link in topo.links:
        entry = {"ends": list(link.ends), **_params(link)}
        line = f"  - {_flow(entry)}"
        a, c = (latlongs[e] for e in link.ends)
        if a is not None and c is not None:
            km = great_circle_km(a, c)
            line += f"  # {_city_of(a)}-{_city_of(c)} {km:.0f} km"
        lines.append(line)
    lines.append("vps:")
    for vp in topo.vps:
        data = vp.model_dump(exclude_defaults=True, exclude={"uplink", "ipv4", "ipv6"})
        lines.append(f"  - name: {_flow(data.pop('name'))}")
        for key in ("ipv4", "ipv6"):
            if getattr(vp, key) is not None:
                lines.append(f"    {key}: {_flow(str(getattr(vp, key)))}")
        for key, value in sorted(data.items(), key=lambda kv: _VP_ORDER.index(kv[0])):
            shown = list(value) if isinstance(value, tuple) else value
            lines.append(f"    {key}: {_flow(shown)}")
        lines.append(f"    uplink: {_flow({'router': vp.uplink.router, **_params(vp.uplink)})}")
    if topo.targets:
        lines.append("targets:")
    for target in topo.targets:
        entry = {"name": target.name}
        for key in ("ipv4", "ipv6"):
            if getattr(target, key) is not None:
                entry[key] = str(getattr(target, key))
        entry["uplink"] = {"router": target.uplink.router, **_params(target.uplink)}
        lines.append(f"  - {_flow(entry)}")
    return "\n".join(lines) + "\n"


def _params(link: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if link.delay:
        out["delay"] = _ms(link.delay)
    if link.jitter:
        out["jitter"] = _ms(link.jitter)
    if link.loss:
        out["loss"] = f"{link.loss:g}%"
    if link.bandwidth is not None:
        out["bandwidth"] = f"{link.bandwidth:g}Mbit"
    return out
