#!/usr/bin/env bash
# ARP against the kernel: after a ping, `ip neigh` in the namespace has the stack's address with
# the MAC given by --mac (and a usable state); arping gets unicast replies from that MAC; and
# without --mac the kernel learns the random MAC the daemon printed.
source "$(dirname "$0")/lib.sh"
e2e_begin arp

MAC=02:00:00:e2:e0:03
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" --mac "$MAC"
daemon_wait_ready

# Forget what the readiness probe taught the kernel, then make it ask again.
ns ip neigh flush dev tap0
expect_eq "neighbour entry gone after flush" "" "$(ns ip neigh show "$STACK_IP" dev tap0 | grep -v FAILED || true)"
ns ping -c 1 -W 2 -q "$STACK_IP" >/dev/null || fail "ping after flushing the neighbour table"
neighbour=$(ns ip neigh show "$STACK_IP" dev tap0)
expect_match "ip neigh has $STACK_IP at $MAC" "^$STACK_IP lladdr $MAC (REACHABLE|STALE|DELAY|PROBE)" "$neighbour"

output=$(ns arping -c 3 -w 5 -I tap0 "$STACK_IP" 2>&1) || true
replies=$(grep -ci "^Unicast reply from $STACK_IP \[$MAC\]" <<<"$output" || true)
expect_eq "arping: unicast replies from $STACK_IP [$MAC]" 3 "$replies"
others=$(grep -i "reply from" <<<"$output" | grep -vic "\[$MAC\]" || true)
expect_eq "arping: replies from any other MAC" 0 "$others"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_ge "arp.requests_received" 4 "$(counter arp.requests_received)"
expect_ge "arp.replies_sent" 4 "$(counter arp.replies_sent)"

# Without --mac: a random locally administered unicast MAC, the one printed at startup.
ns ip neigh flush dev tap0 2>/dev/null || true
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX"
daemon_wait_ready
printed=$(sed -n 's/.*: mac \([0-9a-f:]*\), ip .*/\1/p' "$DAEMON_OUT" | head -n 1)
expect_match "printed MAC is locally administered unicast" '^[0-9a-f]([26ae]):([0-9a-f]{2}:){4}[0-9a-f]{2}$' "$printed"
neighbour=$(ns ip neigh show "$STACK_IP" dev tap0)
expect_match "ip neigh has $STACK_IP at the printed MAC $printed" "^$STACK_IP lladdr $printed " "$neighbour"
daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
