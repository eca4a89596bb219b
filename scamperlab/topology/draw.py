"""Pictures of topologies: ``scamperlab draw TOPO -o topo.png|svg``.

Layout is geographic where the file allows it: a router with a ``latlong``,
or whose VPs all sit in one place, is drawn there (longitude across,
latitude up), and the other routers settle between their neighbours by a
seeded spring layout. A file without any coordinates gets a plain seeded
spring layout. Hosts (VPs, targets) are drawn around their router rather
than at their own coordinates, so that an access router and its VP in the
same city do not hide each other.

Why matplotlib and not graphviz: we tried ``neato`` on ark-mini and ``sfdp``
on a 100-VP synthetic Internet. neato's ark-mini is tidy, but it places
continents anywhere (Johannesburg between London and Frankfurt), which hides
the very thing the delays come from; sfdp's large graph was a hairball. It
would also add a system package and a Python binding, while networkx is a
dependency already and matplotlib one pip extra away (``scamperlab[draw]``).

Deterministic: the same file gives the same bytes (fixed seeds, no
timestamps, fixed SVG ids). Headless and free of global state: no pyplot,
only a :class:`~matplotlib.figure.Figure` with its own Agg canvas, and
rcParams changed only inside a context.

``python -m scamperlab.topology.draw --all`` redraws every file in
``topologies/`` for the docs; see :func:`draw_library`.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import networkx as nx

from scamperlab.errors import ScamperlabError, needs_extra

with needs_extra("draw", "scamperlab draw"):
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

from scamperlab.topology.cities import great_circle_km
from scamperlab.topology.loader import load_topology
from scamperlab.topology.model import Topology

FORMATS = ("png", "svg")
# Above these counts, labels would overlap into noise; the legend and colours remain.
MAX_ROUTER_LABELS = 40
MAX_DELAY_LABELS = 60
# Hosts whose VPs are further apart than this do not pin their router.
_SAME_PLACE_KM = 300.0
_SEED = 7

Point = tuple[float, float]


def _geo(latlong: tuple[float, float]) -> Point:
    return (latlong[1], latlong[0])


def _graph(topo: Topology) -> nx.Graph:
    graph: nx.Graph = nx.Graph()
    for router in topo.routers:
        graph.add_node(router.name, kind="router")
    for link in topo.links:
        graph.add_edge(*link.ends, delay=link.delay, uplink=False)
    for kind, hosts in (("vp", topo.vps), ("target", topo.targets)):
        for host in hosts:
            graph.add_node(host.name, kind=kind)
            graph.add_edge(host.uplink.router, host.name, delay=host.uplink.delay, uplink=True)
    return graph


def _router_anchors(topo: Topology) -> dict[str, Point]:
    anchors: dict[str, Point] = {}
    placed: dict[str, list[tuple[float, float]]] = {}
    for vp in topo.vps:
        if vp.latlong is not None:
            placed.setdefault(vp.uplink.router, []).append(vp.latlong)
    for router in topo.routers:
        if router.latlong is not None:
            anchors[router.name] = _geo(router.latlong)
        elif router.name in placed:
            spots = placed[router.name]
            if all(great_circle_km(a, b) <= _SAME_PLACE_KM for a, b in itertools.pairwise(spots)):
                lat = sum(p[0] for p in spots) / len(spots)
                lon = sum(p[1] for p in spots) / len(spots)
                anchors[router.name] = (lon, lat)
    return anchors


def _spread(points: dict[str, Point], radius: float) -> dict[str, Point]:
    """Move nodes that share a spot onto a small circle around it, in name order."""
    groups: dict[Point, list[str]] = {}
    for name, (x, y) in sorted(points.items()):
        groups.setdefault((round(x, 3), round(y, 3)), []).append(name)
    out = dict(points)
    for (x, y), names in groups.items():
        if len(names) > 1:
            for i, name in enumerate(names):
                angle = 2 * math.pi * i / len(names) + math.pi / 2
                out[name] = (x + radius * math.cos(angle), y + radius * math.sin(angle))
    return out


def layout(topo: Topology) -> tuple[dict[str, Point], bool]:
    """Every node's position, and whether the axes are longitude and latitude."""
    graph = _graph(topo)
    routers = graph.subgraph(r.name for r in topo.routers)
    anchors = _router_anchors(topo)
    geographic = bool(anchors)
    if geographic:
        span = 360.0
        pos: dict[str, Point] = _spread(anchors, radius=2.5)
        free = [r.name for r in topo.routers if r.name not in anchors]
        if free:
            for name in free:  # start between the placed neighbours, if any
                near = [pos[n] for n in routers.neighbors(name) if n in pos]
                pos[name] = (
                    (sum(p[0] for p in near) / len(near), sum(p[1] for p in near) / len(near))
                    if near
                    else (0.0, 0.0)
                )
            result = nx.spring_layout(
                routers,
                pos=pos,
                fixed=sorted(anchors) or None,
                k=12.0,
                seed=_SEED,
                iterations=200,
                weight=None,
            )
            pos = {n: (float(p[0]), float(p[1])) for n, p in result.items()}
    else:
        span = 2.0
        result = nx.spring_layout(routers, seed=_SEED, iterations=200, weight=None)
        pos = {n: (float(p[0]), float(p[1])) for n, p in result.items()}

    # Hosts around their router, facing away from the router's other links.
    radius = span * (0.018 if geographic else 0.06)
    hosts: dict[str, list[str]] = {}
    for host in [*topo.vps, *topo.targets]:
        hosts.setdefault(host.uplink.router, []).append(host.name)
    for router, names in hosts.items():
        rx, ry = pos[router]
        others = [pos[n] for n in routers.neighbors(router)]
        if others:
            ox = sum(p[0] for p in others) / len(others) - rx
            oy = sum(p[1] for p in others) / len(others) - ry
            away = math.atan2(-oy, -ox) if (ox or oy) else math.pi / 2
        else:
            away = math.pi / 2
        fan = min(math.pi * 1.5, 0.6 * (len(names) - 1))
        for i, name in enumerate(names):
            angle = away - fan / 2 + (fan * i / (len(names) - 1) if len(names) > 1 else 0.0)
            pos[name] = (rx + radius * math.cos(angle), ry + radius * math.sin(angle))
    return pos, geographic


