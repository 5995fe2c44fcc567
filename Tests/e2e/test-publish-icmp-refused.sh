#!/usr/bin/env bash
# A guest that answers a published TCP port with ICMP port unreachable (a firewall's REJECT)
# fails the published connection at once, as for the stack's own connections
# (test-tcp-icmp-refused), also when the stack's connection into the guest took its client's
# own address (--relay, a client outside the guest subnet): the guest's ICMP error is then
# addressed to the client's address, another host's. Three namespaces, the test's own:
# netstackd's (a veth to the remote one, 10.99.0.1 - 10.99.0.2), the guest's (netstackd's TAP
# through --netns; 10.0.2.15 by hand, routed through 10.0.2.2; nftables rejects TCP to port
# 8003 with ICMP port unreachable) and the remote one, where the client runs. Checked:
#   1. the client's connection to the published port 8093 is reset within 5 s (not after the
#      stack's SYN retransmissions, about two minutes);
#   2. status counts it: tcp.connections_refused_by_icmp, and the port's
#      connections_refused_by_guest;
#   3. a published port to a guest port that is open still works.
source "$(dirname "$0")/lib.sh"
e2e_begin publish-icmp-refused
command -v nft >/dev/null || fail "nft is not installed"

e2e_namespace GUEST guest
e2e_namespace REMOTE remote
guest() { ip netns exec "$GUEST" "$@"; }
remote() { ip netns exec "$REMOTE" "$@"; }
CONTROL="$WORK/control" # the path daemon_status_json reads
MAC=02:00:00:0e:14:10

ip -n "$NS" link add veth0 type veth peer name veth1 netns "$REMOTE"
ip -n "$NS" addr add 10.99.0.1/24 dev veth0
ip -n "$REMOTE" addr add 10.99.0.2/24 dev veth1
ip -n "$NS" link set veth0 up
ip -n "$REMOTE" link set veth1 up

# The client: connects, sends a line, and says how the connection ended and how long it took.
cat >"$WORK/client.py" <<'PY'
import socket, sys, time
start = time.monotonic()
try:
    s = socket.create_connection(("10.99.0.1", int(sys.argv[1])), timeout=30)
    s.settimeout(30)
    s.sendall(b"hello\n")
    data = s.recv(65536)
    outcome = "data %s" % data.decode().strip() if data else "eof"
except ConnectionResetError:
    outcome = "reset"
except ConnectionRefusedError:
    outcome = "refused"
except socket.timeout:
    outcome = "timeout"
print("%s after %.1f s" % (outcome, time.monotonic() - start), flush=True)
PY
cat >"$WORK/guest-server.py" <<'PY'
import socket
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("10.0.2.15", 8004))
server.listen(8)
print("listening", flush=True)
while True:
    connection, peer = server.accept()
    connection.recv(65536)
    connection.sendall(b"from %s\n" % peer[0].encode())
    connection.close()
PY

daemon_start --tap tap0 --netns "/run/netns/$GUEST" --relay --mac "$MAC" --dns-address none \
  --control "$CONTROL" --publish tcp:8093=10.0.2.15:8003 --publish tcp:8094=10.0.2.15:8004
daemon_wait_serving 30
guest ip link set tap0 up
guest ip addr add 10.0.2.15/24 dev tap0
guest ip route add default via 10.0.2.2
guest ping -c 1 -W 5 -q 10.0.2.2 >/dev/null || fail "the guest does not reach the gateway 10.0.2.2"
guest nft -f - <<'RULES' || fail "nft: could not add the guest's reject rule"
table inet e2e_reject {
  chain in { type filter hook input priority 0; policy accept;
    tcp dport 8003 counter reject with icmp type port-unreachable; }
}
RULES
ip netns exec "$GUEST" "$PYTHON" -u "$WORK/guest-server.py" >"$WORK/guest-server.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/guest-server.log" "^listening" 20 >/dev/null
ok "netstackd publishes 8093 (the guest rejects it) and 8094 into the guest"

# --- 1. Refused at once --------------------------------------------------------------------------
out=$(remote timeout 60 "$PYTHON" "$WORK/client.py" 8093 2>&1 || true)
log "client of 8093: $out"
expect_match "the client's connection is reset" "^(reset|eof) after" "$out"
seconds=$(awk '{ print int($3) }' <<<"$out")
expect_le "... within 5 s (seconds)" 5 "${seconds:-99}"
expect_ge "the guest rejected with ICMP" 1 \
  "$(guest nft list chain inet e2e_reject in | awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }')"

# --- 2. Counted -----------------------------------------------------------------------------------
json=$(daemon_status_json)
expect_ge "tcp.connections_refused_by_icmp" 1 \
  "$(status_value 's["counters"]["tcp"].get("connections_refused_by_icmp", 0)' "$json")"
expect_eq "port 8093: connections_refused_by_guest" 1 \
  "$(status_value '[p for p in s["published"]["ports"] if p["host"].endswith(":8093")][0]["counters"]["connections_refused_by_guest"]' "$json")"

# --- 3. An open guest port still works ------------------------------------------------------------
out=$(remote timeout 60 "$PYTHON" "$WORK/client.py" 8094 2>&1 || true)
expect_match "a published open port answers, the guest saw the client's address" \
  "^data from 10\.99\.0\.2 after" "$out"

daemon_stop TERM 20
expect_eq "netstackd exit status" 0 "$DAEMON_STATUS"
expect_counters_printed
