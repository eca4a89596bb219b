"""Services that targets run (DNS, HTTP(S), UDP) and the DNS zones they serve.

A target lists its ``services``; the zones' data lives once, at the top
level (``zones:``), because several nameservers serve one zone. What a
real operator writes by hand and can get wrong (SOA, apex NS records,
delegations in the parent, glue) is derived from which server serves which
zone, so the DNS a lab serves is always a consistent tree that a resolver
can walk from the root.

Records are written as zone-file lines (``"www A 203.0.113.80"``) and are
checked here, without root and without any DNS software, so that a mistake
is reported with its file, line and field like any other.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from scamperlab.topology.addresses import ALLOWED_V4, ALLOWED_V6

_LABEL_RE = re.compile(r"^(?:\*|[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)$")

# Record types a zone may hold. NS and SOA are derived (see the module docstring).
RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "PTR", "SRV", "TXT")
DERIVED_TYPES = ("NS", "SOA")


def domain_name(value: str) -> str:
    """Lower case and fully qualified (``lab.example.``); ``.`` is the root."""
    if not isinstance(value, str):  # pragma: no cover - pydantic checks the type first
        raise ValueError("a domain name is text")
    name = value.strip().lower()
    if name == ".":
        return name
    if not name or name.startswith(".") or ".." in name:
        raise ValueError(f"{value!r} is not a domain name")
    labels = name.rstrip(".").split(".")
    for label in labels:
        if not _LABEL_RE.match(label):
            raise ValueError(
                f"{value!r} is not a domain name: label {label!r} must be 1-63 letters,"
                " digits, '-' or '_' (not starting or ending with '-')"
            )
    if "*" in labels[1:]:
        raise ValueError(f"{value!r}: '*' is only allowed as the first label")
    if len(name.rstrip(".")) > 253:
        raise ValueError(f"{value!r} is longer than 253 characters")
    return name.rstrip(".") + "."


DomainName = Annotated[str, AfterValidator(domain_name)]


def is_within(name: str, zone: str) -> bool:
    """Whether ``name`` is ``zone`` or below it (both fully qualified)."""
    return zone == "." or name == zone or name.endswith("." + zone)


def absolute(name: str, origin: str) -> str:
    """A name from a zone-file line, made fully qualified against ``origin``."""
    if name == "@":
        return origin
    if name.endswith("."):
        return domain_name(name)
    return domain_name(name + ("." + origin if origin != "." else "."))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Record:
    """One resource record as written, syntax-checked; names stay as written."""

    owner: str
    ttl: int | None
    rtype: str
    rdata: tuple[str, ...]
    text: str


def _lab_address(text: str, version: int) -> str:
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an IPv{version} address") from None
    if addr.version != version:
        raise ValueError(f"{text!r} is not an IPv{version} address")
    allowed = ALLOWED_V4 if version == 4 else ALLOWED_V6
    if not any(addr in net for net in allowed):
        ranges = ", ".join(str(n) for n in allowed)
        raise ValueError(f"{addr} is outside the lab ranges ({ranges})")
    return str(addr)


def _name_field(text: str) -> str:
    if text != "@":
        domain_name(text)
    return text


def _u16(text: str, what: str) -> str:
    if not text.isdigit() or int(text) > 65535:
        raise ValueError(f"{what} must be an integer 0-65535, got {text!r}")
    return str(int(text))


def parse_record(text: str) -> Record:
    """``OWNER [TTL] [IN] TYPE RDATA...``, as in a zone file (one line, no comments)."""
    if not isinstance(text, str):
        raise ValueError("a record is one zone-file line, e.g. 'www A 203.0.113.80'")
    try:
        tokens = shlex.split(text, posix=True)
    except ValueError as exc:
        raise ValueError(f"cannot split {text!r}: {exc}") from None
    if len(tokens) < 3:
        raise ValueError(f"expected 'OWNER [TTL] TYPE DATA', got {text!r}")
    owner = _name_field(tokens[0])
    rest = tokens[1:]
    ttl = None
    if rest and rest[0].isdigit():
        ttl = int(rest.pop(0))
        if ttl > 2**31 - 1:
            raise ValueError(f"TTL {ttl} is too large")
    if rest and rest[0].upper() == "IN":
        rest.pop(0)
    if not rest:
        raise ValueError(f"no record type in {text!r}")
    rtype = rest.pop(0).upper()
    if rtype in DERIVED_TYPES:
        raise ValueError(
            f"{rtype} records are derived from the servers that serve each zone;"
            " list the zone in a dns-authoritative service instead"
        )
    if rtype not in RECORD_TYPES:
        raise ValueError(f"record type {rtype!r} is not supported (use {', '.join(RECORD_TYPES)})")
    arity = {"A": 1, "AAAA": 1, "CNAME": 1, "PTR": 1, "MX": 2, "SRV": 4}
    if rtype in arity and len(rest) != arity[rtype]:
        raise ValueError(f"{rtype} takes {arity[rtype]} value(s), got {len(rest)} in {text!r}")
    if rtype == "A":
        rest = [_lab_address(rest[0], 4)]
    elif rtype == "AAAA":
        rest = [_lab_address(rest[0], 6)]
    elif rtype in ("CNAME", "PTR"):
        _name_field(rest[0])
    elif rtype == "MX":
        rest = [_u16(rest[0], "MX preference"), _name_field(rest[1])]
    elif rtype == "SRV":
        fields = ("priority", "weight", "port")
        rest = [*(_u16(v, f"SRV {w}") for v, w in zip(rest[:3], fields, strict=True)), rest[3]]
        _name_field(rest[3])
    elif rtype == "TXT":
        if not rest:
            raise ValueError("TXT needs at least one string")
        for part in rest:
            if len(part.encode()) > 255:
                raise ValueError("each TXT string is at most 255 bytes; split it in several")
    return Record(owner, ttl, rtype, tuple(rest), text)


class Zone(_Strict):
    """A zone's own data; SOA, apex NS, delegations and glue are added to it."""

    name: DomainName
    ttl: int = Field(default=300, ge=0, le=2**31 - 1, description="default TTL of its records")
    records: list[Annotated[str, AfterValidator(lambda t: parse_record(t).text)]] = Field(
        default_factory=list
    )

    def parsed(self) -> list[Record]:
        return [parse_record(text) for text in self.records]


