"""scamperlab's ``scamper`` matches the real module's public surface (issue: API part 1)."""

from __future__ import annotations

import json

import pytest

from tests.reference import INVENTORY_PATH

from .conformance import PART1, check_class

INVENTORY = json.loads(INVENTORY_PATH.read_text())["classes"]


@pytest.mark.parametrize("name", sorted(PART1))
def test_part1_classes_match_the_real_surface(name: str) -> None:
    report = check_class(name, INVENTORY[name])
    assert report.problems == [], report.problems
    assert report.matched == report.members


def test_every_do_method_has_the_real_signature() -> None:
    report = check_class("ScamperCtrl", INVENTORY["ScamperCtrl"])
    assert not [p for p in report.problems if p.startswith("do_")]