def _short(name: str) -> str:
    return name.removesuffix(".example")


def _fmt_ms(ms: float) -> str:
    return f"{ms:.0f}" if ms >= 10 else f"{ms:.2g}"


def draw_topology(topo: Topology, output: str | Path, title: str | None = None) -> Path:
    """Render ``topo`` to ``output`` (``.png`` or ``.svg``); nothing else is written."""
    output = Path(output)
    fmt = output.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ScamperlabError(f"cannot draw to {output}: the file name must end in .png or .svg")
    graph = _graph(topo)
    pos, geographic = layout(topo)
    n_nodes = graph.number_of_nodes()
    scale = min(2.2, max(1.0, math.sqrt(n_nodes / 60)))
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    margin = 0.06 * max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    width = 12 * scale
    height = width * 0.56
    if geographic:  # as tall as the map needs, plus the title
        ratio = (max(ys) - min(ys) + 2 * margin) / (max(xs) - min(xs) + 2 * margin)
        height = min(width, max(5.0, 0.78 * width * ratio + 1.2))
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(title if title is not None else _title(topo), fontsize=12)
    ax.set_xlim(min(xs) - margin, max(xs) + margin)
    ax.set_ylim(min(ys) - margin, max(ys) + margin)
    if geographic:
        ax.set_aspect("equal", adjustable="box")
    if geographic:
        ax.set_xlabel("longitude")
        ax.set_ylabel("latitude")
        ax.grid(True, color="#e6e6e6", linewidth=0.6)
        ax.set_axisbelow(True)
    else:
        ax.set_xticks([])
        ax.set_yticks([])

    delays = [d for _, _, d in graph.edges(data="delay")]
    norm = Normalize(vmin=0.0, vmax=max([1.0, *delays]))
    cmap = matplotlib.colormaps["viridis_r"]
    edges = sorted(graph.edges(data=True), key=lambda e: (e[2]["uplink"], e[0], e[1]))
    for a, b, data in edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        ax.plot(
            [xa, xb],
            [ya, yb],
            color=cmap(norm(data["delay"])),
            linewidth=0.8 if data["uplink"] else 1.8,
            zorder=1,
            solid_capstyle="round",
        )
    core_links = [e for e in edges if not e[2]["uplink"]]
    # Too many to label them all: the longest lines have room for a label.
    longest = sorted(core_links, key=lambda e: (-e[2]["delay"], e[0], e[1]))
    labelled = [e for e in longest[:MAX_DELAY_LABELS] if e[2]["delay"] >= 10]
    if len(core_links) <= MAX_DELAY_LABELS:
        labelled = core_links
    if len(graph.edges) <= MAX_DELAY_LABELS // 2:
        labelled = edges
    for a, b, data in labelled:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        ax.text(
            (xa + xb) / 2,
            (ya + yb) / 2,
            _fmt_ms(data["delay"]),
            fontsize=6.5,
            ha="center",
            va="center",
            color="#333333",
            zorder=4,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
        )

    fig.colorbar(
        matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap),
        ax=ax,
        shrink=0.5,
        pad=0.01,
        label="one-way link delay (ms)" + ("; labels in ms" if labelled else ""),
    )

    # Routers: grey squares; labelled while there are few enough to read.
    router_xy = [pos[r.name] for r in topo.routers]
    ax.scatter(
        [p[0] for p in router_xy],
        [p[1] for p in router_xy],
        marker="s",
        s=40,
        c="#bdbdbd",
        edgecolors="#555555",
        linewidths=0.6,
        zorder=2,
    )
    if len(topo.routers) <= MAX_ROUTER_LABELS:
        for r in topo.routers:
            x, y = pos[r.name]
            ax.annotate(
                r.name,
                (x, y),
                xytext=(0, -9),
                textcoords="offset points",
                fontsize=6,
                color="#555555",
                ha="center",
                va="top",
                zorder=5,
            )

    # VPs coloured by country.
    countries = sorted({vp.cc.upper() for vp in topo.vps if vp.cc})
    palette = matplotlib.colormaps["tab20"]
    colour = {cc: palette(i % 20) for i, cc in enumerate(countries)}
    handles: list[Any] = []
    for cc in [*countries, None]:
        members = [vp for vp in topo.vps if (vp.cc.upper() if vp.cc else None) == cc]
        if not members:
            continue
        ax.scatter(
            [pos[vp.name][0] for vp in members],
            [pos[vp.name][1] for vp in members],
            marker="o",
            s=70,
            c=[colour[cc] if cc else "white"],
            edgecolors="black",
            linewidths=0.7,
            zorder=3,
        )
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markersize=8,
                markerfacecolor=colour[cc] if cc else "white",
                markeredgecolor="black",
                label=f"VP {cc or 'no cc'} ({len(members)})",
            )
        )
    for vp in topo.vps:
        x, y = pos[vp.name]
        ax.annotate(
            vp.shortname or _short(vp.name),
            (x, y),
            xytext=(0, 6),
            textcoords="offset points",
            fontsize=7,
            ha="center",
            va="bottom",
            zorder=5,
        )

    if topo.targets:
        ax.scatter(
            [pos[t.name][0] for t in topo.targets],
            [pos[t.name][1] for t in topo.targets],
            marker="*",
            s=140,
            c="#d62728",
            edgecolors="black",
            linewidths=0.5,
            zorder=3,
        )
        for t in topo.targets:
            x, y = pos[t.name]
            ax.annotate(
                _short(t.name),
                (x, y),
                xytext=(0, 7),
                textcoords="offset points",
                fontsize=7,
                color="#a01010",
                ha="center",
                va="bottom",
                zorder=5,
            )
    handles += [
        Line2D([], [], marker="s", linestyle="", markersize=7, markerfacecolor="#bdbdbd",
               markeredgecolor="#555555", label=f"router ({len(topo.routers)})"),
        Line2D([], [], marker="*", linestyle="", markersize=11, markerfacecolor="#d62728",
               markeredgecolor="black", label=f"target ({len(topo.targets)})"),
    ]  # fmt: skip
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=7,
        ncols=1 + len(handles) // 30,
        frameon=False,
    )

    output.parent.mkdir(parents=True, exist_ok=True)
    metadata: dict[str, str | None] = (
        {"Date": None, "Creator": "scamperlab"} if fmt == "svg" else {"Software": "scamperlab"}
    )
    with matplotlib.rc_context({"svg.hashsalt": "scamperlab", "svg.fonttype": "none"}):
        fig.savefig(output, format=fmt, metadata=metadata)
    return output


