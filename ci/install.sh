#!/usr/bin/env bash
# Install everything scamperlab needs on a fresh Debian/Ubuntu machine, as root:
# Debian's scamper and Mininet (for mnexec), iproute2, and a virtualenv in .venv
# with scamperlab and its test/dev/docs extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "ci/install.sh: run as root (sudo bash ci/install.sh)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
need=()
for pkg in scamper mininet iputils-ping iproute2 procps util-linux python3-venv openssh-server; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
pick_python() {
  for py in python3.13 python3.12 python3.11 python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$py"; return 0
    fi
  done
  return 1
}
PY=$(pick_python || true)
if [ -z "$PY" ]; then need+=(python3.11 python3.11-venv); fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq
  # Mininet pulls in Open vSwitch; the lab does not use it, so don't start it.
  # openssh-server is for labs' controller hosts (--ssh): the lab runs its own sshd.
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
PY=$(pick_python)

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e '.[test,dev,docs]'
echo "scamperlab installed in $(pwd)/.venv ($(.venv/bin/python --version))"
