"""What a site host allows a VP to send, and the packets that break it.

A policy is a YAML file validated like a topology file: an error names the
file, the line and the field (``policy.yaml:4: max_rate: ...``), so a CI job
that fails on a bad policy says where to look. Every rule applies to each
VP separately; link-layer housekeeping (ARP, IPv6 neighbour discovery) is
never a violation, since no measurement script can avoid it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from scamperlab.audit.analyse import SentPacket, VpTraffic, window_members
from scamperlab.errors import ScamperlabError
from scamperlab.topology.checks import fmt_loc
from scamperlab.topology.loader import _line_of, _UniqueKeyLoader


def _prefix(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an address prefix ({exc})") from None


def _rate(value: Any) -> int | str:
    if value == "budget" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return value  # type: ignore[no-any-return]
    raise ValueError(
        f"expected packets per second (an integer of at least 1) or 'budget', not {value!r}"
    )


Prefix = Annotated[ipaddress.IPv4Network | ipaddress.IPv6Network, BeforeValidator(_prefix)]
Protocol = Literal["icmp", "icmpv6", "udp", "tcp"]
Measurement = Literal["ping", "trace", "dns", "http", "udp", "tcp"]


class PolicyError(ScamperlabError):
    """A policy file is malformed; names the file, the line and the field."""

    def __init__(self, path: str, line: int | None, field: str | None, message: str) -> None:
        self.path, self.line, self.field, self.message = path, line, field, message
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


class Policy(BaseModel):
    """Every field is optional: a rule left out is not checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str | None = None
    destinations: list[Prefix] | None = Field(
        default=None, description="prefixes a VP may send to; anything else is a violation"
    )
    forbidden_destinations: list[Prefix] = Field(
        default_factory=list, description="prefixes never to send to, even inside an allowed one"
    )
    protocols: list[Protocol] | None = None
    measurements: list[Measurement] | None = None
    max_rate: Annotated[int | Literal["budget"], BeforeValidator(_rate)] | None = Field(
        default=None, description="packets per 1-s window, per VP; 'budget' is the VP's -p"
    )
    max_packets_per_destination: int | None = Field(default=None, ge=1)
    allow_unattributed: bool = Field(
        default=True, description="whether packets no scamper task explains are acceptable"
    )

    def rate_limit(self, vp: VpTraffic) -> int | None:
        return vp.budget_pps if self.max_rate == "budget" else self.max_rate


def load_policy(path: str | Path) -> Policy:
    """Parse and validate ``path``; raise :class:`PolicyError` naming file, line and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(
            str(path), None, None, f"cannot read policy file: {exc.strerror}"
        ) from exc
    return parse_policy(text, str(path))


def parse_policy(text: str, filename: str = "<policy>") -> Policy:
    try:
        root = yaml.compose(text, Loader=_UniqueKeyLoader)
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise PolicyError(
            filename, mark.line + 1 if mark else None, None, f"not valid YAML: {exc.problem}"
        ) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PolicyError(filename, 1, None, "a policy file is a mapping (destinations, max_rate…)")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
            # For unions pydantic adds the member's name to the path; keep what the file has.
            while loc and isinstance(loc[-1], str) and loc[-1] not in _field_names(data, loc[:-1]):
                loc = loc[:-1]
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = f"unknown field (known: {', '.join(Policy.model_fields)})"
            problems.append((_line_of(root, loc) or 0, loc, msg))
        # The first problem in the file, as a reader would meet it.
        line, loc, msg = min(problems, key=lambda p: p[0])
        more = len(problems) - 1
        if more:
            msg += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise PolicyError(filename, line or None, fmt_loc(loc) or None, msg) from None


def _field_names(data: Any, loc: tuple[str | int, ...]) -> set[str]:
    node = data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return set()
    return set(node) if isinstance(node, dict) else set()


# -- checking ---------------------------------------------------------------------------


@dataclass
class Violation:
    """One rule one VP broke, with every offending packet."""

    vp: str
    rule: str
    message: str
    packets: list[SentPacket] = field(default_factory=list)

    def to_json(self, t0: float, max_packets: int = 1000) -> dict[str, Any]:
        return {
            "vp": self.vp,
            "rule": self.rule,
            "message": self.message,
            "count": len(self.packets),
            "packets": [p.to_json(t0) for p in self.packets[:max_packets]],
        }


def _inside(addr: str, prefixes: list[Prefix]) -> bool:
    ip = ipaddress.ip_address(addr)
    return any(ip.version == net.version and ip in net for net in prefixes)


def _few(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def check(policy: Policy, vp: VpTraffic) -> list[Violation]:
    """Every rule of ``policy`` that ``vp`` broke."""
    found: list[Violation] = []
    probes = vp.probes  # link-layer housekeeping is exempt from every rule

    def add(rule: str, message: str, packets: list[SentPacket]) -> None:
        if packets:
            found.append(Violation(vp.name, rule, message, packets))

    addressed = [p for p in probes if p.dst is not None]
    if policy.destinations is not None:
        allowed = policy.destinations
        bad = [p for p in addressed if p.dst is not None and not _inside(p.dst, allowed)]
        dsts = sorted({str(p.dst) for p in bad})
        add(
            "destinations",
            f"{len(bad)} packet(s) to {_few(dsts)}, outside the allowed destinations",
            bad,
        )
    if policy.forbidden_destinations:
        forbidden = policy.forbidden_destinations
        bad = [p for p in addressed if p.dst is not None and _inside(p.dst, forbidden)]
        dsts = sorted({str(p.dst) for p in bad})
        add(
            "forbidden_destinations",
            f"{len(bad)} packet(s) to {_few(dsts)}, inside a forbidden prefix",
            bad,
        )
    if policy.protocols is not None:
        bad = [p for p in probes if p.protocol not in policy.protocols]
        names = sorted({p.protocol for p in bad})
        add("protocols", f"{len(bad)} packet(s) over {', '.join(names)}, not allowed", bad)
    if policy.measurements is not None:
        bad = [p for p in probes if p.attributed and p.kind not in policy.measurements]
        names = sorted({p.kind for p in bad})
        add("measurements", f"{len(bad)} packet(s) of {', '.join(names)}, not allowed", bad)
    if not policy.allow_unattributed:
        bad = [p for p in probes if not p.attributed]
        names = sorted({p.kind for p in bad})
        add(
            "allow_unattributed",
            f"{len(bad)} packet(s) not attributable to a scamper task ({', '.join(names)})",
            bad,
        )
    limit = policy.rate_limit(vp)
    if limit is not None and vp.started is not None:
        bad = []
        worst = 0
        for _window, members in sorted(window_members(probes, vp.started).items()):
            if len(members) > limit:
                bad += members[limit:]
                worst = max(worst, len(members))
        what = f"the VP's budget of {limit}" if policy.max_rate == "budget" else f"{limit}"
        add(
            "max_rate",
            f"up to {worst} packets in a 1-s window, over {what} pkt/s;"
            f" {len(bad)} packet(s) beyond the limit",
            bad,
        )
    if policy.max_packets_per_destination is not None:
        cap = policy.max_packets_per_destination
        seen: dict[str, int] = {}
        bad = []
        for p in addressed:
            assert p.dst is not None
            seen[p.dst] = seen.get(p.dst, 0) + 1
            if seen[p.dst] > cap:
                bad.append(p)
        over = sorted(d for d, n in seen.items() if n > cap)
        add(
            "max_packets_per_destination",
            f"more than {cap} packets to {_few(over)} ({len(bad)} beyond the limit)",
            bad,
        )
    return found
