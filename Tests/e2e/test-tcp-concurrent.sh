#!/usr/bin/env bash
# 200 concurrent clients: 200 slow HTTP clients started together each fetch a 1 MB file of
# random bytes from --http-root at a steady 150 kB/s (Tests/e2e/tools/paced-clients.py: one
# thread each, 64 KiB receive buffers), so that each takes several seconds and all 200 connections are open
# at once, which the daemon's status must show (at least MIN_PEAK connections ESTABLISHED at
# one moment). curl --limit-rate cannot do this: it reads most of a 1 MB file in a burst and
# finished in about 1.3 s of a planned 10, so whether 190 connections overlapped was luck.
# Every client must get status 200 and the file's sha256; afterwards no connection is left
# open.
source "$(dirname "$0")/lib.sh"
e2e_begin tcp-concurrent

CLIENTS=200
SIZE=1000000
RATE=150000   # bytes per second per client: about 7 s for the file
MIN_PEAK=190   # connections that must be open at once (clients start within a second or two)

mkdir "$WORK/root" "$WORK/out"
head -c "$SIZE" /dev/urandom >"$WORK/root/file.bin"
expected=$(sha256sum <"$WORK/root/file.bin" | cut -d' ' -f1)
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" \
  --http-root "$WORK/root" --control "$WORK/control"
daemon_wait_ready

# All the clients from one process in the namespace (a thread each); each writes its body,
# its "status size" line and its exit status.
started=$SECONDS
ip netns exec "$NS" "$PYTHON" "$TOOLS/paced-clients.py" "$CLIENTS" "$STACK_IP" 80 /file.bin \
  "$RATE" "$WORK/out" </dev/null &
clients_pid=$!
HELPER_PIDS+=("$clients_pid")

# While they run: the most connections ESTABLISHED at once, and the daemon alive.
peak=0
while process_running "$clients_pid"; do
  established=$(status_value 's["tcp"]["connections_by_state"].get("ESTABLISHED", 0)') \
    || fail "reading the daemon's status"
  ((established > peak)) && peak=$established
  daemon_alive || fail "netstackd died with $CLIENTS clients"
  ((SECONDS - started < 120)) || fail "the clients did not finish within 120 s"
  sleep 0.5
done
wait "$clients_pid" || true
helper_stop "$clients_pid"
log "$CLIENTS clients done in $((SECONDS - started)) s; at most $peak connections established at once"
expect_ge "connections established at the same moment" "$MIN_PEAK" "$peak"

# Every client: exit 0, 200, the whole file, the right sha256.
statuses=$(cat "$WORK"/out/*.status | sort | uniq -c | xargs)
expect_eq "client exit statuses (count status)" "$CLIENTS 0" "$statuses"
outs=$(cat "$WORK"/out/*.out | sort | uniq -c | xargs)
expect_eq "HTTP status and size (count status size)" "$CLIENTS 200 $SIZE" "$outs"
digests=$(sha256sum "$WORK"/out/*.bin | cut -d' ' -f1 | sort | uniq -c | xargs)
expect_eq "sha256 of the bodies (count digest)" "$CLIENTS $expected" "$digests"
errors=$(find "$WORK/out" -name '*.err' -exec cat {} +)  # a client writes one only on error
expect_eq "client error messages" "" "$errors"

# Each client closes its connection as it exits; the stack must close all of them.
expect_eq "connections left open (all closed, TIME-WAIT aside)" 0 "$(open_connections 10)"
daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_eq "tcp.passive_opens" "$CLIENTS" "$(counter tcp.passive_opens)"
expect_eq "tcp.connections_reset" 0 "$(counter tcp.connections_reset)"
