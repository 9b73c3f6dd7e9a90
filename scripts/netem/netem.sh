#!/usr/bin/env bash
# An emulated multi-host network on one machine, for timing dme against MPI_Allreduce on links
# slower than shared memory. Needs root (network namespaces and tc); its traffic stays inside
# the namespaces it makes, and everything it makes is removed on exit or interruption.
#
#   scripts/netem/netem.sh run N RATE [DELAY] -- CMD [ARGS...]
#       creates N namespaces dme-ns0 .. dme-ns<N-1>, each joined by a veth pair to the bridge
#       dme-br in namespace dme-sw (addresses 10.77.0.1 .. 10.77.0.N /24), limits every link end
#       to RATE (tc tbf: "1gbit", "10gbit", "25gbit", or a profile name 1g, 10g, 25g) and, where
#       the kernel has sch_netem, adds DELAY (e.g. 100us) — where it has not, says so and runs
#       rate-only; measures the raw TCP rate between ns0 and ns1 first; then runs CMD as an MPI
#       job of N ranks, rank i in dme-ns<i>, Open MPI over TCP only (pml ob1, btl tcp,self,
#       interfaces restricted to 10.77.0.0/24, no shared memory); then removes everything.
#   scripts/netem/netem.sh check       whether this machine can do it (root, ip, tc, tbf, netem)
#   scripts/netem/netem.sh down        removes what an interrupted run left
#
# Example (2 ranks on a 1 Gbit/s link):
#   scripts/netem/netem.sh run 2 1gbit -- build/apps/dme-experiment collective --log2d 24
set -euo pipefail

readonly PREFIX=dme-ns SWITCH=dme-sw BRIDGE=dme-br SUBNET=10.77.0

die() { echo "netem: $*" >&2; exit 1; }

need_root() {
  [[ $EUID -eq 0 ]] || die "needs root (it creates network namespaces and tc qdiscs)"
  command -v ip >/dev/null || die "needs iproute2 (ip): apt-get install -y iproute2"
  command -v tc >/dev/null || die "needs tc (iproute2)"
}

rate_of() {  # profile names to tc rates
  case $1 in
    1g) echo 1gbit ;; 10g) echo 10gbit ;; 25g) echo 25gbit ;; *) echo "$1" ;;
  esac
}

# Bytes per second of a tc rate such as 1gbit, 2.5gbit, 500mbit.
rate_bytes() {
  python3 - "$1" <<'EOF'
import re, sys
m = re.fullmatch(r"([0-9.]+)([kmg]?)bit", sys.argv[1].lower())
if not m:
    sys.exit(f"netem: rate '{sys.argv[1]}' is not like 1gbit, 2.5gbit or 500mbit")
print(int(float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(2)] / 8))
EOF
}

down() {
  ip link del dme-root 2>/dev/null || true
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^(${PREFIX}[0-9]+|${SWITCH})$" || true); do
    ip netns del "$ns" 2>/dev/null || true
  done
}

has_netem() {  # on a throwaway dummy device inside a throwaway namespace
  local ok=1
  ip netns add dme-probe 2>/dev/null || return 1
  if ip -n dme-probe link add probe0 type dummy 2>/dev/null &&
    ip netns exec dme-probe tc qdisc add dev probe0 root netem delay 1ms 2>/dev/null; then
    ok=0
  fi
  ip netns del dme-probe 2>/dev/null || true
  return $ok
}

# limit DEV in namespace NS to RATE (bytes/s RB) with DELAY when netem exists.
shape() {
  local ns=$1 dev=$2 rate=$3 rb=$4 delay=$5
  # One millisecond of data (at least 16 KB): a larger bucket lets a whole small payload pass at
  # the host's speed (a 4 ms bucket at 1 Gbit/s holds 500 KB, a d = 2^20 payload).
  local burst=$((rb / 1000 > 16384 ? rb / 1000 : 16384))
  if [[ -n $delay ]]; then
    ip netns exec "$ns" tc qdisc add dev "$dev" root handle 1: netem delay "$delay"
    ip netns exec "$ns" tc qdisc add dev "$dev" parent 1: handle 2: tbf rate "$rate" \
      burst "$burst" latency 100ms
  else
    ip netns exec "$ns" tc qdisc add dev "$dev" root tbf rate "$rate" burst "$burst" latency 100ms
  fi
}

