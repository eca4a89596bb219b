"""The CI templates users copy: valid for their CI service, and doing what the docs promise.

Validation uses the workflow schemas vendored in check-jsonschema, so it
runs offline and checks exactly what GitHub and GitLab would reject.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "ci" / "templates"
SCHEMAS = {
    "github-actions.yml": "vendor.github-workflows",
    "gitlab-ci.yml": "vendor.gitlab-ci",
}


def validate(path: Path, schema: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("check_jsonschema")
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_template_has_a_schema() -> None:
    assert sorted(p.name for p in TEMPLATES.iterdir()) == sorted(SCHEMAS)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_template_is_valid_for_its_ci_service(name: str) -> None:
    done = validate(TEMPLATES / name, SCHEMAS[name])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("name", "break_it"),
    [
        ("github-actions.yml", lambda doc: doc["jobs"]["lab-tests"].pop("runs-on")),
        ("gitlab-ci.yml", lambda doc: doc["lab-tests"].update(timeout=["30m"])),
    ],
)
def test_a_broken_template_is_rejected(name: str, break_it: object, tmp_path: Path) -> None:
    # The check must be able to fail, or its passing means nothing.
    doc = yaml.safe_load((TEMPLATES / name).read_text())
    break_it(doc)  # type: ignore[operator]
    broken = tmp_path / name
    broken.write_text(yaml.safe_dump(doc))
    assert validate(broken, SCHEMAS[name]).returncode != 0


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_template_installs_debian_scamper_and_requires_the_lab(name: str) -> None:
    text = (TEMPLATES / name).read_text()
    assert "apt-get install" in text and " scamper mininet " in text.replace("\n", " ")
    for building in ("git clone", "make install", "./configure", "curl ", "wget "):
        assert building not in text, f"{name} must install scamper from packages: {building}"
    assert "--scamperlab-require" in text  # CI must never pass by skipping
