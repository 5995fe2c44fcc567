#!/usr/bin/env bash
# Memory that stays bounded whatever remote peers do (issue 11): with 10,000 hostile
# connections of each of five kinds held at once (50,000), the daemon's resident memory stays
# under its memory budget plus a fixed overhead, and a fresh download of /bytes/100000000 still
# completes at no less than half the speed it had before the load.
#
# The budget is 768 MiB here: the stack's own accounting puts these 50,000 connections at
# about 480 MB (mostly the 14.6 kB each echo client fills and the send backlogs), more than the
# default 256 MiB holds; with the default, the stack would refuse new connections once the
# budget is 7/8 full, which test-memory-overload.sh shows.
#
# The kinds, all from inside the namespace:
#   - out of order at the window's edge: tools/window-edge.py makes its own handshakes with
#     the discard service and sends one byte at the far edge of each window the stack offers
#     (on main before the fix, each such connection reserved the whole 4 MiB window);
#   - clients that never read: from chargen, from echo after sending until their socket took
#     no more, and from /bytes/1000000000 (tools/hostile-clients.py);
#   - request heads that trickle in a byte per connection per second.
# The service timeouts are raised for the test so that every hostile connection is still held
# when the download runs (the timeouts themselves are tested elsewhere).
source "$(dirname "$0")/lib.sh"
e2e_begin memory-hostile

COUNT=${HOSTILE_COUNT:-10000}
LIMIT_MIB=768
OVERHEAD_MIB=48     # the daemon's code, runtime, thread stacks and the allocator's own slack
# 100 MB takes about 0.1 s: long enough that the trickling clients' once-a-second burst of
# 10,000 one-byte segments, or one scheduler tick, is a small part of it (10 MB took 7 ms and
# the loaded best of three swung from 0.37 to 0.73 of the unloaded speed between CI runs).
SIZE=100000000

daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" \
  --control "$WORK/control" --memory-limit "${LIMIT_MIB}M" --tcp-user-timeout 3600 \
  --http-header-timeout 3600 --http-keepalive-timeout 3600 --http-send-timeout 3600 \
  --tcp-keepalive off
daemon_wait_ready

# download: the speed (bytes/s) of one curl of /bytes/SIZE, checked for size.
download() {
  local result
  result=$(ns curl -s -m 120 -o /dev/null -w '%{size_download} %{speed_download}' \
    "http://$STACK_IP/bytes/$SIZE") || fail "curl of /bytes/$SIZE failed"
  [[ ${result%% *} == "$SIZE" ]] || fail "curl of /bytes/$SIZE got ${result%% *} bytes"
  echo "${result##* }" | cut -d. -f1
}
# The unloaded speed: the best of five.
unloaded=0 speeds=()
for _ in 1 2 3 4 5; do
  speed=$(download)
  speeds+=("$speed")
  ((speed > unloaded)) && unloaded=$speed
done
log "unloaded download: $unloaded bytes/s (all: ${speeds[*]})"
idle_rss=$(daemon_rss_kb)
log "idle resident memory: $idle_rss kB"

# The kernel knows nothing of window-edge.py's connections: its RSTs for them are dropped.
ns nft -f - <<RULES || fail "nft: could not add the rule"
table inet e2e_edge {
  chain out { type filter hook output priority 0; policy accept;
    tcp sport 10000-$((10000 + COUNT - 1)) tcp flags rst drop; }
}
RULES

ip netns exec "$NS" timeout 900 "$PYTHON" "$TOOLS/window-edge.py" "$HOST_IP" "$STACK_IP" 9 "$COUNT" 10000 \
  >"$WORK/edge.out" 2>"$WORK/edge.err" &
HELPER_PIDS+=($!)
edge=$(wait_for_line "$WORK/edge.out" '^established' 180)
log "window edge: $edge"
# One process per kind: a process may hold 20,000 descriptors here (the hard limit).
for spec in "chargen:19" "echo:7" "bytes:80" "trickle:80"; do
  kind=${spec%%:*}
  ip netns exec "$NS" timeout 900 "$PYTHON" "$TOOLS/hostile-clients.py" "$STACK_IP" "$spec:$COUNT" \
    >"$WORK/$kind.out" 2>"$WORK/$kind.err" &
  HELPER_PIDS+=($!)
done
for kind in chargen echo bytes trickle; do
  wait_for_line "$WORK/$kind.out" '^holding' 400 >/dev/null
  log "hostile clients: $(head -n 1 "$WORK/$kind.out")"
done

# Every kind was served (most connections of each established), not refused wholesale.
established() { awk -v kind="$1" '$1 == kind { print $3 }' "$WORK/$1.out"; }
expect_ge "window-edge connections established" $((COUNT * 9 / 10)) "$(awk '{ print $2 }' <<<"$edge" | tr -d ,)"
for kind in chargen echo bytes trickle; do
  expect_ge "$kind connections established" $((COUNT * 9 / 10)) "$(established "$kind")"
done
# Let the never-reading clients fill what they can.
sleep_until=$((SECONDS + 10))
while ((SECONDS < sleep_until)); do daemon_alive || fail "netstackd died under the load"; sleep 1; done

# Loaded, as unloaded: the best of five.
loaded=0 speeds=()
for _ in 1 2 3 4 5; do
  speed=$(download)
  speeds+=("$speed")
  ((speed > loaded)) && loaded=$speed
done
log "loaded download: $loaded bytes/s (unloaded $unloaded; all: ${speeds[*]})"
expect_ge "the download under load is at least half as fast (bytes/s)" $((unloaded / 2)) "$loaded"
ns ping -c 3 -W 2 "$STACK_IP" >/dev/null || fail "ping failed under the load"
ok "ping answered under the load"

hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DAEMON_PID/status")
log "peak resident memory: $hwm kB (idle $idle_rss kB)"
expect_le "peak resident memory (kB) within the budget plus the fixed overhead" \
  $(((LIMIT_MIB + OVERHEAD_MIB) * 1024)) "$hwm"

for pid in "${HELPER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
daemon_stop TERM 60
expect_eq "netstackd exit status" 0 "$DAEMON_STATUS"
expect_counters_printed
peak=$(counter memory.peak)
log "memory budget: peak $peak of $((LIMIT_MIB << 20)) bytes charged"
expect_le "the budget's peak (bytes) within the limit" $((LIMIT_MIB << 20)) "$peak"
