#!/usr/bin/env bash
# Hostile peers of the Unix-socket frame link (issue 11), played by tools/unix-peer.py:
#
# --unix-listen: peers that send a frame length of 0, one above the maximum (65553) and
# 0xffffffff, one that floods echo requests without reading and vanishes (the daemon's answers
# meet a closed socket: EPIPE, never SIGPIPE), one that shuts down its reading side, and a
# second peer that waits while a first is connected (the daemon must not spin on it). Each is
# dropped and counted, and a well-behaved peer pinging through is served after each; the
# counters show in status and at SIGTERM, which stops the daemon with status 0 and removes its
# socket.
#
# --unix: a peer that sends a length of 0, and one that floods and vanishes, end the link as the
# help promises ("exits when the peer leaves"): status 1, a message naming the peer's fault,
# the counters printed, the control socket removed; never death by SIGPIPE (status 141).
source "$(dirname "$0")/lib.sh"
e2e_begin unix-peers

PEER=("$PYTHON" "$TOOLS/unix-peer.py" --ip 10.77.0.10 --stack "$STACK_IP")
mkdir -m 700 "$WORK/link"
SOCKET="$WORK/link/netstackd.sock"
CONTROL="$WORK/control"

# unix_counter NAME: the unix_socket counter NAME from the daemon's status now.
unix_counter() { status_value "s['counters'].get('unix_socket', {}).get('$1', 0)"; }

# wait_unix_counter NAME MINIMUM: waits (up to 30 s) until the counter reaches MINIMUM.
wait_unix_counter() {
  local value i
  for ((i = 0; i < 150; i++)); do
    daemon_alive || fail "netstackd still runs while waiting for unix_socket.$1" "running" "exited"
    value=$(unix_counter "$1")
    ((value >= $2)) && { ok "unix_socket.$1 reached $value"; return 0; }
    sleep 0.2
  done
  fail "unix_socket.$1 reaches $2 within 30 s" ">= $2" "$value"
}

# peer_pings WHEN: a well-behaved peer gets 3 echo replies through the link.
peer_pings() {
  local out
  out=$(timeout 60 "${PEER[@]}" "$SOCKET" ping 3 2>&1) || fail "a good peer pings the stack $1" "replies 3" "$out"
  expect_eq "a good peer pings the stack $1" "replies 3" "$out"
}

# expect_dropped WHAT OUTPUT: the tool saw the daemon close the connection.
expect_dropped() {
  expect_match "$1: the daemon closes the connection" '^closed after [0-9.]+ s$' "$2"
  daemon_alive || fail "netstackd still runs after $1" "running" "exited"
  ok "netstackd still runs after $1"
}

# daemon_wait_exit SECONDS: waits for the daemon to exit by itself; sets DAEMON_STATUS.
daemon_wait_exit() {
  local i
  for ((i = 0; i < $1 * 10; i++)); do
    daemon_running || break
    sleep 0.1
  done
  daemon_running && fail "netstackd exits by itself within $1 s" "exited" "still running"
  DAEMON_STATUS=0
  wait "$DAEMON_PID" || DAEMON_STATUS=$?
  DAEMON_PID=""
  log "netstackd exited with status $DAEMON_STATUS"
}

# --- --unix-listen -------------------------------------------------------------------------------
daemon_start --unix-listen "$SOCKET" --ip "$STACK_IP/$PREFIX" --control "$CONTROL"
wait_for_line "$DAEMON_OUT" "serving" 20 >/dev/null
[[ -S "$SOCKET" ]] || fail "netstackd listens on $SOCKET"
peer_pings "first"

for length in 0 65554 4294967295; do
  out=$(timeout 60 "${PEER[@]}" "$SOCKET" bad-length "$length" 2>&1)
  expect_dropped "a peer that sent the frame length $length" "$out"
  peer_pings "after the frame length $length"
done
expect_eq "status: unix_socket.peers_dropped_bad_length" 3 "$(unix_counter peers_dropped_bad_length)"

