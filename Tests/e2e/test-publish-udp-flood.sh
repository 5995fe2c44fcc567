#!/usr/bin/env bash
# A flood of UDP clients from distinct source ports at the published UDP ports stops at the
# bound of published UDP flows in all (512), with a counted drop, instead of taking the
# stack's UDP endpoints (1,024 in all) and the published flows' total that TCP needs. Two
# namespaces, the test's own: netstackd's (the clients, on its loopback) and the guest's
# (netstackd's TAP through --netns; 10.0.2.15 by hand) with a UDP echo server on 7007 and a
# TCP line echo server on 8001. Five UDP ports (5301-5305) and one TCP port (8091) are
# published. Checked:
#   1. rounds of 1,300 clients each (260 a port, each client one datagram from its own port)
#      until the bound counts a drop (dropped_flow_limit; at most 6 rounds): at no time more
#      than 512 published UDP flows, then exactly 512, no socket failure (the stack never ran
#      out of UDP endpoints), and `udp_flows` is the flows listed;
#   2. eight published TCP connections at once still get through and echo;
#   3. four more rounds (5,200 new clients): still at most 512 flows, and netstackd's resident
#      memory grows by less than 4 MiB;
#   4. once the flood stops the flows expire (--relay-idle-timeout 15), and a new client gets
#      its answer from the guest.
source "$(dirname "$0")/lib.sh"
e2e_begin publish-udp-flood
BOUND=512
CLIENTS_PER_PORT=260
PORTS=(5301 5302 5303 5304 5305)

e2e_namespace GUEST guest
guest() { ip netns exec "$GUEST" "$@"; }
CONTROL="$WORK/control" # the path daemon_status_json reads
MAC=02:00:00:0e:14:0f

cat >"$WORK/guest-servers.py" <<'PY'
import socket, threading
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("10.0.2.15", 7007))
def echo_udp():
    while True:
        data, sender = udp.recvfrom(65535)
        udp.sendto(data, sender)
threading.Thread(target=echo_udp, daemon=True).start()
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("10.0.2.15", 8001))
server.listen(64)
print("listening", flush=True)
def echo_lines(connection):
    with connection, connection.makefile("rb") as lines:
        for line in lines:
            connection.sendall(line)
while True:
    connection, _ = server.accept()
    threading.Thread(target=echo_lines, args=(connection,), daemon=True).start()
PY
# The flood: one datagram from each of PER-PORT source ports, from FIRST-PORT on, to each
# published port (a client is an address and a port: each of these is a new one).
cat >"$WORK/flood.py" <<'PY'
import socket, sys, time
first, per_port, ports = int(sys.argv[1]), int(sys.argv[2]), [int(p) for p in sys.argv[3:]]
source = first
for port in ports:
    for _ in range(per_port):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", source))
        s.sendto(b"flood", ("127.0.0.1", port))
        s.close()
        source += 1
        if source % 64 == 0:
            time.sleep(0.005)  # pacing, so that fewer are lost in the port's socket buffer
PY
# Eight TCP connections at once through the published port, each echoing its own line.
cat >"$WORK/tcp-clients.py" <<'PY'
import socket
connections = [socket.create_connection(("127.0.0.1", 8091), timeout=10) for _ in range(8)]
good = 0
for index, connection in enumerate(connections):
    try:
        connection.sendall(b"line %d\n" % index)
        if connection.makefile("rb").readline() == b"line %d\n" % index:
            good += 1
    except OSError as error:
        print("connection %d: %s" % (index, error))
print("echoed %d" % good, flush=True)
PY
# A new client after the flood: its datagram reaches the guest's echo and comes back.
cat >"$WORK/udp-client.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for _ in range(5):
    s.sendto(b"after the flood", ("127.0.0.1", int(sys.argv[1])))
    try:
        print(s.recv(65535).decode(), flush=True)
        break
    except socket.timeout:
        print("timeout", flush=True)
PY

publishes=()
for port in "${PORTS[@]}"; do publishes+=(--publish "udp:127.0.0.1:$port=10.0.2.15:7007"); done
daemon_start --tap tap0 --netns "/run/netns/$GUEST" --relay --mac "$MAC" --dns-address none \
  --control "$CONTROL" "${publishes[@]}" --publish tcp:127.0.0.1:8091=10.0.2.15:8001 \
  --relay-idle-timeout 15
daemon_wait_serving 30
guest ip link set tap0 up
guest ip addr add 10.0.2.15/24 dev tap0
guest ip route add default via 10.0.2.2
guest ping -c 1 -W 5 -q 10.0.2.2 >/dev/null || fail "the guest does not reach the gateway 10.0.2.2"
ip netns exec "$GUEST" "$PYTHON" -u "$WORK/guest-servers.py" >"$WORK/guest-servers.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/guest-servers.log" "^listening" 20 >/dev/null
ok "netstackd publishes ${#PORTS[@]} UDP ports and a TCP port into the guest"

