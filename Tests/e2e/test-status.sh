#!/usr/bin/env bash
# `netstackd status --control PATH [--json]` while connections are open: the daemon runs on a
# TAP with a forward; a client in the namespace holds three echo connections, a keep-alive HTTP
# connection, a chargen connection it has stopped reading, and a connection through the
# forward (to a listener in the namespace). The text report shows the interface, the host side
# in the ARP table, the listeners, every one of those connections (local and remote address,
# state, bytes), the UDP ports and counters; --json is valid JSON (python3 -m json.tool) with
# the same facts. Once the client goes, the connections go too. Both reports are printed in
# full (the examples for the docs). The socket backend's shorter report is checked as well.
source "$(dirname "$0")/lib.sh"
e2e_begin status

MAC=02:00:00:e2:e0:57
CONTROL="$WORK/control.sock"
status_text() { "$NETSTACKD" status --control "$CONTROL"; }
status_json() { "$NETSTACKD" status --control "$CONTROL" --json; }

# A target for the forward (Python, on the host side of the TAP): echoes the first piece of
# data, then closes once the client has.
ns ip tuntap add dev tap0 mode tap vnet_hdr
ns ip addr add "$HOST_IP/$PREFIX" dev tap0
ns ip link set tap0 up
host_mac=$(ns cat /sys/class/net/tap0/address)
ip netns exec "$NS" "$PYTHON" -c '
import socket, sys, threading
def serve(connection):
    connection.sendall(connection.recv(100))  # echo the first piece
    while connection.recv(100):  # then wait for the client to finish, and close too
        pass
    connection.close()
listener = socket.socket(); listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((sys.argv[1], 9007)); listener.listen(8); print("listening", flush=True)
while True:
    threading.Thread(target=serve, args=(listener.accept()[0],)).start()
' "$HOST_IP" >"$WORK/target.out" 2>&1 </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/target.out" "^listening" 10 >/dev/null

daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip none --mac "$MAC" \
  --forward "tcp:8007=$HOST_IP:9007" --control "$CONTROL"
daemon_wait_ready
[[ -S "$CONTROL" ]] || fail "the control socket exists" "a socket at $CONTROL" "$(ls -l "$CONTROL" 2>&1)"
expect_eq "control socket mode" 600 "$(stat -c %a "$CONTROL")"

# The client holds its connections open.
ip netns exec "$NS" "$PYTHON" "$TOOLS/hold-connections.py" "$STACK_IP" echo:7 echo:7 echo:7 \
  http:80 chargen:19 echo:8007 >"$WORK/holder.out" 2>&1 </dev/null &
HOLDER_PID=$!
HELPER_PIDS+=("$HOLDER_PID")
wait_for_line "$WORK/holder.out" "^holding$" 20 >/dev/null
ok "the client holds 6 connections: $(grep -c local-port "$WORK/holder.out") opened"
sleep 0.5 # let the chargen connection's window close and the forward's back side settle

# --- Text -------------------------------------------------------------------------------------
text=$(status_text) || fail "netstackd status --control" "exit 0" "$text"
log "--- netstackd status --control (example) ---"
sed 's/^/    | /' <<<"$text"
expect_match "header: backend, device, uptime" \
  "^netstackd [0-9.]+: direct backend on netstack over TAP tap0, up [0-9]+ s$" "$text"
expect_match "interface" "^interface: ip $STACK_IP/$PREFIX, mac $MAC, gateway none, mtu 1500$" "$text"
expect_match "services" "^services: http:80,echo:7,discard:9,chargen:19$" "$text"
expect_match "ARP: the host side, reachable" "^  $HOST_IP  $host_mac  reachable$" "$text"
expect_match "TCP listeners (services and the forward)" "^tcp listeners: 7, 9, 19, 80, 8007$" "$text"
expect_match "six connections" "^tcp connections \(6, plus [0-9]+ in TIME-WAIT\): 6 ESTABLISHED$" "$text"
while read -r spec _ port; do
  service_port=${spec#*:}
  case "${spec%%:*}" in
    echo) bytes="in 6 B  out 6 B" ;;
    http) bytes="in [0-9]+ B  out [0-9]+ B" ;;
    chargen) bytes="in 0 B  out [0-9]+ B" ;;
  esac
  expect_match "connection $spec from port $port: ESTABLISHED, $bytes" \
    "^  $STACK_IP:$service_port  $HOST_IP:$port  ESTABLISHED  $bytes  retransmitted [0-9]+  srtt [0-9]+ us  cwnd [0-9]+  memory [0-9]+ B$" \
    "$text"
