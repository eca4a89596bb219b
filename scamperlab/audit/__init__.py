"""Site-host transparency: exactly what each VP sent while a script ran.

``scamperlab audit TOPOLOGY [--policy FILE] -- COMMAND`` from the shell, or
from Python::

    from scamperlab.audit import audit

    with audit(lab, policy="policy.yaml") as session:
        run_measurement(lab.mux_path)
    assert session.report.ok, session.report.violations

For a test harness that only wants the packets (the pytest plugin's hook)::

    with Capture(lab, tmp_path) as cap:
        ...
    packets = cap.sent("vp1.test")      # list[SentPacket], classified

and :func:`sent_packets` reads any pcap an audit wrote. See ``docs/audit.md``.

Needs the ``audit`` extra (scapy; matplotlib for the rate plot). May import:
``scamperlab.lab`` and every layer below it. Not ``deploy`` or ``inventory``
(its siblings), nor the CLI or the pytest plugin, which sit above it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scamperlab.audit.analyse import (
        MEASUREMENTS,
        UNATTRIBUTED,
        SentPacket,
        VpTraffic,
        sent_packets,
    )
    from scamperlab.audit.capture import Capture
    from scamperlab.audit.manifest import manifest
    from scamperlab.audit.policy import Policy, PolicyError, Violation, load_policy, parse_policy
    from scamperlab.audit.report import AuditReport
    from scamperlab.audit.session import AuditSession, audit

# Imported on first use: ``scamperlab --help`` registers the audit command and must
# not pay for pydantic models and rich tables it will not use.
_WHERE = {
    "MEASUREMENTS": "analyse",
    "UNATTRIBUTED": "analyse",
    "SentPacket": "analyse",
    "VpTraffic": "analyse",
    "sent_packets": "analyse",
    "Capture": "capture",
    "manifest": "manifest",
    "Policy": "policy",
    "PolicyError": "policy",
    "Violation": "policy",
    "load_policy": "policy",
    "parse_policy": "policy",
    "AuditReport": "report",
    "AuditSession": "session",
    "audit": "session",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"scamperlab.audit.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'scamperlab.audit' has no attribute {name!r}")


__all__ = [
    "MEASUREMENTS",
    "UNATTRIBUTED",
    "AuditReport",
    "AuditSession",
    "Capture",
    "Policy",
    "PolicyError",
    "SentPacket",
    "Violation",
    "VpTraffic",
    "audit",
    "load_policy",
    "manifest",
    "parse_policy",
    "sent_packets",
]
