"""Changing links of a running lab: cut, restore, and new delay/loss/bandwidth.

Tests inject these faults (see :mod:`scamperlab.pytest_plugin`), so every
change must be undoable and must say honestly what it could not do. A cut
replaces both ends' root qdisc with ``blackhole``: packets vanish in both
directions as on a dead fibre, while interfaces, addresses and routes stay
as they were (setting an interface down would flush its routes and IPv6
addresses, and restoring them would mean redoing the plan).

:func:`shape_link` is the one place where new link parameters reach the
kernel, so that another way of delaying packets (where ``sch_netem`` is
missing) can be added there without touching its callers.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field

from scamperlab.emulation.delay import fallback_problem
from scamperlab.emulation.network import EmulatedNetwork
from scamperlab.topology.model import LinkParams
from scamperlab.topology.plan import Interface, LinkPlan

_NETEM_ONLY = ("delay", "jitter", "loss")


@dataclass(frozen=True)
class LinkChange:
    """What a link change did: ``unapplied`` names the parameters the kernel could not apply."""

    link: str
    params: LinkParams
    unapplied: tuple[str, ...] = ()
    reason: str | None = None

    @property
    def applied(self) -> bool:
        return not self.unapplied


def link_label(link: LinkPlan) -> str:
    return f"{link.a.node}<->{link.b.node}"


def _report(
    net: EmulatedNetwork, link: LinkPlan, params: LinkParams, mechanism: str | None = None
) -> LinkChange:
    """``mechanism`` is what now applies the link's params (None: not applied yet)."""
    if not params.needs_netem or mechanism in ("netem", "nfqueue"):
        return LinkChange(link_label(link), params)
    if mechanism is None and (net.netem or fallback_problem() is None):
        return LinkChange(link_label(link), params)
    unapplied = tuple(name for name in _NETEM_ONLY if getattr(params, name) > 0)
    reason = (
        f"this kernel has no sch_netem and the userspace fallback cannot run"
        f" ({fallback_problem()}): {', '.join(unapplied)} on link {link_label(link)}"
        " is NOT applied (the link runs at full speed; bandwidth limits still apply)"
    )
    return LinkChange(link_label(link), params, unapplied, reason)


def _set_root_qdisc(net: EmulatedNetwork, end: Interface, lines: list[str]) -> None:
    if lines:
        net.run(end.node, ["tc", "-batch", "-"], "link change", "\n".join(lines) + "\n")
        return
    # Nothing to shape: back to the kernel's default qdisc. Deleting fails when
    # the default is already there, which is the goal anyway.
    argv = net.in_node(end.node, ["tc", "qdisc", "del", "dev", end.name, "root"])
    subprocess.run(argv, capture_output=True, check=False)


def shape_link(net: EmulatedNetwork, link: LinkPlan, params: LinkParams) -> LinkChange:
    """Give ``link`` new parameters in both directions; report what could not be applied.

    The network picks the mechanism (netem, or the NFQUEUE holder where the
    kernel lacks netem) exactly as at start-up.
    """
    mechanism = net.set_link_params(link.a.node, link.b.node, params)
    return _report(net, link, params, mechanism)


@dataclass
class LinkFaults:
    """The links a lab's tests have changed, so that every change can be undone."""

    net: EmulatedNetwork
    params: dict[int, LinkParams] = field(default_factory=dict)
    cut_links: set[int] = field(default_factory=set)
    # The topology file's params of each changed link (the plan holds the current ones).
    original: dict[int, LinkParams] = field(default_factory=dict)

    def current(self, link: LinkPlan) -> LinkParams:
        return self.params.get(link.index, self.original.get(link.index, link.params))

    def _remember(self, link: LinkPlan) -> None:
        self.original.setdefault(link.index, link.params)

    def cut(self, link: LinkPlan) -> None:
        self._remember(link)
        for end in (link.a, link.b):
            _set_root_qdisc(self.net, end, [f"qdisc replace dev {end.name} root blackhole"])
        self.cut_links.add(link.index)

    def restore(self, link: LinkPlan) -> None:
        """Undo a cut: the link gets the parameters it had, or was given while cut.

        Neighbour entries that failed during the cut are flushed: otherwise the
        first packets after the restore wait up to a second for the kernel's
        next ARP/ND retry, and a test that pings right away fails at random.
        """
        if link.index in self.cut_links:
            self.cut_links.discard(link.index)
            shape_link(self.net, link, self.current(link))
            for end in (link.a, link.b):
                self.net.run(end.node, ["ip", "neigh", "flush", "dev", end.name], "link restore")

    def shape(self, link: LinkPlan, params: LinkParams) -> LinkChange:
        self._remember(link)
        self.params[link.index] = params
        if link.index in self.cut_links:
            return _report(self.net, link, params)  # applied by restore()
        return shape_link(self.net, link, params)

    def reset(self, links: list[LinkPlan]) -> None:
        """Every link back to its topology file's parameters, none cut."""
        for link in links:
            if link.index in self.cut_links or link.index in self.params:
                self.cut_links.discard(link.index)
                self.params.pop(link.index, None)
                shape_link(self.net, link, self.original.pop(link.index, link.params))