done < <(grep local-port "$WORK/holder.out")
chargen_out=$(grep -E "^  $STACK_IP:19 " <<<"$text" | sed -E 's/.* out ([0-9]+) B.*/\1/')
expect_ge "chargen connection: more sent than the client read (it stopped reading)" 100000 "$chargen_out"
expect_match "UDP ports" "^udp ports: 7$" "$text"
expect_match "counters: passive opens" "^  tcp\.passive_opens [0-9]+$" "$text"
# The buffers of written frames are filled again (the chargen connection alone sends plenty).
expect_match "counters: transmit buffers reused" "^  tx_buffers\.reused [1-9][0-9]*$" "$text"

# --- JSON -------------------------------------------------------------------------------------
json=$(status_json) || fail "netstackd status --json" "exit 0" "$json"
pretty=$("$PYTHON" -m json.tool <<<"$json" 2>&1) || fail "status --json is valid JSON" "json.tool accepts it" "$pretty"
ok "status --json is valid JSON (python3 -m json.tool)"
log "--- netstackd status --control --json (example, as python3 -m json.tool prints it) ---"
sed 's/^/    | /' <<<"$pretty"
ports=$(grep local-port "$WORK/holder.out" | awk '{print $3}' | xargs)
printf '%s\n' "$json" >"$WORK/status.json"
checked=$("$PYTHON" - "$WORK/status.json" "$STACK_IP" "$HOST_IP" "$MAC" "$host_mac" "$ports" <<'EOF'
import json, sys
path, stack, host, mac, host_mac, ports = sys.argv[1:7]
report = json.load(open(path))
problems = []
def want(what, condition):
    if not condition:
        problems.append(what)
want("backend direct", report["backend"] == "direct")
want("device", report["device"] == "netstack over TAP tap0")
want("interface ip/mac/mtu", report["interface"] == {"ip": stack + "/24", "mac": mac, "mtu": 1500})
want("arp: the host side", {"ip": host, "mac": host_mac, "state": "reachable"} in report["arp"])
want("listeners", report["tcp"]["listeners"] == [7, 9, 19, 80, 8007])
connections = {c["remote"]: c for c in report["tcp"]["connections"]}
for port in ports.split():
    c = connections.get(f"{host}:{port}")
    want(f"connection from port {port}", c is not None and c["state"] == "ESTABLISHED"
         and c["local"].startswith(stack + ":") and c["bytes_sent"] > 0
         and isinstance(c["cwnd"], int))
want("six connections", len(report["tcp"]["connections"]) == 6)
want("udp ports", report["udp_ports"] == [7])
want("counters", report["counters"]["tcp"]["passive_opens"] >= 6
     and report["counters"]["icmp"]["echo_replies_sent"] >= 1)
print("; ".join(problems) if problems else "ok")
EOF
)
expect_eq "status --json: interface, ARP, listeners, the six connections, UDP ports, counters" ok "$checked"

# --- The client goes: so do its connections. ------------------------------------------------------
helper_stop "$HOLDER_PID"
for ((i = 0; i < 50; i++)); do
  text=$(status_text)
  grep -Eq "^tcp connections \(0, " <<<"$text" && break
  sleep 0.2
done
expect_match "no connections left once the client has gone" "^tcp connections \(0, plus [0-9]+ in TIME-WAIT\):$" "$text"
daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
[[ ! -e "$CONTROL" ]] || fail "the control socket is removed on exit"
ok "the control socket is removed on exit"
out=$("$NETSTACKD" status --control "$CONTROL" 2>&1) && status=0 || status=$?
expect_eq "status without a daemon: exit 1" 1 "$status"
expect_match "status without a daemon: says so" "is the daemon running with --control\?" "$out"

# --- The socket backend's report. ---------------------------------------------------------------
ns ip addr add 10.77.9.2/32 dev lo
daemon_start --backend socket --ip 10.77.9.2 --control "$CONTROL"
wait_for_line "$DAEMON_OUT" "serving" 10 >/dev/null
for ((i = 0; i < 50; i++)); do [[ -S "$CONTROL" ]] && break; sleep 0.1; done
text=$(status_text) || fail "status of the socket backend"
log "--- status of the socket backend ---"
sed 's/^/    | /' <<<"$text"
expect_match "socket backend: header" "^netstackd [0-9.]+: socket backend on host sockets, up [0-9]+ s$" "$text"
expect_match "socket backend: the bind addresses (::1 by default)" "^interface: ip 10\.77\.9\.2, ip6 ::1$" "$text"
json=$(status_json)
"$PYTHON" -m json.tool <<<"$json" >/dev/null || fail "socket backend: status --json is valid JSON" "valid" "$json"
expect_match "socket backend: --json" '"backend":"socket"' "$json"
expect_match "socket backend: --json lists the IPv6 bind address" '"ip6":\["::1"\]' "$json"
daemon_stop TERM
expect_eq "socket backend: exit status after SIGTERM" 0 "$DAEMON_STATUS"
