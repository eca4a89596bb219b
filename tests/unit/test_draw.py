"""scamperlab draw, and the library pictures the docs embed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from scamperlab.cli import main
from scamperlab.errors import ScamperlabError
from scamperlab.topology import load_topology
from scamperlab.topology.draw import (
    REDRAW,
    draw_library,
    draw_topology,
    library_files,
    stale_pictures,
)
from scamperlab.topology.generate import ring
from scamperlab.topology.synthetic import synthetic_internet

ROOT = Path(__file__).resolve().parents[2]
ARK_MINI = ROOT / "topologies" / "ark-mini.yaml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_png_and_svg_are_valid_and_deterministic(tmp_path: Path) -> None:
    topo = load_topology(ARK_MINI)
    for fmt in ("png", "svg"):
        first, second = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
        draw_topology(topo, first)
        draw_topology(topo, second)
        assert first.read_bytes() == second.read_bytes()
    assert (tmp_path / "a.png").read_bytes().startswith(PNG_MAGIC)
    svg = (tmp_path / "a.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and svg.rstrip().endswith("</svg>")
    assert "akl-nz" in svg and "tr-lon" in svg  # labels are text, searchable
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "a.svg", "b.png", "b.svg"]


@pytest.mark.parametrize(
    "topo", [synthetic_internet(150, 20, seed=2), ring(120, 16)], ids=["synthetic", "ring"]
)
def test_large_topologies_draw(tmp_path: Path, topo: object) -> None:
    out = tmp_path / "big.png"
    draw_topology(topo, out)  # type: ignore[arg-type]
    assert out.read_bytes().startswith(PNG_MAGIC)
    assert out.stat().st_size > 10_000


def test_bad_output_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScamperlabError, match=r"must end in \.png or \.svg"):
        draw_topology(load_topology(ARK_MINI), tmp_path / "x.jpg")
    assert not list(tmp_path.iterdir())


def test_cli_draw(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "t.svg"
    assert main(["draw", str(ARK_MINI), "-o", str(out)]) == 0
    assert out.exists()
    assert main(["draw", str(tmp_path / "missing.yaml"), "-o", str(out)]) == 1


def test_every_library_topology_has_a_current_picture() -> None:
    """Fails when a file in topologies/ was added or changed without redrawing."""
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        assert library_files(), "no topologies found"
        problems = stale_pictures()
    finally:
        os.chdir(cwd)
    assert not problems, (
        "library pictures are out of date:\n  "
        + "\n  ".join(problems)
        + f"\nredraw them from the repository root with `{REDRAW}`, and commit"
        " docs/img/topologies/ and docs/topologies.md"
    )


def test_library_script_handles_new_changed_and_removed_files(tmp_path: Path) -> None:
    lib, pics, page = (
        tmp_path / "topologies",
        tmp_path / "docs/img/topologies",
        tmp_path / "docs/x.md",
    )
    (lib / "cases").mkdir(parents=True)
    pics.mkdir(parents=True)
    shutil.copy(ARK_MINI, lib / "ark-mini.yaml")
    (lib / "cases" / "tiny.yml").write_text(
        "# one VP\nrouters: [{name: r}]\nvps: [{name: v.example, uplink: {router: r}}]\n"
    )
    assert len(stale_pictures(lib, pics, page)) == 3
    draw_library(lib, pics, page)
    assert stale_pictures(lib, pics, page) == []
    assert (pics / "cases--tiny.png").exists()
    assert "![tiny](img/topologies/cases--tiny.png)" in page.read_text()
    assert draw_library(lib, pics, page) == []  # nothing to do

    with (lib / "cases" / "tiny.yml").open("a") as f:
        f.write("description: changed\n")
    assert stale_pictures(lib, pics, page)[0].endswith(
        "changed since " + str(pics / "cases--tiny.png") + " was drawn"
    )
    (lib / "ark-mini.yaml").unlink()
    draw_library(lib, pics, page)
    assert stale_pictures(lib, pics, page) == []
    assert sorted(p.name for p in pics.iterdir()) == ["cases--tiny.png", "cases--tiny.sha256"]
