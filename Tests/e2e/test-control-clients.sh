#!/usr/bin/env bash
# Hostile clients of the control socket (`--control PATH`, issue 11): clients that close before
# the answer is written, shut down their reading side, never read, send nothing, half a
# request, 10,000 bytes without a line feed, or garbage, and 100 at once (the daemon serves 16
# at a time). The daemon must survive every one of them (a write to a client that left is
# EPIPE, never SIGPIPE), close the silent ones after its 5 s timeout, refuse the clients beyond
# its 16 at once at once, answer the bad requests with an error line, keep answering
# `netstackd status` throughout, show the control counters in status and at SIGTERM, exit 0
# and remove its socket.
source "$(dirname "$0")/lib.sh"
e2e_begin control-clients

CONTROL="$WORK/control"
CLIENTS=("$PYTHON" "$TOOLS/control-clients.py" "$CONTROL")

daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" --control "$CONTROL"
daemon_wait_ready

# clients ACTION [COUNT]: runs the hostile clients (their report in $WORK/clients.out); fails
# the test, with the daemon's exit status, if it died meanwhile.
clients() {
  if "${CLIENTS[@]}" "$@" >"$WORK/clients.out" 2>&1 && daemon_alive; then return 0; fi
  local i
  for ((i = 0; i < 50; i++)); do daemon_running || break; sleep 0.1; done # a daemon dying
  if ! daemon_running; then
    local status=0
    wait "$DAEMON_PID" || status=$?
    DAEMON_PID=""
    fail "netstackd survives the $1 clients" "running" \
      "exited with status $status$( ((status == 141)) && echo ' (SIGPIPE)')"
  fi
  fail "control-clients.py $*" "exit 0" "$(cat "$WORK/clients.out")"
}

# status_works WHEN: `netstackd status` answers and the daemon still runs.
status_works() {
  local text
  daemon_alive || fail "netstackd still runs $1" "running" "exited"
  text=$(timeout 20 "$NETSTACKD" status --control "$CONTROL" 2>&1) \
    || fail "netstackd status answers $1" "exit 0" "$text"
  grep -q "^interface: ip $STACK_IP/$PREFIX" <<<"$text" || fail "status report $1" "the interface line" "$text"
  ok "the daemon runs and answers status $1"
}

# --- Clients that leave before the answer is written. ---------------------------------------------
clients close-at-once 20
out=$(cat "$WORK/clients.out")
expect_eq "20 clients sent a request and closed at once" 20 "$(grep -c '^closed by the client$' <<<"$out")"
status_works "after 20 clients closed before their answer"

clients shut-read 5
out=$(cat "$WORK/clients.out")
expect_eq "5 clients that shut down their reading side are closed by the daemon" 5 \
  "$(grep -c '^closed after ' <<<"$out")"
status_works "after 5 clients shut down their reading side"

clients never-read 3
out=$(cat "$WORK/clients.out")
expect_eq "3 clients that never read are closed once the answer is written" 3 \
  "$(grep -c '^closed after ' <<<"$out")"
status_works "after 3 clients that never read"

# --- Clients that never finish a request: closed after the 5 s timeout. -------------------------------
clients silent
out=$(cat "$WORK/clients.out")
log "silent client: $out"
seconds=$(sed -n 's/^closed after \([0-9.]*\) s.*/\1/p' <<<"$out")
[[ -n "$seconds" ]] || fail "a silent client is closed by the daemon" "closed after ~5 s" "$out"
awk -v s="$seconds" 'BEGIN { exit !(s >= 4 && s < 20) }' \
  || fail "a silent client is closed after the 5 s timeout" "4 to 20 s" "$seconds s"
ok "a silent client is closed after the timeout ($seconds s)"
clients partial
out=$(cat "$WORK/clients.out")
expect_match "a client that sends half a request is closed after the timeout" '^closed after ([4-9]|1[0-9])\.' "$out"

# --- Bad requests get an error line. ------------------------------------------------------------------
clients long
out=$(cat "$WORK/clients.out")
expect_match "10,000 bytes without a line feed: an error answer" \
  "^closed after [0-9.]+ s answer: error: request longer than 256 bytes" "$out"
clients garbage
out=$(cat "$WORK/clients.out")
expect_match "garbage: an error answer quoting it printably" \
  "^closed after [0-9.]+ s answer: error: unknown request '\?\[2J\?'" "$out"
status_works "after bad requests"

# --- 100 clients at once: 16 are served (and time out), the rest are closed at once. ----------------
"${CLIENTS[@]}" hold 100 >"$WORK/hold.out" &
HOLD_PID=$!
HELPER_PIDS+=("$HOLD_PID")
# Meanwhile (the 16 places are taken for 5 s) status still gets through, by retrying.
status_works "while 100 clients hold the control socket"
wait "$HOLD_PID" || fail "the 100 clients' tool" "exit 0" "$(tail -n 5 "$WORK/hold.out")"
HELPER_PIDS=()
refused=$(awk '$1 == "closed" && $3 < 2 { n++ } END { print n + 0 }' "$WORK/hold.out")
timed_out=$(awk '$1 == "closed" && $3 >= 4 { n++ } END { print n + 0 }' "$WORK/hold.out")
still_open=$(grep -c '^open after' "$WORK/hold.out" || true)
expect_eq "no client of the 100 is left open" 0 "$still_open"
expect_ge "clients beyond the 16 closed at once (in under 2 s)" 80 "$refused"
expect_le "clients held until the timeout: at most 16" 16 "$timed_out"
expect_ge "clients held until the timeout" 10 "$timed_out"

# --- The counters, in status and at SIGTERM. ------------------------------------------------------------
json=$(daemon_status_json)
refused_counter=$(status_value 's["counters"]["control"]["clients_refused"]' "$json")
expect_ge "status: control.clients_refused" "$refused" "$refused_counter"
expect_ge "status: control.clients_timed_out (silent, partial, the 100's)" $((timed_out + 2)) \
  "$(status_value 's["counters"]["control"]["clients_timed_out"]' "$json")"
# The 5 that shut down their reading side always hang up on the daemon's write; each of the 20
# that closed at once did too, unless the daemon wrote its answer before the close.
expect_ge "status: control.clients_hung_up (at least the 5 shut-read ones)" 5 \
  "$(status_value 's["counters"]["control"]["clients_hung_up"]' "$json")"
expect_eq "status: control.requests_invalid" 2 \
  "$(status_value 's["counters"]["control"]["requests_invalid"]' "$json")"
text=$("$NETSTACKD" status --control "$CONTROL")
expect_match "status text: the control counters" "^  control\.clients_refused [0-9]+$" "$text"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_counters_printed
expect_ge "control.clients_refused in the exit report" "$refused" "$(counter control.clients_refused)"
expect_ge "control.clients_hung_up in the exit report" 5 "$(counter control.clients_hung_up)"
[[ ! -e "$CONTROL" ]] || fail "the control socket is removed on exit" "no $CONTROL" "it is there"
ok "the control socket is removed on exit"
