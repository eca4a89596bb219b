"""The TLS of an encrypted cluster: each host's files, and the stunnel that uses them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scamperlab.deploy.certs import make_certs
from scamperlab.errors import ClusterError, LabStartError
from scamperlab.processes.stunnel import Stunnel, check_tls_dir
from scamperlab.topology.cluster import ClusterFile


def cluster(tls: str) -> ClusterFile:
    hosts = {"h1": {"address": "192.0.2.11"}, "h2": {"address": "192.0.2.12"}}
    return ClusterFile.model_validate({"controller": "192.0.2.1", "hosts": hosts, "tls": tls})


def openssl(*argv: str) -> str:
    done = subprocess.run(["openssl", *argv], capture_output=True, text=True, check=False)
    return done.stdout + done.stderr


def test_each_host_gets_a_certificate_for_its_name_from_one_ca(tmp_path: Path) -> None:
    made = make_certs(cluster(f"{tmp_path}/{{host}}"), tmp_path / "ca")
    assert made == [tmp_path / "controller", tmp_path / "h1", tmp_path / "h2"]
    for directory in made:
        check_tls_dir(directory, directory.name)
        assert (directory / "key.pem").stat().st_mode & 0o077 == 0
    ca = str(tmp_path / "ca" / "ca.pem")
    # The controller host serves TLS for its address; lab hosts are clients with their names.
    ctl = str(tmp_path / "controller" / "cert.pem")
    assert openssl("verify", "-CAfile", ca, "-purpose", "sslserver", ctl).endswith("OK\n")
    assert "IP Address:192.0.2.1" in openssl("x509", "-in", ctl, "-noout", "-ext", "subjectAltName")
    h1 = str(tmp_path / "h1" / "cert.pem")
    assert openssl("verify", "-CAfile", ca, "-purpose", "sslclient", h1).endswith("OK\n")
    assert "DNS:h1" in openssl("x509", "-in", h1, "-noout", "-ext", "subjectAltName")
    # The CA is reused: a host added later trusts the same one.
    key = (tmp_path / "ca" / "ca.key").read_bytes()
    make_certs(cluster(f"{tmp_path}/{{host}}"), tmp_path / "ca")
    assert (tmp_path / "ca" / "ca.key").read_bytes() == key
    assert openssl("verify", "-CAfile", ca, h1).endswith("OK\n")


def test_one_directory_for_every_host_is_refused_and_a_missing_file_named(
    tmp_path: Path,
) -> None:
    with pytest.raises(ClusterError, match=r"one directory for every host"):
        make_certs(cluster(str(tmp_path)), tmp_path / "ca")
    (tmp_path / "ca.pem").write_text("")
    with pytest.raises(LabStartError, match=rf"host h1: no {tmp_path}/cert.pem, {tmp_path}/key"):
        check_tls_dir(tmp_path, "h1")


def test_both_ends_keep_the_vps_addresses_and_check_each_other(tmp_path: Path) -> None:
    """``transparent = source`` at both ends; the client checks the controller's address,
    the controller the lab hosts' names; no Nagle on either side."""
    client = Stunnel(
        None,  # type: ignore[arg-type]  # config() needs no namespace
        "controller",
        client=True,
        accept=("198.19.240.1", 17000),
        connect=("198.19.255.1", 17000),
        tls_dir=tmp_path,
        peer_addresses=["192.0.2.1"],
    )
    text = client.config().splitlines()
    assert "client = yes" in text and "transparent = source" in text
    assert "accept = 198.19.240.1:17000" in text and "connect = 198.19.255.1:17000" in text
    assert "checkIP = 192.0.2.1" in text and "verifyChain = yes" in text
    assert {"socket = l:TCP_NODELAY=1", "socket = r:TCP_NODELAY=1"} <= set(text)
    server = Stunnel(
        None,  # type: ignore[arg-type]
        "controller",
        client=False,
        accept=("198.19.255.1", 17000),
        connect=("198.19.240.1", 17000),
        tls_dir=tmp_path,
        peer_names=["h1", "h2"],
    )
    text = server.config().splitlines()
    assert "client = no" in text and "transparent = source" in text
    assert [line for line in text if line.startswith("check")] == [
        "checkHost = h1",
        "checkHost = h2",
    ]
