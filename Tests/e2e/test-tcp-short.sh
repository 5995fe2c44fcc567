#!/usr/bin/env bash
# 20,000 short connections in a row, then 10,000 more: `ab` (HTTP/1.0 with `Connection:
# close`, 4 at a time) fetches / in batches of 10,000; each batch must complete every request,
# none failed, none non-2xx, and never stall (ab gives up after ab -s seconds without an
# answer; a batch has a time limit too). The Linux client reuses its ports after about 14,000
# connections, so the stack must accept new SYNs for ports in TIME-WAIT on its side (it must
# have done so at least once). The daemon keeps TIME-WAIT records for 30 s
# (`--tcp-time-wait 30`, half the default), which still spans the first 20,000 connections
# (about 7 s) and halves the wait for them to expire.
#
# Memory: the daemon's resident memory (VmRSS) is read after a warm-up (R0), after 10,000 and
# 20,000 connections (R10, R20), after the TIME-WAIT records of those have expired (Rd; up to
# 30 s), and after 10,000 more connections (R30). The tolerance:
#   - Rd - R0 <= GROWTH_KB (8 MiB): what the first 20,000 connections leave behind is bounded,
#     a few MiB: the TIME-WAIT table grew to hold about 11,000 records and the allocator keeps
#     the pages (seen: 3 MiB in release);
#   - R30 - Rd <= FLAT_KB (2 MiB): 10,000 further connections (fewer TIME-WAIT records at once
#     than the first batches) cost no more memory: a leak of 200 bytes or more per connection
#     would show;
# and after each batch, no connection is left open but TIME-WAIT ones.
#
# With SHORT_FAMILY=6 (test-ipv6-tcp-short.sh) the connections go over IPv6, to fd77::2.
source "$(dirname "$0")/lib.sh"
if [[ "${SHORT_FAMILY:-4}" == 6 ]]; then
  e2e_begin ipv6-tcp-short
  TARGET=fd77::2
  URL_HOST="[$TARGET]"
  IPV6_ARGS=(--ip6 "$TARGET/64" --host-ip6 fd77::1/64)
else
  e2e_begin tcp-short
  TARGET=$STACK_IP
  URL_HOST=$TARGET
  IPV6_ARGS=()
fi

BATCH=10000
GROWTH_KB=8192
FLAT_KB=2048
AB_TIMEOUT=10     # seconds ab waits for any answer before it gives up: a stall
BATCH_LIMIT=150   # seconds one batch may take (about 7 s in release on a busy machine)
TIME_WAIT=30      # seconds in TIME-WAIT (--tcp-time-wait)

daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" \
  "${IPV6_ARGS[@]}" --tcp-time-wait "$TIME_WAIT" --control "$WORK/control"
daemon_wait_ready
[[ "$TARGET" == "$STACK_IP" ]] || ipv6_wait_ready "$TARGET"

# batch N: N connections with ab; checks the report; prints nothing.
connections_done=0
batch() {
  local n=$1 status=0 started=$SECONDS
  ns timeout "$BATCH_LIMIT" ab -q -n "$n" -c 4 -s "$AB_TIMEOUT" -H 'Connection: close' \
    "http://$URL_HOST/" >"$WORK/ab.out" 2>"$WORK/ab.err" || status=$?
  if ((status != 0)); then
    fail "ab stopped with status $status after $((SECONDS - started)) s (124: over ${BATCH_LIMIT} s)" \
      "exit 0" "$(grep -E 'Complete|Failed|apr_|timeout' "$WORK/ab.out" "$WORK/ab.err" | head -5)"
  fi
  connections_done=$((connections_done + n))
  local complete failed non2xx rate
  complete=$(awk '/^Complete requests:/ { print $3 }' "$WORK/ab.out")
  failed=$(awk '/^Failed requests:/ { print $3 }' "$WORK/ab.out")
  non2xx=$(awk '/^Non-2xx responses:/ { print $3 }' "$WORK/ab.out")
  rate=$(awk '/^Requests per second:/ { print $4 }' "$WORK/ab.out")
  expect_eq "connections $((connections_done - n + 1))-$connections_done: complete, failed, non-2xx" \
    "$n 0 0" "$complete $failed ${non2xx:-0}"
  log "  in $((SECONDS - started)) s, $rate connections/s"
}

# rss_line LABEL: logs the daemon's VmRSS and TIME-WAIT records; sets RSS.
rss_line() {
  local open
  open=$(open_connections)
  RSS=$(daemon_rss_kb)
  log "$1: VmRSS $RSS kB, $(status_value 's["tcp"]["time_wait"]') in TIME-WAIT, $open other connections"
  expect_eq "connections open after $connections_done (TIME-WAIT aside)" 0 "$open"
}

batch 200
rss_line "after a warm-up of 200"
r0=$RSS
batch "$BATCH"
rss_line "after $connections_done"
r10=$RSS
batch "$BATCH"
rss_line "after $connections_done"
r20=$RSS
reused=$(status_value 's["counters"]["tcp"]["time_wait_reused"]')
expect_ge "new connections taken for tuples still in TIME-WAIT (tcp.time_wait_reused)" 1 "$reused"

# The TIME-WAIT records expire after $TIME_WAIT s.
log "waiting for the TIME-WAIT records to expire"
for _ in $(seq 90); do
  time_wait=$(status_value 's["tcp"]["time_wait"]')
  ((time_wait == 0)) && break
  sleep 1
done
expect_eq "TIME-WAIT records left (waited up to 90 s)" 0 "$time_wait"
rss_line "TIME-WAIT expired"
rd=$RSS
batch "$BATCH"
rss_line "after $connections_done"
r30=$RSS

log "VmRSS kB: R0 $r0, R10 $r10, R20 $r20, Rd $rd, R30 $r30 (R20 - R10 = $((r20 - r10)))"
expect_le "growth after 20,000 connections and TIME-WAIT expiry, Rd - R0 (kB)" "$GROWTH_KB" "$((rd > r0 ? rd - r0 : 0))"
expect_le "growth over 10,000 more connections, R30 - Rd (kB)" "$FLAT_KB" "$((r30 > rd ? r30 - rd : 0))"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
# ab may open one connection more than it needs at the end of a run, and close it.
expect_ge "tcp.passive_opens" "$connections_done" "$(counter tcp.passive_opens)"
expect_eq "tcp.connections_closed = tcp.connections_established" \
  "$(counter tcp.connections_established)" "$(counter tcp.connections_closed)"
expect_eq "tcp.connections_reset" 0 "$(counter tcp.connections_reset)"
expect_eq "tcp.time_wait_overflows" 0 "$(counter tcp.time_wait_overflows)"
