"""Alias resolution against routers with deliberate IP-ID behaviour (topologies/aliases.yaml).

r1 and r2 stamp one IP-ID counter per router, r3 one per interface, r4 keeps
Linux's own (a hash of source and destination). The ground truth says which
addresses are aliases (:func:`alias_sets`); IP-ID techniques can only find
those of routers with a shared counter, and must never join two routers.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from scamperlab.lab import Lab
from scamperlab.scamper import ScamperCtrl, ScamperDealias, ScamperDealiasProbedef, ScamperInst
from scamperlab.topology.truth import alias_sets
from tests.integration.conftest import ROOT

ALIASES = ROOT / "topologies" / "aliases.yaml"


@pytest.fixture(scope="module")
def lab(state_dir: Path) -> Iterator[Lab]:
    with Lab.from_file(ALIASES, name="aliases", state_dir=state_dir) as running:
        yield running


@pytest.fixture
def ctrl(lab: Lab) -> Iterator[ScamperCtrl]:
    c = ScamperCtrl(mux=str(lab.mux_path))
    yield c
    for inst in c.instances():
        c.remove(inst)
    for mux in c._muxes:  # the real module has no public close either
        mux._transport.close()


def inst_of(ctrl: ScamperCtrl) -> ScamperInst:
    (inst,) = ctrl.add_vps(ctrl.vps())
    return inst


def addrs(lab: Lab, router: str) -> list[str]:
    """The router's IPv4 interface addresses, in interface order."""
    return [str(i.ipv4.ip) for i in lab.node(router).interfaces]


def ally(ctrl: ScamperCtrl, inst: ScamperInst, a: str, b: str) -> ScamperDealias:
    return ctrl.do_ally(
        a, b, method="icmp-echo", wait_probe=0.2, wait_timeout=2, inst=inst, sync=True
    )


def test_ground_truth_alias_sets(lab: Lab) -> None:
    truth = alias_sets(lab.plan, 4)
    assert truth["r1"] == frozenset(addrs(lab, "r1"))
    assert len(truth["r1"]) == 3
    assert not truth["r1"] & truth["r2"]


def test_ally_finds_the_aliases_of_a_shared_counter(lab: Lab, ctrl: ScamperCtrl) -> None:
    inst = inst_of(ctrl)
    for a, b in itertools.combinations(addrs(lab, "r1"), 2):
        result = ally(ctrl, inst, a, b)
        assert result.is_ally()
        assert result.has_aliases(), (a, b)
        assert {str(x) for x in result.aliases() or ()} == {a, b}


@pytest.mark.parametrize(
    ("left", "right", "why"),
    [
        ("r1", "r2", "two routers, each with its own shared counter"),
        ("r3", "r3", "one router with a counter per interface"),
        ("r4", "r4", "one router with Linux's own IP-IDs"),
        ("r1", "r4", "a shared counter and Linux's"),
    ],
)
def test_ally_rejects_what_ip_ids_cannot_join(
    lab: Lab, ctrl: ScamperCtrl, left: str, right: str, why: str
) -> None:
    inst = inst_of(ctrl)
    a = addrs(lab, left)[0]
    b = addrs(lab, right)[1]
    truly = any({a, b} <= s for s in alias_sets(lab.plan, 4).values())
    assert truly == (left == right), why
    result = ally(ctrl, inst, a, b)
    assert result.is_ally()
    assert not result.has_aliases(), f"{a} and {b}: {why}"


def _monotonic(series: list[tuple[float, int]]) -> bool:
    """IP-IDs sorted by send time that only ever move forward by less than half the space."""
    ordered = [ipid for _, ipid in sorted(series)]
    return all(0 < (b - a) % 65536 < 32768 for a, b in itertools.pairwise(ordered))


def test_radargun_series_separate_the_routers(lab: Lab, ctrl: ScamperCtrl) -> None:
    """Radargun probes every address in rounds; merging two addresses' IP-ID series
    by time gives one increasing sequence exactly when they share a counter."""
    inst = inst_of(ctrl)
    targets = addrs(lab, "r1")[:2] + addrs(lab, "r2")[:2] + addrs(lab, "r3")[:2]
    result = ctrl.do_radargun(
        addrs=targets,
        probedefs=[ScamperDealiasProbedef("icmp-echo")],
        rounds=6,
        wait_probe=0.05,
        wait_round=1.0,
        wait_timeout=2,
        inst=inst,
        sync=True,
    )
    assert result.is_radargun()
    series: dict[str, list[tuple[float, int]]] = {t: [] for t in targets}
    for i in range(result.probe_count):
        probe = result.probe(i)
        assert probe is not None and probe.tx is not None
        for reply in probe.replies():
            if reply.ipid is not None and str(reply.src) in series:
                series[str(reply.src)].append((probe.tx.timestamp(), reply.ipid))
    assert all(len(s) >= 5 for s in series.values()), {t: len(s) for t, s in series.items()}
    truth = alias_sets(lab.plan, 4)
    shared = {name for name in ("r1", "r2")}
    for a, b in itertools.combinations(targets, 2):
        router_a = next(r for r, s in truth.items() if a in s)
        router_b = next(r for r, s in truth.items() if b in s)
        joined = _monotonic(series[a] + series[b])
        expected = router_a == router_b and router_a in shared
        assert joined == expected, (a, router_a, b, router_b, series[a], series[b])
