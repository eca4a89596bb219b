"""The CI templates users copy: valid for their CI service, and doing what the docs promise.

Validation uses the workflow schemas vendored in check-jsonschema, so it
runs offline and checks exactly what GitHub and GitLab would reject.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from scamperlab.processes.sources import PPA_COMMANDS_FILE, PPA_RELEASES, ppa_commands

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "ci" / "templates"
DOCS_PAGE = ROOT / "docs" / "caida-scamper.md"
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
        ("github-actions.yml", lambda doc: doc["jobs"]["lab-tests-caida"].update(steps="all")),
        ("gitlab-ci.yml", lambda doc: doc["lab-tests-caida"].update(image=["ubuntu:24.04"])),
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


def jobs(name: str) -> dict[str, dict[str, Any]]:
    """The template's jobs, by name, each as ``{"image": ..., "env": ..., "commands": [...]}``."""
    doc = yaml.safe_load((TEMPLATES / name).read_text())
    found = {}
    if name == "github-actions.yml":
        for job, body in doc["jobs"].items():
            commands = [
                line
                for step in body["steps"]
                for line in step.get("run", "").replace("\\\n", " ").splitlines()
            ]
            found[job] = {
                "image": body["runs-on"],
                "env": body.get("env", {}),
                "commands": commands,
            }
    else:
        for job, body in doc.items():
            if isinstance(body, dict) and "script" in body:
                commands = [*body.get("before_script", []), *body["script"]]
                found[job] = {
                    "image": body["image"],
                    "env": body["variables"],
                    "commands": commands,
                }
    return found


def pytest_line(commands: list[str]) -> list[str]:
    """The pytest run of a job, from its interpreter on, without its report file's name."""
    words = next(c for c in commands if " -m pytest" in c).split()
    start = next(i for i, word in enumerate(words) if word.endswith("/python"))
    return [word for word in words[start:] if not word.startswith("--junitxml=")]


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_the_ppa_job_runs_the_docs_page_s_commands_exactly(name: str) -> None:
    ppa = ppa_commands()
    assert ppa[0] == "sudo add-apt-repository -y ppa:matthewluckie/scamper"
    commands = jobs(name)["lab-tests-caida"]["commands"]
    start = next(i for i, c in enumerate(commands) if "add-apt-repository" in c)
    assert commands[start : start + len(ppa)] == ppa
    # Nowhere else in the template: one copy of the commands, the page's.
    assert (TEMPLATES / name).read_text().count("matthewluckie") == 1


def test_the_docs_page_shows_the_one_copy_of_the_ppa_commands() -> None:
    """The page includes the file doctor prints (pymdownx.snippets), never a copy of it."""
    page = DOCS_PAGE.read_text()
    include = f'--8<-- "{PPA_COMMANDS_FILE.relative_to(ROOT).as_posix()}"'
    assert page.count(include) == 1
    assert "add-apt-repository" not in page.replace(include, "")
    fence = page[: page.index(include)].rsplit("```", 1)[1]
    assert fence.startswith("bash"), "the commands are shown as a bash block"
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text().replace("!!python/name:", ""))
    extensions = {
        (e if isinstance(e, str) else next(iter(e))): e for e in config["markdown_extensions"]
    }
    assert extensions["pymdownx.snippets"]["pymdownx.snippets"]["check_paths"] is True


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_both_sources_of_scamper_run_the_same_tests(name: str) -> None:
    found = jobs(name)
    debian, caida = found["lab-tests"], found["lab-tests-caida"]
    assert pytest_line(debian["commands"]) == pytest_line(caida["commands"])
    assert "--scamperlab-require" in pytest_line(caida["commands"])
    # CAIDA's job: an Ubuntu the PPA serves; CAIDA's module, in the venv, or a failure.
    assert re.split("[-:]", caida["image"])[-1] in PPA_RELEASES
    assert caida["env"]["SCAMPERLAB_SCAMPER"] == "real"
    assert any("-m venv --system-site-packages .venv" in c for c in caida["commands"])
    assert any(c.endswith("scamperlab doctor --require-modern") for c in caida["commands"])
    assert "SCAMPERLAB_SCAMPER" not in debian["env"]