class DnsAuthoritative(_Strict):
    """An authoritative nameserver (NSD) for some of the file's ``zones``."""

    kind: Literal["dns-authoritative"]
    hostname: DomainName = Field(description="its name in NS records, e.g. ns1.lab.example.")
    zones: list[DomainName] = Field(min_length=1)


class DnsResolver(_Strict):
    """A recursive resolver (Unbound) that walks the lab's DNS from its root."""

    kind: Literal["dns-resolver"]


class Http(_Strict):
    """A web server answering ``GET /`` with ``body``."""

    kind: Literal["http"]
    port: int = Field(default=80, ge=1, le=65535)
    body: str | None = None


class Https(_Strict):
    """A web server with a certificate from the lab's own CA."""

    kind: Literal["https"]
    port: int = Field(default=443, ge=1, le=65535)
    body: str | None = None
    names: list[DomainName] = Field(
        default_factory=list,
        description="extra names for the certificate (names whose A/AAAA point here are added)",
    )


class UdpEcho(_Strict):
    """Answers every UDP datagram: with the datagram itself, or with ``reply``."""

    kind: Literal["udp-echo"]
    port: int = Field(default=7, ge=1, le=65535)
    reply: str | None = None

    @model_validator(mode="after")
    def _reply_fits(self) -> UdpEcho:
        if self.reply is not None and len(self.reply.encode()) > 65000:
            raise ValueError("reply must fit in one UDP datagram")
        return self


SERVICE_KINDS = ("dns-authoritative", "dns-resolver", "http", "https", "udp-echo")


def _known_kind(value: object) -> object:
    """Name the kinds that exist, instead of pydantic's words about discriminators."""
    if not isinstance(value, dict | BaseModel):
        raise ValueError("a service is a mapping with a 'kind', e.g. {kind: http}")
    if isinstance(value, dict) and value.get("kind") not in SERVICE_KINDS:
        kinds = ", ".join(SERVICE_KINDS)
        if "kind" not in value:
            raise ValueError(f"a service needs a 'kind': one of {kinds}")
        raise ValueError(f"unknown service kind {value['kind']!r}: use one of {kinds}")
    return value


Service = Annotated[
    DnsAuthoritative | DnsResolver | Http | Https | UdpEcho,
    Field(discriminator="kind"),
    BeforeValidator(_known_kind),
]


def service_ports(service: Service) -> list[tuple[str, int]]:
    """The (protocol, port) pairs a service listens on."""
    if isinstance(service, DnsAuthoritative | DnsResolver):
        return [("udp", 53), ("tcp", 53)]
    if isinstance(service, Http | Https):
        return [("tcp", service.port)]
    return [("udp", service.port)]


def parent_zone(zone: str, zones: list[str]) -> str | None:
    """The closest zone of ``zones`` strictly above ``zone``."""
    above = [z for z in zones if z != zone and is_within(zone, z)]
    return max(above, key=len, default=None)


def closest_zone(name: str, zones: list[str]) -> str | None:
    """The zone of ``zones`` that holds ``name``: the deepest that encloses it."""
    return max((z for z in zones if is_within(name, z)), key=len, default=None)
