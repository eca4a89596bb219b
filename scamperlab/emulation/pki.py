"""A certificate authority of a lab's own, and the certificates it signs, by ``openssl``.

The ``openssl`` program rather than a Python library: every lab host has it
(the HTTPS targets' nginx needs it too), its files are what nginx, stunnel
and scamper read, and the ``cryptography`` package is not one of the lab's
dependencies. Keys are P-256, readable by their owner only.
"""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

from scamperlab.errors import LabStartError

#: How long what a lab signs is valid: a lab outlives no certificate it made.
CERT_DAYS = 30


def _openssl(argv: list[str], what: str) -> None:
    done = subprocess.run(["openssl", *argv], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LabStartError(f"{what} failed: {(done.stderr or done.stdout).strip()[-500:]}")


def make_ca(directory: Path, name: str, days: int = CERT_DAYS) -> tuple[Path, Path]:
    """A fresh CA called ``name``, in ``directory``: (certificate, key)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "ca.pem", directory / "ca.key"
    _openssl(
        [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", str(days),
            "-subj", f"/O=scamperlab/CN={name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ],
        f"creating the CA {name}",
    )  # fmt: skip
    key.chmod(0o600)
    return cert, key


def issue(
    ca: tuple[Path, Path],
    directory: Path,
    common_name: str,
    sans: list[str],
    usage: str = "serverAuth",
    days: int = CERT_DAYS,
) -> tuple[Path, Path]:
    """``directory``/cert.pem and key.pem, signed by ``ca``, for ``sans`` (``DNS:``/``IP:``)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key, csr = directory / "cert.pem", directory / "key.pem", directory / "cert.csr"
    ext = directory / "cert.ext"
    ext.write_text(
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        f"extendedKeyUsage={usage}\n"
        f"subjectAltName={','.join(sans)}\n"
    )
    _openssl(
        ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={common_name}"],
        f"creating the key of {common_name}",
    )  # fmt: skip
    _openssl(
        ["x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
         "-set_serial", str(secrets.randbits(63)),
         "-days", str(days), "-extfile", str(ext), "-out", str(cert)],
        f"signing the certificate of {common_name}",
    )  # fmt: skip
    key.chmod(0o600)
    csr.unlink()
    ext.unlink()
    return cert, key
