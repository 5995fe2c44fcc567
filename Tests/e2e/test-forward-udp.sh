#!/usr/bin/env bash
# --forward udp:PORT=HOST:PORT: datagrams to the Swift stack's UDP port go to a UDP echo server
# on the host side of the TAP (10.77.0.1:7007, in the test's namespace) through a host socket
# of each sender's flow, and the answers come back to that sender from the stack's port.
# Checked: an echo answered; two senders at once each get their own answers (the echo server
# saw two different host-socket ports); a 1400-byte datagram round trip byte-exact; status and
# the counters show the flows; with --relay-idle-timeout 2 idle flows are closed
# (forward_udp.flows_expired); a bad --forward udp: spec exits 2 naming the option.
source "$(dirname "$0")/lib.sh"
e2e_begin forward-udp

cat >"$WORK/udp-echo.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 7007))
print("listening", flush=True)
while True:
    data, sender = s.recvfrom(65535)
    print("from %s:%d %d bytes" % (sender[0], sender[1], len(data)), flush=True)
    s.sendto(data, sender)
PY
cat >"$WORK/udp-client.py" <<'PY'
import hashlib, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
payload = sys.argv[3].encode() if sys.argv[3] != "-big" else bytes(range(256)) * 5 + b"x" * 120
for round in range(int(sys.argv[4]) if len(sys.argv) > 4 else 1):
    for attempt in range(5):
        s.sendto(payload, (sys.argv[1], int(sys.argv[2])))
        try:
            data, sender = s.recvfrom(65535)
            print("%s %s:%d" % (hashlib.sha256(data).hexdigest() if sys.argv[3] == "-big" else data.decode(), sender[0], sender[1]), flush=True)
            break
        except socket.timeout:
            print("timeout", flush=True)
PY

status=0
"$NETSTACKD" --tap tap0 --forward udp:5000=10.77.0.1 >/dev/null 2>"$WORK/bad.err" || status=$?
expect_eq "a bad --forward udp: spec exits 2" 2 "$status"
expect_match "and names the option" "^netstackd: --forward: 'udp:5000=10.77.0.1' is not udp:PORT=HOST:PORT" "$(cat "$WORK/bad.err")"

daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" \
  --forward udp:5000=10.77.0.1:7007 --relay-idle-timeout 2 --control "$WORK/control"
daemon_wait_ready
expect_match "the startup line names the UDP forward" "forwarding udp:5000 to 10\.77\.0\.1:7007" "$(cat "$DAEMON_OUT")"
ip netns exec "$NS" "$PYTHON" -u "$WORK/udp-echo.py" "$HOST_IP" >"$WORK/echo.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/echo.log" "^listening" 10 >/dev/null

out=$(ns "$PYTHON" -u "$WORK/udp-client.py" "$STACK_IP" 5000 hello 3)
expect_eq "three echoes through udp:5000, from the stack's port" \
  "hello $STACK_IP:5000 hello $STACK_IP:5000 hello $STACK_IP:5000" "$(grep -v timeout <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
ip netns exec "$NS" "$PYTHON" -u "$WORK/udp-client.py" "$STACK_IP" 5000 one 20 >"$WORK/one.out" &
one=$!
ip netns exec "$NS" "$PYTHON" -u "$WORK/udp-client.py" "$STACK_IP" 5000 two 20 >"$WORK/two.out" &
two=$!
wait "$one" "$two"
expect_eq "sender one got only its own answers" 20 "$(grep -c "^one $STACK_IP:5000" "$WORK/one.out")"
expect_eq "sender two got only its own answers" 20 "$(grep -c "^two $STACK_IP:5000" "$WORK/two.out")"
expected=$("$PYTHON" -c 'import hashlib; print(hashlib.sha256(bytes(range(256)) * 5 + b"x" * 120).hexdigest())')
out=$(ns "$PYTHON" -u "$WORK/udp-client.py" "$STACK_IP" 5000 -big)
expect_eq "a 1400-byte datagram comes back byte-exact" "$expected $STACK_IP:5000" "$(grep -v timeout <<<"$out")"
ports=$(awk '/^from / { split($2, a, ":"); print a[2] }' "$WORK/echo.log" | sort -u | wc -l)
expect_ge "the echo server saw a host socket per sender (ports)" 3 "$ports"
expect_match "the echo server saw netstackd's namespace's address (the host side)" "^from 10\.77\.0\.[12]:" "$(cat "$WORK/echo.log")"

# Idle flows are closed after 2 s.
deadline=$((SECONDS + 20))
while :; do
  active=$(status_value 's["counters"]["forward_udp"].get("flows_active", 0)' 2>/dev/null || echo x)
  [[ "$active" == 0 ]] && break
  ((SECONDS < deadline)) || fail "idle UDP forward flows closed within 20 s" "0 active" "$active"
  sleep 0.5
done
ok "idle flows closed (--relay-idle-timeout 2)"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_ge "forward_udp.flows_opened" 4 "$(counter forward_udp.flows_opened)"
expect_ge "forward_udp.flows_expired" 4 "$(counter forward_udp.flows_expired)"
expect_ge "forward_udp.datagrams_in" 44 "$(counter forward_udp.datagrams_in)"
