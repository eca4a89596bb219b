"""The import layers: checked by lint-imports, able to fail, and the same as the docs say.

The contract lives in ``pyproject.toml`` (``[tool.importlinter]``) and runs in
``ci/test.sh``; ``docs/architecture.md`` lists the same layers, word for word.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _contract(kind: str) -> dict[str, Any]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == kind]
    return dict(contract)


def contract_layers() -> list[str]:
    """The layers contract, top to bottom, each as ``scamperlab.a | scamperlab.b``."""
    contract = _contract("layers")
    (container,) = contract["containers"]
    return [
        " | ".join(f"{container}.{name.strip()}" for name in layer.split("|"))
        for layer in contract["layers"]
    ]


def documented_layers() -> list[str]:
    """The numbered list under "## Layers" in docs/architecture.md."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("\n## Layers\n", 1)[1].split("\n## ", 1)[0]
    items = re.findall(r"^(\d+)\. `([^`]+)`$", section, flags=re.M)
    assert [int(n) for n, _ in items] == list(range(1, len(items) + 1)), items
    return [layers for _, layers in items]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports on the scamperlab package under ``root``, with that tree's pyproject.toml."""
    if not LINT_IMPORTS.exists():
        pytest.skip("lint-imports is not installed (pip install -e '.[dev]')")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],  # reads ./pyproject.toml
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_docs_list_exactly_the_contract_layers() -> None:
    assert documented_layers() == contract_layers()


def test_contract_says_every_package_belongs_to_a_layer() -> None:
    contract = _contract("layers")
    assert contract["exhaustive"] is True
    listed = {name.strip() for layer in contract["layers"] for name in layer.split("|")}
    present = {
        p.stem if p.is_file() else p.name
        for p in (ROOT / "scamperlab").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }
    assert present - listed <= set(contract.get("exhaustive_ignores", [])), present - listed


def test_the_package_keeps_its_contracts() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scamperlab and its pyproject.toml in a directory of their own, unmodified."""
    root = tmp_path_factory.mktemp("layers")
    shutil.copytree(
        ROOT / "scamperlab", root / "scamperlab", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    done = lint_imports(root)
    assert done.returncode == 0, done.stdout + done.stderr  # the copy passes as it is
    return root


@pytest.mark.parametrize(
    ("module", "imported", "broken"),
    [
        # a lower layer importing a higher one
        (
            "topology/backimport.py",
            "scamperlab.lab",
            "scamperlab.topology is not allowed to import",
        ),
        # one sibling of a layer importing the other
        ("mux/sibling.py", "scamperlab.scamper", "scamperlab.mux is not allowed to import"),
    ],
)
def test_a_deliberate_back_import_fails_the_check(
    package_copy: Path, module: str, imported: str, broken: str
) -> None:
    added = package_copy / "scamperlab" / module
    added.write_text(f'"""Breaks the layers on purpose."""\n\nimport {imported}  # noqa: F401\n')
    try:
        done = lint_imports(package_copy)
    finally:
        added.unlink()
    assert done.returncode != 0, done.stdout
    assert broken in done.stdout, done.stdout