closed_before=$(unix_counter peers_closed)
out=$(timeout 60 "${PEER[@]}" "$SOCKET" flood-and-vanish 2>&1) || fail "the flooding peer" "exit 0" "$out"
log "flooding peer: $out"
wait_unix_counter peers_closed $((closed_before + 1))
expect_ge "status: frames for the vanished peer dropped (unix_socket.frames_dropped_no_peer)" 1 \
  "$(unix_counter frames_dropped_no_peer)"
peer_pings "after a peer vanished with answers queued"

out=$(timeout 60 "${PEER[@]}" "$SOCKET" shut-read 2>&1)
expect_dropped "a peer that shut down its reading side" "$out"
peer_pings "after a peer that shut down its reading side"

# A second peer waits in the backlog while a first is connected; the daemon sleeps meanwhile.
accepted_before=$(unix_counter peers_accepted)
"${PEER[@]}" "$SOCKET" hold >"$WORK/first.out" 2>&1 &
FIRST_PID=$!
HELPER_PIDS+=("$FIRST_PID")
wait_for_line "$WORK/first.out" "^connected$" 20 >/dev/null
wait_unix_counter peers_accepted $((accepted_before + 1))
"${PEER[@]}" "$SOCKET" hold >"$WORK/second.out" 2>&1 &
SECOND_PID=$!
HELPER_PIDS+=("$SECOND_PID")
wait_for_line "$WORK/second.out" "^connected$" 20 >/dev/null
before=$(daemon_cpu_ticks)
started=$(date +%s.%N)
sleep 3 # the measurement window: CPU time the daemon uses while nothing happens
used=$(($(daemon_cpu_ticks) - before))
window=$(awk -v s="$started" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f", now - s }')
ticks=$(getconf CLK_TCK)
expect_le "CPU ticks (1/$ticks s) the daemon used in $window s while a second peer waited" \
  $((ticks / 5)) "$used"
helper_stop "$FIRST_PID"
wait_unix_counter peers_accepted $((accepted_before + 2))
helper_stop "$SECOND_PID"
peer_pings "after the waiting peer was served"

json=$(daemon_status_json)
expect_ge "status: unix_socket.peers_closed" 6 \
  "$(status_value 's["counters"]["unix_socket"]["peers_closed"]' "$json")"
expect_ge "status: unix_socket.frames_received" 20 \
  "$(status_value 's["counters"]["unix_socket"]["frames_received"]' "$json")"
daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_counters_printed
expect_eq "unix_socket.peers_dropped_bad_length in the exit report" 3 \
  "$(counter unix_socket.peers_dropped_bad_length)"
[[ ! -e "$SOCKET" ]] || fail "the socket file is removed on exit" "no $SOCKET" "it is there"
ok "the socket file is removed on exit"

# --- --unix: the peer's faults end the link, cleanly. -------------------------------------------------
PEER_SOCKET="$WORK/link/peer.sock"
for case in "bad-length 0|sent a frame length of 0 bytes" "flood-and-vanish|closed the connection"; do
  action=${case%%|*}
  message=${case#*|}
  rm -f "$PEER_SOCKET"
  peer_out="$WORK/peer-${action%% *}.out" # one per case: the background redirection is not instant
  # shellcheck disable=SC2086 # the action and its argument are two words
  "${PEER[@]}" --listen "$PEER_SOCKET" $action >"$peer_out" 2>&1 &
  PEER_PID=$!
  HELPER_PIDS+=("$PEER_PID")
  wait_for_line "$peer_out" "^listening$" 20 >/dev/null
  daemon_start --unix "$PEER_SOCKET" --ip "$STACK_IP/$PREFIX" --control "$CONTROL"
  daemon_wait_exit 60
  expect_eq "--unix, a peer that does $action: exit status 1 (not 141, SIGPIPE)" 1 "$DAEMON_STATUS"
  log "its standard error: $(cat "$DAEMON_ERR")"
  expect_match "--unix, $action: the message names the peer's fault" "$message" "$(cat "$DAEMON_ERR")"
  expect_counters_printed
  [[ ! -e "$CONTROL" ]] || fail "--unix, $action: the control socket is removed on exit"
  ok "--unix, $action: the control socket is removed on exit"
  helper_stop "$PEER_PID"
done
