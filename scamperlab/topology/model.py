"""The topology model: what a lab is made of, validated, with no side effects.

Field names follow Ark's vocabulary (monitor names, ``cc``, ``st``, ``place``,
``latlong``, ``asn4``...) so that what a user writes in a topology file is
what their script later reads from ``ScamperVp`` over the mux.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from scamperlab.topology.services import DnsAuthoritative, Service, Zone
from scamperlab.topology.units import DurationMs, Percent, RateMbit

# scamper only sends, and sc_remoted only accepts, monitor names made of these.
_MONITOR_NAME_RE = re.compile(r"^[A-Za-z0-9.-]{1,254}$")
_NODE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def _check_node_name(value: str) -> str:
    if not _NODE_NAME_RE.match(value):
        raise ValueError(
            "names use letters, digits, '.', '_' and '-', start with a letter or digit,"
            " and have at most 63 characters"
        )
    return value


def _parse_latlong(value: object) -> object:
    """Accept ``[lat, long]`` as well as Ark's own ``"lat,long"`` text."""
    if isinstance(value, str):
        parts = value.split(",")
        if len(parts) != 2:
            raise ValueError("latlong is 'lat,long' or [lat, long]")
        return [p.strip() for p in parts]
    return value


def _check_latlong_range(value: tuple[float, float] | None) -> tuple[float, float] | None:
    if value is not None and not (-90 <= value[0] <= 90 and -180 <= value[1] <= 180):
        raise ValueError("latitude must be within [-90, 90] and longitude within [-180, 180]")
    return value


LatLong = Annotated[tuple[float, float] | None, BeforeValidator(_parse_latlong)]


class _Strict(BaseModel):
    """Unknown keys are errors: a typo must not silently become a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LinkParams(_Strict):
    """How a link behaves; applied in both directions."""

    delay: DurationMs = 0.0
    jitter: DurationMs = 0.0
    loss: Percent = 0.0
    bandwidth: RateMbit | None = None

    @property
    def needs_netem(self) -> bool:
        return self.delay > 0 or self.jitter > 0 or self.loss > 0


# IPv6 needs 1280 bytes on every link (RFC 8200); the upper bound is a jumbo frame.
Mtu = Annotated[int, Field(ge=1280, le=9000)]


class Uplink(LinkParams):
    """The single link that attaches a VP or a target to a router."""

    router: str
    mtu: Mtu | None = None


IpidPolicy = Literal["kernel", "shared", "per-interface", "random", "zero"]


class IcmpRateLimit(_Strict):
    """A router's budget for the ICMP errors it originates (time exceeded, unreachable)."""

    rate: int = Field(ge=1, le=100000, description="ICMP errors per second")
    burst: int = Field(default=10, ge=1, le=100000)


class Router(_Strict):
    name: str
    asn: int | None = Field(default=None, ge=0, le=2**32 - 1)
    # Router behaviour (docs/routers.md); None means "as the topology's top-level ``ecmp``".
    ecmp: bool | None = None
    unresponsive: bool = False
    icmp_rate_limit: IcmpRateLimit | None = None
    ipid: IpidPolicy = "kernel"
    # Where the router is; only pictures use it (VPs carry their own latlong).
    latlong: LatLong = None

    _name = field_validator("name")(_check_node_name)
    _latlong = field_validator("latlong")(_check_latlong_range)


class _Host(_Strict):
    name: str
    uplink: Uplink
    ipv4: ipaddress.IPv4Address | None = None
    ipv6: ipaddress.IPv6Address | None = None


class VantagePoint(_Host):
    """A scamper VP, described with the metadata Ark serves for it over the mux."""

    rate: int | None = Field(default=None, ge=1, le=100000, description="scamper -p")
    cc: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")
    st: str | None = None
    place: str | None = None
    latlong: LatLong = None
    asn4: int | None = Field(default=None, ge=0, le=2**32 - 1)
    asn6: int | None = Field(default=None, ge=0, le=2**32 - 1)
    shortname: str | None = None
    iata: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    tags: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _monitor_name(cls, value: str) -> str:
        if not _MONITOR_NAME_RE.match(value):
            raise ValueError(
                "a VP name is its scamper monitor name: letters, digits, '.' and '-' only"
            )
        return value

    _latlong = field_validator("latlong")(_check_latlong_range)

    @field_validator("tags")
    @classmethod
    def _tags_are_words(cls, value: list[str]) -> list[str]:
        for tag in value:
            if not tag or any(c.isspace() for c in tag):
                raise ValueError(f"tag {tag!r} must be a non-empty word without spaces")
        return value


class Target(_Host):
    """A host that measurements aim at, and that may run servers (see ``services``)."""

    services: list[Service] = Field(default_factory=list)

    _name = field_validator("name")(_check_node_name)


def _parse_cost(value: object) -> object:
    """``cost: 10`` is both directions; ``cost: [10, 30]`` is ends[0]->ends[1], then back."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (value, value)
    return value


class Link(LinkParams):
    """A link between two routers."""

    ends: tuple[str, str]
    mtu: Mtu | None = None
    cost: Annotated[
        tuple[Annotated[float, Field(gt=0)], Annotated[float, Field(gt=0)]] | None,
        BeforeValidator(_parse_cost),
    ] = None


class Controller(_Strict):
    """Where sc_remoted runs; VPs reach it over a management network of their own."""

    port: int = Field(default=31337, ge=1, le=65535)
    # Also run an OpenSSH server there, as Ark's controller host (see docs/deploy.md).
    ssh: bool = False
    # The one group, besides the lab's owner, that may use its mux and VP sockets
    # (sc_remoted's -O allowgroup on Ark); see docs/cli.md#who-may-use-a-lab.
    group: str | None = Field(default=None, min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class Defaults(_Strict):
    rate: int = Field(default=100, ge=1, le=100000, description="scamper -p for every VP")
    standins: bool = Field(
        default=True,
        description="let the lab perform what the VPs' scamper lacks (docs/standins.md)",
    )


class Topology(_Strict):
    """A whole lab. Cross-references are checked by :mod:`scamperlab.topology.checks`."""

    name: str
    description: str = ""
    defaults: Defaults = Defaults()
    controller: Controller = Controller()
    routers: list[Router] = Field(min_length=1)
    vps: list[VantagePoint] = Field(min_length=1)
    targets: list[Target] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    zones: list[Zone] = Field(default_factory=list)
    # Keep every equal-cost path as a multipath route (routers may override it).
    ecmp: bool = False

    _name = field_validator("name")(_check_node_name)

    def router(self, name: str) -> Router | None:
        return next((r for r in self.routers if r.name == name), None)

    def ecmp_at(self, router: str) -> bool:
        found = self.router(router)
        if found is None or found.ecmp is None:
            return self.ecmp
        return found.ecmp

    def vp_rate(self, vp: VantagePoint) -> int:
        return vp.rate if vp.rate is not None else self.defaults.rate

    def zone_servers(self) -> dict[str, list[tuple[str, DnsAuthoritative]]]:
        """Each zone's servers as (target name, service), in file order."""
        servers: dict[str, list[tuple[str, DnsAuthoritative]]] = {}
        for target in self.targets:
            for service in target.services:
                if isinstance(service, DnsAuthoritative):
                    for zone in service.zones:
                        servers.setdefault(zone, []).append((target.name, service))
        return servers


NodeKind = Literal["router", "vp", "target"]
