#!/usr/bin/env bash
# More hostile demand than the memory budget holds (issue 11): clients that never read, from
# echo (after sending until their socket takes no more) and from chargen, 4,000 of each against
# a 64 MiB budget. The stack must bound itself as Linux's tcp_mem does: it fills to its levels,
# then refuses new connections (their SYNs dropped and counted) rather than let the existing
# ones run short; nothing passes the limit, resident memory stays under the budget plus a fixed
# overhead, ping is answered throughout, and once the clients leave, the memory comes back
# and a download works again.
source "$(dirname "$0")/lib.sh"
e2e_begin memory-overload

COUNT=${HOSTILE_COUNT:-4000}
LIMIT_MIB=64
OVERHEAD_MIB=48

daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" \
  --control "$WORK/control" --memory-limit "${LIMIT_MIB}M" --tcp-user-timeout 3600 \
  --tcp-keepalive off
daemon_wait_ready

memory() { status_value "s['memory']['$1']"; }
tcp_counter() { status_value "s['counters']['tcp'].get('$1', 0)"; }

for spec in "echo:7" "chargen:19"; do
  kind=${spec%%:*}
  ip netns exec "$NS" timeout 600 "$PYTHON" "$TOOLS/hostile-clients.py" "$STACK_IP" "$spec:$COUNT" \
    >"$WORK/$kind.out" 2>"$WORK/$kind.err" &
  HELPER_PIDS+=($!)
done

# Wait until the stack refuses connections for want of memory, pinging meanwhile.
refused=0
deadline=$((SECONDS + 180))
while ((SECONDS < deadline)); do
  daemon_alive || fail "netstackd died under the load"
  # Liveness, not loss: under this flood the kernel's TAP queue may drop one echo request
  # among thousands of segments, so three tries, 0.2 s apart, and one answer within 2 s.
  ns ping -c 3 -i 0.2 -W 2 "$STACK_IP" 2>/dev/null | grep -q ' [1-3] received' ||
    fail "ping went unanswered under the load (3 tries)"
  refused=$(tcp_counter connections_refused_memory)
  ((refused > 100)) && break
  sleep 1
done
expect_ge "new connections refused for want of memory" 100 "$refused"
log "memory: $(memory used) of $(memory limit) bytes, state '$(memory state)', peak $(memory peak)"
expect_le "memory charged (bytes) within the limit" $((LIMIT_MIB << 20)) "$(memory peak)"
expect_eq "the budget is at its admission level" "refusing new connections" "$(memory state)"
ok "ping answered throughout"
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DAEMON_PID/status")
expect_le "peak resident memory (kB) within the budget plus the fixed overhead" \
  $(((LIMIT_MIB + OVERHEAD_MIB) * 1024)) "$hwm"

# The clients leave: their connections are reset, their memory comes back.
for pid in "${HELPER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; done
HELPER_PIDS=()
deadline=$((SECONDS + 60))
while ((SECONDS < deadline)) && [[ $(memory state) != normal ]]; do sleep 1; done
expect_eq "the budget is back to normal once the clients left" normal "$(memory state)"
result=$(ns curl -s -m 60 -o /dev/null -w '%{size_download}' "http://$STACK_IP/bytes/10000000") ||
  fail "the download after the load failed"
expect_eq "the download after the load" 10000000 "$result"

daemon_stop TERM 60
expect_eq "netstackd exit status" 0 "$DAEMON_STATUS"
expect_le "the budget's peak (bytes) within the limit" $((LIMIT_MIB << 20)) "$(counter memory.peak)"