up() {
  local n=$1 rate=$2 delay=$3 rb i
  rb=$(rate_bytes "$rate")
  ip netns add "$SWITCH"
  ip -n "$SWITCH" link add "$BRIDGE" type bridge
  ip -n "$SWITCH" link set "$BRIDGE" up
  # The launcher stays in this namespace; its (unshaped) port on the bridge lets the ranks reach
  # its PMIx server, which otherwise listens on this namespace's loopback only.
  ip link add dme-root type veth peer name dme-rp
  ip link set dme-rp netns "$SWITCH"
  ip -n "$SWITCH" link set dme-rp master "$BRIDGE"
  ip -n "$SWITCH" link set dme-rp up
  ip addr add "$SUBNET.254/24" dev dme-root
  ip link set dme-root up
  for ((i = 0; i < n; i++)); do
    ip netns add "$PREFIX$i"
    ip link add "dme-h$i" type veth peer name "dme-p$i"
    ip link set "dme-h$i" netns "$PREFIX$i"
    ip link set "dme-p$i" netns "$SWITCH"
    ip -n "$SWITCH" link set "dme-p$i" master "$BRIDGE"
    ip -n "$SWITCH" link set "dme-p$i" up
    ip -n "$PREFIX$i" addr add "$SUBNET.$((i + 1))/24" dev "dme-h$i"
    ip -n "$PREFIX$i" link set "dme-h$i" up
    ip -n "$PREFIX$i" link set lo up
    shape "$PREFIX$i" "dme-h$i" "$rate" "$rb" "$delay"  # host -> switch
    shape "$SWITCH" "dme-p$i" "$rate" "$rb" "$delay"    # switch -> host
  done
}

# Raw TCP rate from ns0 to ns1: 200 MB through one socket, in Gbit/s.
tcp_rate() {
  local port=5599
  ip netns exec "${PREFIX}1" python3 - "$port" <<'EOF' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1)
c, _ = s.accept()
while c.recv(1 << 20):
    pass
EOF
  local server=$!
  sleep 0.5
  ip netns exec "${PREFIX}0" python3 - "$SUBNET.2" "$port" <<'EOF'
import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
buf = b"\0" * (1 << 20); total = 200 << 20
t = time.perf_counter()
for _ in range(total >> 20):
    c.sendall(buf)
c.shutdown(socket.SHUT_WR); c.recv(1)
print(f"{total * 8 / (time.perf_counter() - t) / 1e9:.3f}")
EOF
  wait "$server" 2>/dev/null || true
}

cmd=${1:-}
case $cmd in
  check)
    need_root
    echo "netem: root, ip and tc present"
    if has_netem; then echo "netem: sch_netem available (delay supported)"; else
      echo "netem: sch_netem NOT available in this kernel: links are rate-limited only (tbf)"; fi
    ;;
  down)
    need_root
    down
    ;;
  run)
    shift
    [[ $# -ge 4 ]] || die "usage: netem.sh run N RATE [DELAY] -- CMD [ARGS...]"
    n=$1 rate=$(rate_of "$2")
    shift 2
    delay=""
    if [[ $1 != -- ]]; then delay=$1; shift; fi
    [[ $1 == -- ]] || die "usage: netem.sh run N RATE [DELAY] -- CMD [ARGS...]"
    shift
    [[ $n =~ ^[0-9]+$ && $n -ge 2 && $n -le 200 ]] || die "N must be 2..200, got '$n'"
    need_root
    rate_bytes "$rate" >/dev/null
    if [[ -n $delay ]] && ! has_netem; then
      echo "netem: sch_netem NOT available in this kernel: running rate-only (no $delay delay)" >&2
      delay=""
    fi
    down  # leftovers of an interrupted run
    trap down EXIT INT TERM
    up "$n" "$rate" "$delay"
    measured=$(tcp_rate)
    echo "netem: $n namespaces, links $rate${delay:+ + $delay delay}; raw TCP ns0 -> ns1: $measured Gbit/s" >&2
    export DME_NETEM_RATE="$rate" DME_NETEM_TCP_GBPS="$measured"
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    # PMIx: listen where the namespaces can connect (the launcher's bridge port), not loopback.
    export PMIX_MCA_ptl_tcp_remote_connections=1 PMIX_MCA_ptl_tcp_if_include="$SUBNET.0/24"
    launch=(mpiexec --oversubscribe --mca pml ob1 --mca btl tcp,self
      --mca btl_tcp_if_include "$SUBNET.0/24" -x DME_NETEM_RATE -x DME_NETEM_TCP_GBPS)
    for ((i = 0; i < n; i++)); do
      ((i == 0)) || launch+=(:)
      launch+=(-np 1 ip netns exec "$PREFIX$i" "$@")
    done
    "${launch[@]}"
    ;;
  *)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    [[ -z $cmd || $cmd == -h || $cmd == --help ]] || exit 2
    ;;
esac
