#!/usr/bin/env bash
# Install what is needed, bring up the default topology (topologies/ark-mini.yaml),
# ping a target from every VP with the scamper API (ScamperCtrl) through the mux,
# and tear the lab down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install.sh
exec .venv/bin/scamperlab run topologies/ark-mini.yaml -- .venv/bin/python examples/ping_all.py '{mux}' 203.0.113.80
