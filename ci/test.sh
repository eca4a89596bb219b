#!/usr/bin/env bash
# Install what is needed, then run every check CI runs: formatting, lint, types,
# the import layers, dead code, the docs build and the whole test suite
# (integration tests included, as root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install.sh

echo "== ruff format --check"; .venv/bin/ruff format --check scamperlab tests benchmarks examples ci
echo "== ruff check";          .venv/bin/ruff check scamperlab tests benchmarks examples ci
echo "== mypy --strict";       .venv/bin/mypy scamperlab
echo "== lint-imports";        .venv/bin/lint-imports --no-logo  # the layers of docs/architecture.md
echo "== vulture";             .venv/bin/vulture  # dead code; see [tool.vulture] in pyproject.toml
export NO_MKDOCS_2_WARNING=1
site=$(mktemp -d)
trap 'rm -rf "$site"' EXIT
echo "== ansible-lint"  # Ansible's state in the temporary directory, not in ~/.ansible
(cd playbooks && ANSIBLE_HOME="$site/.ansible" ../.venv/bin/ansible-lint -q)
echo "== mkdocs build --strict"
.venv/bin/mkdocs build --strict --quiet -d "$site"
echo "== example user project (examples/userproject), in a lab"
SCAMPERLAB_REQUIRE_LAB=1 .venv/bin/python -m pytest -q -p no:cacheprovider examples/userproject
echo "== example user project, replayed from its recording as nobody (no root, no lab)"
HOME=/nonexistent setpriv --reuid=nobody --regid=nogroup --clear-groups \
    .venv/bin/python -m pytest -q -p no:cacheprovider --scamperlab-mode replay examples/userproject
echo "== pytest, with both cores kept busy"
# Integration tests must run here: a missing prerequisite fails instead of skipping.
# Two CPU hogs run all the while (tests/load.py): the suite must pass on a busy machine.
SCAMPERLAB_TEST_LOAD="${SCAMPERLAB_TEST_LOAD:-2}" SCAMPERLAB_REQUIRE_LAB=1 \
  .venv/bin/pytest -q -p no:cacheprovider "$@"
