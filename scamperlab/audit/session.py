"""Auditing a running lab from Python: ``with audit(lab) as session: ...``.

The block's traffic is captured on every VP's measurement interfaces; when
it ends, captures are stopped (always, by PID) and, unless the block raised,
analysed into ``session.report`` with the files an audit writes: one pcap
per VP, ``report.json``, ``manifest.txt`` and ``rate.png``.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from scamperlab.audit.analyse import SentPacket, VpTraffic, sent_packets
from scamperlab.audit.capture import Capture, VpInfo
from scamperlab.audit.manifest import manifest
from scamperlab.audit.policy import Policy, load_policy
from scamperlab.audit.report import AuditReport, plot

if TYPE_CHECKING:
    from scamperlab.lab.core import Lab


class AuditSession:
    """One audit of one lab; ``report`` is set once :meth:`stop` has run."""

    def __init__(
        self,
        lab: Lab,
        *,
        policy: Policy | str | Path | None = None,
        out_dir: str | Path | None = None,
        vps: list[str] | None = None,
        command: list[str] | None = None,
        draw: bool = True,
    ) -> None:
        self.lab_name = lab.name
        if isinstance(policy, str | Path):
            self.policy_file: str | None = str(policy)
            self.policy: Policy | None = load_policy(policy)
        else:
            self.policy_file, self.policy = None, policy
        self.out_dir = (
            Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="scamperlab-audit-"))
        )
        self.command = command
        self.draw = draw
        self.capture = Capture(lab, self.out_dir / "pcap", vps=vps)
        self.report: AuditReport | None = None

    def start(self) -> None:
        self.capture.start()

    def stop(self, analyse: bool = True) -> AuditReport | None:
        """Stop capturing; then, if ``analyse``, build the report and write its files."""
        if analyse:
            return self.finish()
        self.capture.stop()
        return self.report

    def finish(self) -> AuditReport:
        """Stop capturing, build the report (once) and write its files."""
        self.capture.stop()
        if self.report is None:
            self.report = self._analyse()
        return self.report

    def _analyse(self) -> AuditReport:
        cap = self.capture
        assert cap.started is not None and cap.stopped is not None
        duration = cap.stopped - cap.started
        vps = {
            name: traffic(info, cap.pcaps[name], cap.started, duration, cap.dropped.get(name))
            for name, info in cap.info.items()
        }
        report = AuditReport(
            self.lab_name,
            cap.started,
            duration,
            vps,
            command=self.command,
            policy_file=self.policy_file,
            policy=self.policy,
        )
        files = {"pcaps": str(self.out_dir / "pcap")}
        (self.out_dir / "manifest.txt").write_text(manifest(report))
        files["manifest"] = str(self.out_dir / "manifest.txt")
        if self.draw:
            files["plot"] = str(plot(report, self.out_dir / "rate.png"))
        files["json"] = str(self.out_dir / "report.json")
        report.files = files
        report.write_json(self.out_dir / "report.json")
        return report

    def sent(self, vp: str) -> list[SentPacket]:
        """What ``vp`` sent during the audit, classified (after the block has ended)."""
        if self.report is not None and vp in self.report.vps:
            return self.report.vps[vp].packets
        return self.capture.sent(vp)


def traffic(
    info: VpInfo, pcap: Path, started: float, duration: float, dropped: int | None = None
) -> VpTraffic:
    """A VP's figures from its pcap."""
    intf = info.interfaces[0] if len(info.interfaces) == 1 else ""
    return VpTraffic(
        name=info.name,
        ipv4=info.ipv4,
        ipv6=info.ipv6,
        budget_pps=info.budget_pps,
        interfaces=list(info.interfaces),
        packets=sent_packets(pcap, (info.ipv4, info.ipv6), intf),
        started=started,
        duration=duration,
        pcap=str(pcap),
        dropped=dropped,
    )


@contextlib.contextmanager
def audit(
    lab: Lab,
    *,
    policy: Policy | str | Path | None = None,
    out_dir: str | Path | None = None,
    vps: list[str] | None = None,
    command: list[str] | None = None,
    draw: bool = True,
) -> Iterator[AuditSession]:
    """Capture what the lab's VPs send during the block; ``session.report`` afterwards.

    Without ``out_dir`` the files go to a new temporary directory, which is
    kept (its path is in ``session.out_dir``). A policy violation does not
    raise: check ``session.report.ok`` or call ``report.raise_for_violations()``.
    """
    session = AuditSession(lab, policy=policy, out_dir=out_dir, vps=vps, command=command, draw=draw)
    session.start()
    ok = False
    try:
        yield session
        ok = True
    finally:
        session.stop(analyse=ok)
