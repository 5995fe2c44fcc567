#!/usr/bin/env bash
# TCP both ways round, 20 MB each:
# - a Linux client: `nc` sends 20 MB of random bytes to the stack's echo service (port 7),
#   half-closes, and gets back exactly the same bytes (sha256 and cmp);
# - a Swift client: `netstackd --echo-client` connects out through the Swift stack to an echo
#   server in the namespace (tools/tcp-echo-server.py on the kernel), sends 20 MB of its
#   pattern and reads it back; the daemon reports "sent N bytes, received N bytes, identical",
#   and the server reports the sha256 of what it received, which must be the pattern's.
source "$(dirname "$0")/lib.sh"
e2e_begin tcp-echo

BYTES=20000000
PORT=5007

# The kernel's echo server, up before the daemon (whose client connects once it is up).
ip netns exec "$NS" "$PYTHON" "$TOOLS/tcp-echo-server.py" 0.0.0.0 "$PORT" 1 \
  >"$WORK/server.out" 2>"$WORK/server.err" </dev/null &
server_pid=$!
HELPER_PIDS+=("$server_pid")
wait_for_line "$WORK/server.out" "^listening on" 10 >/dev/null

daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" \
  --control "$WORK/control" --echo-client "$HOST_IP:$PORT,$BYTES"
daemon_wait_ready

# --- The Swift client ---
report=$(wait_for_line "$DAEMON_OUT" "echo client" 120)
expect_eq "Swift client: the daemon's report" \
  "netstackd: echo client $HOST_IP:$PORT: sent $BYTES bytes, received $BYTES bytes, identical" "$report"
served=$(wait_for_line "$WORK/server.out" "^connection from" 30)
# EchoClient's pattern: byte i is (7 i + i / 256) mod 256, which repeats every 65536 bytes.
pattern_sha=$("$PYTHON" -c 'import hashlib, sys
n = int(sys.argv[1])
period = bytes((i * 7 + (i >> 8)) & 255 for i in range(65536))
print(hashlib.sha256((period * (n // 65536 + 1))[:n]).hexdigest())' "$BYTES")
expect_eq "Swift client: what the kernel's echo server received (peer, bytes, sha256)" \
  "connection from $STACK_IP: echoed $BYTES bytes, sha256 $pattern_sha" \
  "$(sed -E 's/^(connection from [0-9.]+):[0-9]+/\1/' <<<"$served")"
server_status=0
wait "$server_pid" || server_status=$?
helper_stop "$server_pid"
expect_eq "the echo server's exit status" 0 "$server_status"

# --- The Linux client ---
head -c "$BYTES" /dev/urandom >"$WORK/sent.bin"
started=$SECONDS
ns timeout 120 nc -N "$STACK_IP" 7 <"$WORK/sent.bin" >"$WORK/received.bin" \
  || fail "nc to the echo service failed or took over 120 s (status $?)"
log "nc: 20 MB there and back in $((SECONDS - started)) s"
sent_sha=$(sha256sum <"$WORK/sent.bin" | cut -d' ' -f1)
received_sha=$(sha256sum <"$WORK/received.bin" | cut -d' ' -f1)
log "sha256 sent:     $sent_sha"
log "sha256 received: $received_sha"
expect_eq "Linux client: bytes echoed" "$BYTES" "$(stat -c %s "$WORK/received.bin")"
expect_eq "Linux client: sha256 of the echo" "$sent_sha" "$received_sha"
cmp -s "$WORK/sent.bin" "$WORK/received.bin" || fail "Linux client: cmp found a difference"
ok "Linux client: cmp finds the echo identical"

expect_eq "connections left open (all closed, TIME-WAIT aside)" 0 "$(open_connections)"
daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_eq "tcp.active_opens (the Swift client)" 1 "$(counter tcp.active_opens)"
expect_eq "tcp.passive_opens (nc)" 1 "$(counter tcp.passive_opens)"
expect_eq "tcp.connections_reset" 0 "$(counter tcp.connections_reset)"
