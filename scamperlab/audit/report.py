"""An audit's results in the forms people and CI read: JSON, a terminal table, a plot.

The JSON is the complete record (every VP, every violation with its
packets); the table and the plot are views of it. matplotlib (in the ``audit``
extra) is imported only to draw, with the Agg backend, so an audit never needs a
display and ``--no-plot`` never needs matplotlib.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from scamperlab.audit.analyse import MEASUREMENTS, UNATTRIBUTED, VpTraffic
from scamperlab.audit.policy import Policy, Violation, check
from scamperlab.errors import ScamperlabError, needs_extra

MANAGEMENT_NOTE = (
    "Only the VPs' measurement interfaces were captured. Each scamper's own connection"
    " to the controller (sc_remoted) runs over a separate management link (mgmt0) and"
    " is not part of this report."
)
LINK_NOTE = (
    "ARP and IPv6 neighbour discovery are the VPs' kernels finding their next hop:"
    " listed as not attributable, but exempt from rates and policy rules."
)


@dataclass
class AuditReport:
    """What every audited VP sent while a command ran, and whether a policy allows it."""

    lab: str
    started: float
    duration: float
    vps: dict[str, VpTraffic]
    command: list[str] | None = None
    policy_file: str | None = None
    policy: Policy | None = None
    violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=lambda: [MANAGEMENT_NOTE, LINK_NOTE])
    files: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.policy is not None and not self.violations:
            for vp in self.vps.values():
                self.violations += check(self.policy, vp)

    @property
    def ok(self) -> bool:
        return not self.violations

    def sent(self, vp: str) -> int:
        return len(self.vps[vp].packets)

    def measurement_packets(self, kind: str) -> int:
        """Packets of one measurement type, over every VP: what a test compares with results."""
        return sum(
            vp.by_measurement[kind].packets for vp in self.vps.values() if kind in vp.by_measurement
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "lab": self.lab,
            "command": self.command,
            "started": self.started,
            "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "duration_s": round(self.duration, 3),
            "notes": self.notes,
            "policy": None
            if self.policy is None
            else {
                "file": self.policy_file,
                "rules": self.policy.model_dump(mode="json", exclude_none=True),
                "ok": self.ok,
            },
            "violations": [v.to_json(self.started) for v in self.violations],
            "totals": {
                "vps": len(self.vps),
                "packets": sum(len(v.packets) for v in self.vps.values()),
                "bytes": sum(v.total.bytes for v in self.vps.values()),
                "by_measurement": {
                    k: self.measurement_packets(k)
                    for k in MEASUREMENTS
                    if self.measurement_packets(k)
                },
            },
            "files": self.files,
            "vps": {name: vp.to_json(self.started) for name, vp in self.vps.items()},
        }

    def write_json(self, path: Path) -> Path:
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n")
        return path

    def raise_for_violations(self) -> None:
        """For tests: fail with every violation and its first offending packets."""
        if self.violations:
            raise ScamperlabError(violations_text(self))


def _counts(d: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v.packets}" for k, v in d.items()) or "-"


def _rng(r: list[int] | None) -> str:
    if r is None:
        return "-"
    return str(r[0]) if r[0] == r[1] else f"{r[0]}-{r[1]}"


def table(report: AuditReport) -> Table:
    """One row per VP: the terminal view."""
    t = Table(
        title=f"audit of lab {report.lab} - {report.duration:.1f} s",
        caption="controller traffic (mgmt0) not included; rates are packets per 1-s window",
    )
    for col in ("VP", "packets", "bytes", "measurements", "dsts"):
        t.add_column(col, justify="right" if col in ("packets", "bytes", "dsts") else "left")
    t.add_column("pkt/s peak/mean (-p)")
    for col in ("TTL", "dports", "not attributable", "policy"):
        t.add_column(col)
    failing = {v.vp for v in report.violations}
    for name, vp in report.vps.items():
        ranges = vp.ranges()
        rate = f"{vp.peak_pps}/{vp.mean_pps:.1f} ({vp.budget_pps})"
        if not vp.within_budget:
            rate = f"[red]{rate}[/]"
        if report.policy is None:
            verdict = "-"
        else:
            verdict = "[red]FAIL[/]" if name in failing else "[green]ok[/]"
        t.add_row(
            name,
            str(len(vp.packets)),
            str(vp.total.bytes),
            _counts({k: vp.by_measurement[k] for k in MEASUREMENTS if k in vp.by_measurement}),
            str(len(vp.destinations)),
            rate,
            _rng(ranges["ttl"]),
            _rng(ranges["dport"]),
            _counts({k: vp.unattributed[k] for k in UNATTRIBUTED if k in vp.unattributed}),
            verdict,
        )
    return t


def violations_text(report: AuditReport, per_violation: int = 10) -> str:
    """Each violation and the packets that make it (frame numbers are the VP's pcap's)."""
    lines = []
    for v in report.violations:
        lines.append(f"{v.vp}: {v.rule}: {v.message}")
        pcap = report.vps[v.vp].pcap
        for p in v.packets[:per_violation]:
            lines.append(f"  +{p.time - report.started:8.3f}s {p.describe()}")
        if len(v.packets) > per_violation:
            lines.append(f"  ... {len(v.packets) - per_violation} more (see report.json, {pcap})")
    return "\n".join(lines)


def print_report(report: AuditReport, console: Console, errors: Console) -> None:
    console.print(table(report))
    for note in report.notes[:1]:
        errors.print(f"note: {note}", highlight=False, soft_wrap=True)
    if report.policy is not None:
        if report.ok:
            errors.print(f"[green]policy ok[/]: {report.policy_file}")
        else:
            errors.print(
                f"[red]policy violated[/]: {report.policy_file}: {len(report.violations)}"
                " violation(s)"
            )
            # One line per packet, never wrapped: CI logs are grepped.
            errors.print(violations_text(report), highlight=False, markup=False, soft_wrap=True)


def plot(report: AuditReport, path: Path, max_legend: int = 16) -> Path:
    """Packets per 1-s window over time, one line per VP, with budgets and the policy limit."""
    with needs_extra("audit", "the audit's rate plot (rate.png)"):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4), dpi=100)
    try:
        for name, vp in report.vps.items():
            # One step per window, the last one drawn to its end.
            xs = list(range(len(vp.series) + 1))
            ax.step(xs, [*vp.series, vp.series[-1]], where="post", label=name, linewidth=1.2)
        budgets = sorted({vp.budget_pps for vp in report.vps.values()})
        peak = max((vp.peak_pps for vp in report.vps.values()), default=0)
        for b in budgets:
            if b <= max(peak, 1) * 3:  # a budget far above the traffic would flatten the plot
                ax.axhline(b, color="grey", linestyle="--", linewidth=0.8)
                ax.annotate(f"-p {b}", (0, b), color="grey", fontsize=8, va="bottom")
        if report.policy is not None and isinstance(report.policy.max_rate, int):
            ax.axhline(report.policy.max_rate, color="red", linestyle=":", linewidth=1)
            ax.annotate(
                f"policy max_rate {report.policy.max_rate}",
                (0, report.policy.max_rate),
                color="red",
                fontsize=8,
                va="bottom",
            )
        ax.set_xlabel("seconds since the capture started")
        ax.set_ylabel("packets sent per second")
        ax.set_title(f"scamperlab audit: lab {report.lab}")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        if 0 < len(report.vps) <= max_legend:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)
    return path
