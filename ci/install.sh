#!/usr/bin/env bash
# Install everything scamperlab needs on a fresh Debian/Ubuntu machine, as root:
# Debian's scamper and Mininet (for mnexec), iproute2, iptables (the delay fallback
# without sch_netem), tcpdump (audits), and a virtualenv in .venv
# with scamperlab, every optional feature (all: draw, audit, deploy) and the
# test/dev/docs/ansible extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "ci/install.sh: run as root (sudo bash ci/install.sh)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
need=()
# Target services: nsd (authoritative DNS), unbound (resolver), nginx (HTTP/HTTPS),
# openssl (the lab CA), ca-certificates (the system bundle every node's own, with the
# lab CA added, extends); curl and dig are the clients tests and users run in nodes.
# debootstrap, systemd-container, openssh-client: the playbook tests (tests/playbooks/).
# stunnel4: the TLS between a cluster's hosts (scamperlab cluster, docs/cluster.md).
for pkg in scamper mininet iputils-ping iproute2 iptables procps util-linux python3-venv tcpdump openssh-server \
  nsd unbound nginx openssl ca-certificates curl bind9-dnsutils debootstrap systemd-container openssh-client stunnel4; do
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
  # Mininet pulls in Open vSwitch and openssh-server is only for labs' controller
  # hosts (--ssh, the lab runs its own sshd); nsd, unbound and nginx run only inside
  # labs, each from its own configuration: none of these system services is wanted, so
  # Debian's policy-rc.d hook keeps packages from starting them while installing.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi
fi
PY=$(pick_python)

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e '.[all,test,dev,docs,ansible]'
echo "scamperlab installed in $(pwd)/.venv ($(.venv/bin/python --version))"
