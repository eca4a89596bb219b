#!/bin/bash
# A cluster rehearsed on one machine: three pretend hosts (network namespaces
# with addresses of 192.0.2.0/24, joined by a bridge in a fourth), a controller
# host and two lab hosts, each running 'scamperlab up --cluster' as a real host
# would. Then a ping from every VP through the one mux, and everything down.
#
#   sudo bash examples/cluster/rehearse.sh [TOPOLOGY]    (default: ark-mini)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${SCAMPERLAB_BIN:-$root/.venv/bin}
topology=${1:-$root/topologies/ark-mini.yaml}
lab=$(sed -n 's/^name: *//p' "$topology" | head -1)
cluster=$here/cluster.yaml
state=/run/scamperlab-rehearsal
declare -A address=([ctl]=192.0.2.1 [h1]=192.0.2.11 [h2]=192.0.2.12)

on() {  # on HOST COMMAND...: run COMMAND on a pretend host, with that host's state
    local host=$1
    shift
    SCAMPERLAB_STATE_DIR=$state/$host ip netns exec "rehearsal-$host" "$@"
}

cleanup() {
    for host in h1 h2 ctl; do
        on "$host" "$bin/scamperlab" down "$lab" 2>/dev/null || true
    done
    for ns in ctl h1 h2 inet; do
        ip netns del "rehearsal-$ns" 2>/dev/null || true
    done
    rm -rf "$state"
}
trap cleanup EXIT

ip netns add rehearsal-inet
ip -n rehearsal-inet link add br0 type bridge
ip -n rehearsal-inet link set br0 up
for host in ctl h1 h2; do
    ip netns add "rehearsal-$host"
    ip -n "rehearsal-$host" link add eth0 type veth peer name "p-$host" netns rehearsal-inet
    ip -n rehearsal-inet link set "p-$host" master br0 up
    ip -n "rehearsal-$host" link set lo up
    ip -n "rehearsal-$host" addr add "${address[$host]}/24" dev eth0
    ip -n "rehearsal-$host" link set eth0 up
    mkdir -p "$state/$host"
done

# Each host's TLS files, where the cluster file says (removed with $state).
"$bin/scamperlab" cluster certs "$cluster" --ca "$state/ca"

# The controller host first: lab hosts' VPs dial it as soon as they start.
on ctl "$bin/scamperlab" up "$topology" --cluster "$cluster" --controller
on h1 "$bin/scamperlab" up "$topology" --cluster "$cluster" --shard h1
on h2 "$bin/scamperlab" up "$topology" --cluster "$cluster" --shard h2
on ctl "$bin/scamperlab" status "$lab"

mux=$state/ctl/$lab/mux
"$bin/python" -m scamperlab.shell "$root/examples/ping_all.py" "$mux" 203.0.113.80