# The published UDP flows now, in all ports' listings.
UDP_FLOWS='sum(len(p["flows"]) for p in s["published"]["ports"] if p["transport"] == "udp")'
# What happened to each new client: a flow, a drop at the bound, a socket failure.
OUTCOMES='[sum(p["counters"].get(n, 0) for p in s["published"]["ports"] if p["transport"] == "udp") for n in ("flows_opened", "dropped_flow_limit", "socket_failures", "flows_evicted")]'

# flood ROUND: one round of clients (new source ports each round), then waits until the
# daemon has taken every datagram it will (the outcomes stop changing), checking the bound
# at every look.
flood() {
  local round=$1 first=$((20000 + $1 * ${#PORTS[@]} * CLIENTS_PER_PORT)) before="" now json flows
  ns "$PYTHON" "$WORK/flood.py" "$first" "$CLIENTS_PER_PORT" "${PORTS[@]}" || fail "the flood client failed"
  local deadline=$((SECONDS + 30))
  while :; do
    json=$(daemon_status_json)
    flows=$(status_value "$UDP_FLOWS" "$json")
    ((flows <= BOUND)) || fail "round $round: at most $BOUND published UDP flows" "<= $BOUND" "$flows"
    now=$(status_value "$OUTCOMES" "$json")
    [[ "$now" == "$before" ]] && break
    ((SECONDS < deadline)) || fail "round $round: the daemon did not settle within 30 s" "steady" "$now"
    before=$now
    sleep 1
  done
  log "round $round: $flows flows; opened, dropped at the bound, socket failures, evicted: $now"
}

# --- 1. The bound --------------------------------------------------------------------------------
DROPPED="sum(p['counters'].get('dropped_flow_limit', 0) for p in s['published']['ports'])"
round=0
until (($(status_value "$DROPPED") > 0)); do
  ((round < 6)) || fail "the flood reached a bound within 6 rounds" "dropped_flow_limit > 0" \
    "$(status_value "$UDP_FLOWS") flows, outcomes $(status_value "$OUTCOMES")"
  flood "$round"
  round=$((round + 1))
done
json=$(daemon_status_json)
flows=$(status_value "$UDP_FLOWS" "$json")
expect_eq "the flood filled the bound of published UDP flows" "$BOUND" "$flows"
expect_eq "status: published.udp_flows is the flows listed" "$flows" \
  "$(status_value 's["published"].get("udp_flows")' "$json")"
expect_eq "status: published.udp_flow_limit" "$BOUND" \
  "$(status_value 's["published"].get("udp_flow_limit")' "$json")"
expect_ge "new clients past the bound dropped and counted (dropped_flow_limit)" 1 \
  "$(status_value "$DROPPED" "$json")"
expect_eq "no socket failure: the stack kept UDP endpoints to spare" 0 \
  "$(status_value "sum(p['counters'].get('socket_failures', 0) for p in s['published']['ports'])" "$json")"

# --- 2. TCP still gets through -------------------------------------------------------------------
out=$(ns timeout 60 "$PYTHON" "$WORK/tcp-clients.py" 2>&1 || true)
expect_match "eight published TCP connections at once echo their lines" "^echoed 8$" "$out"

# --- 3. Flat memory ------------------------------------------------------------------------------
rss_before=$(daemon_rss_kb)
for next in 0 1 2 3; do flood $((round + next)); done
rss_after=$(daemon_rss_kb)
log "resident memory: ${rss_before} kB after two rounds, ${rss_after} kB after six"
expect_le "resident memory grew by less than 4 MiB over four more rounds (kB)" 4096 $((rss_after - rss_before))
daemon_alive || fail "netstackd died under the flood"

# --- 4. The flows expire, and a new client is served ----------------------------------------------
deadline=$((SECONDS + 40))
until [[ "$(status_value "$UDP_FLOWS")" == 0 ]]; do
  ((SECONDS < deadline)) || fail "the idle flows expire within 40 s" 0 "$(status_value "$UDP_FLOWS")"
  sleep 0.5
done
ok "the flood's flows expired"
expect_match "a new client after the flood gets the guest's answer" "^after the flood$" \
  "$(ns "$PYTHON" "$WORK/udp-client.py" 5305 2>&1)"

daemon_stop TERM 20
expect_eq "netstackd exit status" 0 "$DAEMON_STATUS"
expect_counters_printed
