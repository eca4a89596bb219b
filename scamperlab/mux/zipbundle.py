"""scamperlab as one zip file, for hosts where nothing may be installed.

A real controller provisioned by ``playbooks/`` runs scamperlab's mux from
such a zip on ``PYTHONPATH``, and ``deploy --record`` uploads one to Ark for
the length of a run: both with the distribution's ``python3`` only (no pip,
no virtualenv, nothing fetched on that host). The code in the zip imports
only the standard library, scamperlab's own modules and, where the mux's
DNS stand-ins are wanted, dnspython (pure Python), which goes in too.

The bytes are reproducible (sorted entries, fixed timestamps), so
provisioning copies a bundle again only when the code really changed.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from pathlib import Path

__all__ = ["bundle_bytes", "write_bundle"]

_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def _add(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, _EPOCH)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def bundle_bytes(*, main: str | None = None, with_dns: bool = True) -> bytes:
    """The zip: the scamperlab package (and dnspython if ``with_dns``).

    With ``main`` (a module with a ``main()`` returning an exit status) the
    zip is also an application: ``python3 bundle.pyz ARGS`` runs it, with the
    zip on that process's own ``sys.path`` only, never on its children's.
    """
    packages = [Path(__file__).resolve().parents[1]]  # the scamperlab package
    if with_dns:
        import dns  # dnspython: the mux's DNS stand-ins (mux.standin) import it

        packages.append(Path(dns.__file__).resolve().parent)
    files = sorted(
        (package.name, p.relative_to(package), p)
        for package in packages
        for p in package.rglob("*")
        if p.is_file() and (p.suffix == ".py" or p.name == "py.typed")
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, relative, path in files:
            _add(zf, str(Path(name) / relative), path.read_bytes())
        if main is not None:
            _add(zf, "__main__.py", f"from {main} import main\nraise SystemExit(main())\n".encode())
    return buf.getvalue()


def write_bundle(output: Path) -> bool:
    """Write the mux's bundle to ``output``; whether it was (re)written."""
    data = bundle_bytes()
    with contextlib.suppress(OSError):
        if output.read_bytes() == data:
            return False
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(output)
    return True
