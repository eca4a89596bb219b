#!/usr/bin/env bash
# Install what is needed, bring up the default topology (topologies/ark-mini.yaml),
# measure from every VP through the mux, and tear the lab down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install.sh
exec .venv/bin/scamperlab run topologies/ark-mini.yaml -- .venv/bin/python examples/demo_mux.py '{mux}'
