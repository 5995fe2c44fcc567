#!/usr/bin/env bash
# Progress deadlines (issue 11): what a client can hold by stalling ends after a bounded,
# settable time, as nginx's client_header_timeout, keepalive_timeout and send_timeout and
# TCP's user timeout (RFC 9293 §3.8.3, RFC 5482) and keepalive (RFC 1122 §4.2.3.6) end it.
# The timeouts are set short here (2-4 s); each case is judged against a generous deadline.
#   - half a request head, then nothing: 408, then the close, after --http-header-timeout;
#   - a connection that sends nothing: closed after --http-header-timeout;
#   - a kept-alive connection left idle: closed after --http-keepalive-timeout;
#   - /bytes/N never read: reset after --http-send-timeout;
#   - chargen never read (its window shut): reset after --tcp-user-timeout;
#   - an echo client that vanishes (its packets dropped by nftables): keepalive probes, then
#     the connection is dropped after --tcp-keepalive's idle + interval x count.
# Then the HTTP cases again on --backend socket: the same handlers, driven over host sockets,
# keep the same deadlines.
source "$(dirname "$0")/lib.sh"
e2e_begin timeouts

daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" \
  --control "$WORK/control" --http-header-timeout 2 --http-keepalive-timeout 3 \
  --http-send-timeout 2 --tcp-user-timeout 4 --tcp-keepalive 2,1,2
daemon_wait_ready

# run_case CASE MINIMUM MAXIMUM: one stalling client; the service must end it the expected way
# after MINIMUM to MAXIMUM seconds (not before its timeout, and not long after).
run_case() {
  local case=$1 line seconds
  line=$(ip netns exec "$NS" timeout 150 "$PYTHON" "$TOOLS/slow-clients.py" "$STACK_IP" "$case") ||
    fail "$case: the service did not end it as expected" "" "$line"
  seconds=$(awk '{ print $(NF - 1) }' <<<"$line")
  awk -v s="$seconds" -v lo="$2" -v hi="$3" 'BEGIN { exit !(s >= lo && s <= hi) }' ||
    fail "$case: ended after $seconds s" "between $2 and $3 s" "$seconds"
  ok "$line"
}

run_case partial-head 1.5 25
run_case silent 1.5 25
run_case idle 2.5 25
run_case unread 1.5 30
run_case zero-window 3.5 35

# Keepalive: an echo connection whose peer vanishes.
exec 3< <(ip netns exec "$NS" "$PYTHON" -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 7))
s.sendall(b"x"); s.recv(1)
print(s.getsockname()[1], flush=True)
time.sleep(120)' "$STACK_IP")
read -r -t 20 port <&3 || fail "the keepalive client did not connect"
ns nft -f - <<RULES || fail "nft: could not add the rule"
table inet e2e_vanish {
  chain in { type filter hook input priority 0; policy accept; tcp dport $port drop; }
  chain out { type filter hook output priority 0; policy accept; tcp sport $port drop; }
}
RULES
deadline=$((SECONDS + 60))
timed_out=0
while ((SECONDS < deadline)); do
  timed_out=$(status_value "s['counters']['tcp'].get('connections_timed_out', 0)")
  ((timed_out >= 1)) && break
  sleep 0.5
done
expect_ge "the vanished peer's connection timed out (tcp.connections_timed_out)" 1 "$timed_out"
expect_ge "keepalive probes were sent" 2 "$(status_value "s['counters']['tcp'].get('keepalive_probes', 0)")"

daemon_stop TERM
expect_eq "netstackd exit status" 0 "$DAEMON_STATUS"
expect_ge "http.header_timeouts (the partial head and the silent connection)" 2 "$(counter http.header_timeouts)"
expect_ge "http.keepalive_timeouts" 1 "$(counter http.keepalive_timeouts)"
expect_ge "http.send_timeouts" 1 "$(counter http.send_timeouts)"
expect_ge "tcp.user_timeouts" 1 "$(counter tcp.user_timeouts)"

# --- The same HTTP handlers on the host's own sockets ----------------------------------------
ns ip addr add "$STACK_IP/32" dev lo
daemon_start --backend socket --ip "$STACK_IP" --control "$WORK/control-socket" \
  --http-header-timeout 2 --http-keepalive-timeout 3 --http-send-timeout 2
daemon_wait_ready
for ((i = 0; i < 50; i++)); do
  ns curl -s -m 2 -o /dev/null "http://$STACK_IP/" && break
  sleep 0.2
done
run_case partial-head 1.5 25
run_case silent 1.5 25
run_case idle 2.5 25
run_case unread 1.5 30
daemon_stop TERM
expect_eq "socket backend: netstackd exit status" 0 "$DAEMON_STATUS"
expect_ge "socket backend: http.header_timeouts" 2 "$(counter http.header_timeouts)"
expect_ge "socket backend: http.send_timeouts" 1 "$(counter http.send_timeouts)"
