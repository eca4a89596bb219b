"""scamperlab's ``scamper`` matches the real module's public surface.

Every class of ``scamper-python-api.json`` (CAIDA's module 20260902) must
exist with every method (same parameter names, order and defaults),
property, enum member and runtime-only dunder; any missing member fails.
"""

from __future__ import annotations

import json

import pytest

from tests.reference import INVENTORY_PATH

from .conformance import check_all, check_class

INVENTORY = json.loads(INVENTORY_PATH.read_text())["classes"]


@pytest.mark.parametrize("name", sorted(INVENTORY))
def test_class_matches_the_real_surface(name: str) -> None:
    report = check_class(name, INVENTORY[name])
    assert report.problems == [], report.problems
    assert report.matched == report.members


def test_whole_inventory_is_covered(summary: list[str]) -> None:
    reports = check_all()
    members = sum(r.members for r in reports)
    matched = sum(r.matched for r in reports)
    assert len(reports) == 67 and matched == members
    summary.append(f"scamper API conformance: {matched}/{members} members, {len(reports)} classes")


def test_every_do_method_has_the_real_signature() -> None:
    report = check_class("ScamperCtrl", INVENTORY["ScamperCtrl"])
    assert not [p for p in report.problems if p.startswith("do_")]
