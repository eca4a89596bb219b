"""``scamperlab cluster certs FILE``: the TLS files of an encrypted cluster, without Ansible.

The playbook gives every host its key and certificate from a CA on the
control node (role ``scamper_pki``); this makes the same files for a cluster
run by hand: a CA (kept in ``--ca DIR``, reused when it exists, so hosts can
be added later) and, in each host's TLS directory as the cluster file names
it, ``ca.pem``, ``cert.pem`` and ``key.pem``. The controller host's
certificate names its address (lab hosts check it), each lab host's its name
in the cluster file (the controller host accepts those names only).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from scamperlab.emulation import pki
from scamperlab.errors import ClusterError
from scamperlab.topology.cluster import CONTROLLER_HOST, ClusterFile, tls_dir

#: Long enough for a lab that runs for months; the CA outlives its certificates.
CERT_DAYS = 365
CA_DAYS = 3650


def make_certs(cluster: ClusterFile, ca_dir: Path) -> list[Path]:
    """Each host's TLS directory, filled; returns them, the controller host's first."""
    if "{host}" not in cluster.tls:
        raise ClusterError(
            f"the cluster file's tls ({cluster.tls}) is one directory for every host: give each"
            " host its own here with {host} in it (e.g. /etc/scamperlab/cluster/{host}),"
            " or let the playbook make each host's files on that host"
        )
    cert, key = ca_dir / "ca.pem", ca_dir / "ca.key"
    ca = (cert, key) if cert.is_file() and key.is_file() else None
    if ca is None:
        ca = pki.make_ca(ca_dir, "scamperlab cluster CA", days=CA_DAYS)
    hosts = {CONTROLLER_HOST: ([f"IP:{cluster.controller}"], "serverAuth")}
    hosts |= {name: ([f"DNS:{name}"], "clientAuth") for name in cluster.hosts}
    made = []
    for host, (sans, usage) in hosts.items():
        directory = tls_dir(cluster.tls, host)
        pki.issue(ca, directory, host, sans, usage=usage, days=CERT_DAYS)
        shutil.copyfile(ca[0], directory / "ca.pem")
        made.append(directory)
    return made
