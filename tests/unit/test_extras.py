"""Optional extras: a missing package names the extra to install; code and pyproject agree."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from scamperlab.errors import MissingExtraError, ScamperlabError, needs_extra

ROOT = Path(__file__).resolve().parents[2]
EXTRAS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]


def test_a_missing_package_names_its_extra() -> None:
    with pytest.raises(MissingExtraError) as caught, needs_extra("draw", "scamperlab draw"):
        import scamperlab_no_such_package.sub  # type: ignore[import-not-found]  # noqa: F401
    error = caught.value
    assert isinstance(error, ScamperlabError)  # the CLI prints it and exits non-zero
    assert (error.module, error.extra) == ("scamperlab_no_such_package", "draw")
    assert str(error) == (
        "scamperlab draw needs scamperlab_no_such_package (the 'draw' extra), which is not"
        " installed: pip install 'scamperlab[draw]'"
    )


def test_other_errors_pass_through() -> None:
    with pytest.raises(ValueError), needs_extra("draw", "scamperlab draw"):
        raise ValueError("not an import")


def _requirement_names(extra: str) -> set[str]:
    return {re.split(r"[<>=\[ ;]", r, maxsplit=1)[0].lower() for r in EXTRAS[extra]}


def test_every_extra_the_code_names_exists_and_all_has_them_all() -> None:
    named = {
        m
        for path in (ROOT / "scamperlab").rglob("*.py")
        for m in re.findall(r'needs_extra\("(\w+)"', path.read_text())
    }
    assert named == {"draw", "audit", "deploy"}
    assert named <= set(EXTRAS)
    (everything,) = EXTRAS["all"]
    assert set(everything.removeprefix("scamperlab[").removesuffix("]").split(",")) == named


@pytest.mark.parametrize(
    ("extra", "package"),
    [("draw", "matplotlib"), ("audit", "scapy"), ("audit", "matplotlib"), ("deploy", "paramiko")],
)
def test_each_extra_brings_what_its_modules_import(extra: str, package: str) -> None:
    assert package in _requirement_names(extra)


def test_the_core_needs_none_of_the_optional_packages() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {re.split(r"[<>=\[ ;]", r, maxsplit=1)[0].lower() for r in project["dependencies"]}
    # dnspython: the mux's DNS stand-in (scamperlab.mux.standin) builds and parses with it
    assert core == {"pydantic", "pyyaml", "networkx", "rich", "dnspython"}
