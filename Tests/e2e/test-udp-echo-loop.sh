#!/usr/bin/env bash
# A forged datagram must not start an echo loop (CERT CA-1996-01). Two netstackd daemons, A
# (10.77.0.2) and B (10.77.0.3), each on a TAP of one bridge in the namespace, both serve UDP
# echo on port 7. One datagram "from A's port 7" to B's port 7, written with a raw socket
# (tools/udp-spoof.py), must not be answered, since its source port is a service's: over the
# next 3 s each daemon sends at most a handful of datagrams (the daemons before this fix
# answered each other, tens of thousands of datagrams a second). Datagrams from the other
# small-service ports (0, 13 daytime, 19 chargen, 37 time, 123 ntp) are not answered either;
# each refusal is counted (udp_echo.refused_service_port in `netstackd status`), and a client
# on an ordinary port is still echoed.
source "$(dirname "$0")/lib.sh"
e2e_begin udp-echo-loop

A_IP=10.77.0.2
B_IP=10.77.0.3
WINDOW=3

ns ip link add br0 type bridge
ns ip addr add "$HOST_IP/$PREFIX" dev br0
ns ip link set br0 up
for tap in tap0 tap1; do
  ns ip tuntap add dev "$tap" mode tap vnet_hdr
  ns ip link set "$tap" master br0
  ns ip link set "$tap" up
done

daemon_start --tap tap0 --ip "$A_IP/$PREFIX" --host-ip none --serve echo:7 --control "$WORK/a.sock"
# B is started by hand (lib.sh tracks one daemon); the trap stops it by its PID.
ip netns exec "$NS" "$NETSTACKD" --tap tap1 --ip "$B_IP/$PREFIX" --host-ip none --serve echo:7 \
  --control "$WORK/b.sock" >"$WORK/b.out" 2>"$WORK/b.err" </dev/null &
B_PID=$!
HELPER_PIDS+=("$B_PID")
log "started netstackd B on tap1 (pid $B_PID)"
daemon_wait_ready "$A_IP"
deadline=$((SECONDS + 20))
until grep -q serving "$WORK/b.out" && ns ping -c 1 -W 1 -q "$B_IP" >/dev/null 2>&1; do
  process_running "$B_PID" || fail "netstackd B exited during startup" "running" "$(cat "$WORK/b.err")"
  ((SECONDS < deadline)) || fail "netstackd B did not answer ping at $B_IP within 20 s"
  sleep 0.2
done
ok "netstackd B is up and answers ping at $B_IP"

# status_of SOCKET EXPRESSION: a Python expression over that daemon's status report `s`.
status_of() {
  local json
  json=$(timeout 10 "$NETSTACKD" status --control "$1" --json 2>"$WORK/status.err") \
    || fail "netstackd status --control $1 did not answer within 10 s" "a report" "$(cat "$WORK/status.err")"
  status_value "$2" "$json"
}
SENT='s["counters"]["udp"].get("datagrams_sent", 0)'
DELIVERED='s["counters"]["udp"].get("datagrams_delivered", 0)'
REFUSED='s["counters"].get("udp_echo", {}).get("refused_service_port", 0)'

for ip in "$A_IP" "$B_IP"; do
  message="echo from an ordinary port, run $$, to $ip"
  echoed=$(printf '%s\n' "$message" | ns nc -u -w 2 "$ip" 7) || true
  expect_eq "nc -u to $ip:7 from an ephemeral port: the line came back" "$message" "$echoed"
done

# --- One forged datagram, A:7 -> B:7 ---
a_sent=$(status_of "$WORK/a.sock" "$SENT")
b_sent=$(status_of "$WORK/b.sock" "$SENT")
b_delivered=$(status_of "$WORK/b.sock" "$DELIVERED")
ns "$PYTHON" "$TOOLS/udp-spoof.py" "$A_IP" 7 "$B_IP" 7 1 | sed 's/^/    /'
deadline=$((SECONDS + 20))
until (($(status_of "$WORK/b.sock" "$DELIVERED") > b_delivered)); do
  ((SECONDS < deadline)) || fail "the forged datagram reached B within 20 s"
  sleep 0.2
done
ok "the forged datagram reached B's echo port"
# A measurement window, not a wait for a state: a loop shows as thousands of datagrams in it.
sleep "$WINDOW"
a_more=$(($(status_of "$WORK/a.sock" "$SENT") - a_sent))
b_more=$(($(status_of "$WORK/b.sock" "$SENT") - b_sent))
log "in the $WINDOW s after the forged datagram: A sent $a_more UDP datagrams, B sent $b_more"
expect_le "datagrams A sent after the forged datagram (no loop)" 3 "$a_more"
expect_le "datagrams B sent after the forged datagram (no loop)" 3 "$b_more"
expect_eq "B counted its refusal (udp_echo.refused_service_port)" 1 "$(status_of "$WORK/b.sock" "$REFUSED")"

# --- The other small-service ports, forged from B to A ---
a_sent=$(status_of "$WORK/a.sock" "$SENT")
ports="0 13 19 37 123"
for port in $ports; do
  ns "$PYTHON" "$TOOLS/udp-spoof.py" "$B_IP" "$port" "$A_IP" 7 1 >/dev/null
done
expected=$(wc -w <<<"$ports")
deadline=$((SECONDS + 20))
until (($(status_of "$WORK/a.sock" "$REFUSED") >= expected)); do
  ((SECONDS < deadline)) || fail "A counted the datagrams from ports $ports within 20 s" "$expected" \
    "$(status_of "$WORK/a.sock" "$REFUSED")"
  sleep 0.2
done
ok "A refused the datagrams from ports $ports (udp_echo.refused_service_port $expected)"
expect_eq "A sent nothing to them" 0 $(($(status_of "$WORK/a.sock" "$SENT") - a_sent))

# --- Both still serve ---
for ip in "$A_IP" "$B_IP"; do
  message="still echoing, run $$, at $ip"
  echoed=$(printf '%s\n' "$message" | ns nc -u -w 2 "$ip" 7) || true
  expect_eq "nc -u to $ip:7 after the forged datagrams" "$message" "$echoed"
done
text=$(timeout 10 "$NETSTACKD" status --control "$WORK/a.sock")
expect_match "status text shows the refusals" "^  udp_echo\.refused_service_port $expected$" "$text"

process_running "$B_PID" || fail "netstackd B still runs"
kill -TERM "$B_PID"
deadline=$((SECONDS + 10))
while process_running "$B_PID"; do
  ((SECONDS < deadline)) || fail "netstackd B did not stop within 10 s of SIGTERM"
  sleep 0.1
done
b_status=0
wait "$B_PID" || b_status=$?
expect_eq "B's exit status after SIGTERM" 0 "$b_status"
daemon_stop TERM
expect_eq "A's exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_eq "A's exit report: udp_echo.refused_service_port" "$expected" "$(counter udp_echo.refused_service_port)"
expect_eq "A's exit report: udp_echo.datagrams_echoed (the two nc lines)" 2 "$(counter udp_echo.datagrams_echoed)"
