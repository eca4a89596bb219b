"""A VP's Ark metadata, as mux attributes and as sc_remoted's ``-m`` file.

Both forms come from the same topology entry, so a lab served by
scamperlab's mux and one served by a modern sc_remoted announce the same VPs
with the same metadata.
"""

from __future__ import annotations

from collections.abc import Iterable

from scamperlab.topology.model import VantagePoint
from scamperlab.wire.mux import Attr

_FILE_KEYS = {
    Attr.ASN4: "asn4",
    Attr.ASN6: "asn6",
    Attr.LATLONG: "latlong",
    Attr.CC: "cc",
    Attr.ST: "st",
    Attr.PLACE: "place",
    Attr.SHORTNAME: "shortname",
    Attr.IATA: "iata",
    Attr.TAG: "tag",
}


def vp_attrs(vp: VantagePoint, ipv6: str | None = None) -> list[tuple[Attr, str]]:
    """Metadata attributes in sc_remoted's order (name, arrival and ipv4 are added live)."""
    attrs: list[tuple[Attr, str]] = []
    if ipv6 is not None:
        attrs.append((Attr.IPV6, ipv6))
    if vp.asn4 is not None:
        attrs.append((Attr.ASN4, str(vp.asn4)))
    if vp.asn6 is not None:
        attrs.append((Attr.ASN6, str(vp.asn6)))
    if vp.latlong is not None:
        attrs.append((Attr.LATLONG, f"{vp.latlong[0]!r},{vp.latlong[1]!r}"))
    for code, value in (
        (Attr.CC, vp.cc),
        (Attr.ST, vp.st),
        (Attr.PLACE, vp.place),
        (Attr.SHORTNAME, vp.shortname),
        (Attr.IATA, vp.iata),
    ):
        if value is not None:
            attrs.append((code, value))
    attrs += [(Attr.TAG, tag) for tag in vp.tags]
    return attrs


def metadata_file(vps: Iterable[tuple[VantagePoint, list[tuple[Attr, str]]]]) -> str:
    """The text of sc_remoted's ``-m`` file: ``<monitor> <attribute> <value>`` per line."""
    lines = ["# written by scamperlab from the lab's topology file"]
    for vp, attrs in vps:
        for code, value in attrs:
            key = _FILE_KEYS.get(code)
            if key is not None:
                lines.append(f"{vp.name} {key} {value}")
    return "\n".join(lines) + "\n"