def _title(topo: Topology) -> str:
    text = (
        f"{topo.name}: {len(topo.vps)} VPs, {len(topo.routers)} routers,"
        f" {len(topo.targets)} targets, {len(topo.links)} links"
    )
    return f"{text}\n{topo.description}" if topo.description else text


# -- the topology library, for the docs ---------------------------------------

LIBRARY = Path("topologies")
PICTURES = Path("docs/img/topologies")
PAGE = Path("docs/topologies.md")
REDRAW = "python -m scamperlab.topology.draw --all"


def library_files(library: Path = LIBRARY) -> list[Path]:
    """Every topology file in the library, subdirectories included, in a stable order."""
    return sorted(p for p in library.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def picture_stem(path: Path, library: Path = LIBRARY) -> str:
    """``topologies/fakeroute/a.yaml`` -> ``fakeroute--a``: one flat directory of pictures."""
    return "--".join(path.relative_to(library).with_suffix("").parts)


def content_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stale_pictures(
    library: Path = LIBRARY, pictures: Path = PICTURES, page: Path = PAGE
) -> list[str]:
    """What is missing or out of date, one line each; empty when everything is current."""
    problems = []
    for path in library_files(library):
        stem = picture_stem(path, library)
        png, sha = pictures / f"{stem}.png", pictures / f"{stem}.sha256"
        if not png.exists() or not sha.exists():
            problems.append(f"{path}: no picture {png}")
        elif sha.read_text().split()[0] != content_hash(path):
            problems.append(f"{path}: changed since {png} was drawn")
    if page.exists():
        if page.read_text(encoding="utf-8") != library_page(library, pictures, page):
            problems.append(f"{page}: does not list the library as it is")
    else:
        problems.append(f"{page}: missing")
    return problems


def _header_comment(path: Path) -> str:
    """The file's leading ``#`` comment block: its authors' own description."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:].strip())
    return "\n".join(lines).strip()


def library_page(library: Path = LIBRARY, pictures: Path = PICTURES, page: Path = PAGE) -> str:
    """The Markdown of the library page: one section per file, with its picture."""
    out = [
        "# Topology library",
        "",
        f"<!-- Generated by `{REDRAW}` from the files in `{library}/`; do not edit. -->",
        "",
        f"Ready-made topologies in `{library}/`. Each can be used as is",
        f"(`sudo scamperlab up {library}/NAME.yaml`) or copied and edited; the",
        "format is described in [Topology files](topology.md). Pictures show VPs",
        "coloured by country, routers as grey squares, targets as red stars, and",
        "links coloured (and, when few enough, labelled) by their one-way delay.",
        "",
        "Larger synthetic Internets come from `scamperlab generate`",
        "([Command line](cli.md#generate)). After adding or changing a file here,",
        f"redraw the pictures and this page with `{REDRAW}`.",
        "",
    ]
    rel = Path(os.path.relpath(pictures, page.parent))
    for path in library_files(library):
        topo = load_topology(path)
        stem = picture_stem(path, library)
        out += [f"## {path.relative_to(library)}", ""]
        comment = _header_comment(path)
        if comment:
            out += ["```text", comment, "```", ""]
        elif topo.description:
            out += [topo.description, ""]
        out += [
            f"{len(topo.vps)} VPs, {len(topo.routers)} routers, {len(topo.targets)} targets,"
            f" {len(topo.links)} router links.",
            "",
            f"![{topo.name}]({rel.as_posix()}/{stem}.png)",
            "",
        ]
    return "\n".join(out)


def draw_library(
    library: Path = LIBRARY, pictures: Path = PICTURES, page: Path = PAGE, force: bool = False
) -> list[Path]:
    """Redraw what is stale (or everything, with ``force``), record hashes, rewrite the page."""
    written = []
    files = library_files(library)
    if not files:
        raise ScamperlabError(f"no topology files (*.yaml) in {library}/")
    keep = set()
    for path in files:
        stem = picture_stem(path, library)
        png, sha = pictures / f"{stem}.png", pictures / f"{stem}.sha256"
        keep |= {png.name, sha.name}
        digest = content_hash(path)
        current = png.exists() and sha.exists() and sha.read_text().split()[0] == digest
        if current and not force:
            continue
        draw_topology(load_topology(path), png)
        sha.write_text(f"{digest}  {path.as_posix()}\n")
        written.append(png)
    for old in sorted(pictures.glob("*")):  # pictures of files that are gone
        if old.suffix in (".png", ".sha256") and old.name not in keep:
            old.unlink()
    text = library_page(library, pictures, page)
    if not page.exists() or page.read_text(encoding="utf-8") != text:
        page.write_text(text, encoding="utf-8")
        written.append(page)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scamperlab.topology.draw",
        description="Draw topology files; --all redraws the library's pictures for the docs.",
    )
    parser.add_argument("topology", nargs="?", help="a topology file")
    parser.add_argument("-o", "--output", help="picture to write (.png or .svg)")
    parser.add_argument(
        "--all",
        action="store_true",
        help=f"redraw {PICTURES}/ and {PAGE} from {LIBRARY}/ (run from the repository root)",
    )
    parser.add_argument(
        "--force", action="store_true", help="with --all: redraw even current pictures"
    )
    args = parser.parse_args(argv)
    try:
        if args.all:
            for path in draw_library(force=args.force):
                print(f"wrote {path}")
            return 0
        if not args.topology or not args.output:
            parser.error("give a TOPOLOGY and -o OUTPUT, or --all")
        draw_topology(load_topology(args.topology), args.output)
    except ScamperlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
