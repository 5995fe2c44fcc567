#!/usr/bin/env bash
# A bare `netstackd --tap tap0`, no other option: it says what it chose (a created tap0, a random
# MAC, 10.77.0.2/24, no gateway, MTU 1500, host side 10.77.0.1/24), the host side really has
# that address and MTU and is up, and ping and UDP echo reach the address it printed.
source "$(dirname "$0")/lib.sh"
e2e_begin defaults

daemon_start --tap tap0
# Wait for the startup lines before reading the address from them.
for _ in $(seq 100); do grep -q serving "$DAEMON_OUT" && break; daemon_running || break; sleep 0.1; done
banner=$(head -n 1 "$DAEMON_OUT")
log "it printed: $banner"
expect_match "startup line" \
  '^netstackd: tap0 \(created\): mac [0-9a-f:]{17}, ip [0-9.]+/[0-9]+, gateway none, ip6 link-local only, mtu 1500; host side [0-9.]+/[0-9]+$' \
  "$banner"
expect_match "services line names ping and echo on port 7" '^netstackd: serving .*icmp echo.*echo:7.*; stop with SIGINT or SIGTERM$' \
  "$(cat "$DAEMON_OUT")"
stack=$(sed -n 's/.*, ip \([0-9.]*\/[0-9]*\), gateway.*/\1/p' <<<"$banner")
host=$(sed -n 's/.*; host side \([0-9.]*\/[0-9]*\)$/\1/p' <<<"$banner")
expect_eq "default stack address" "10.77.0.2/24" "$stack"
expect_eq "default host-side address" "10.77.0.1/24" "$host"
daemon_wait_ready "${stack%/*}"

expect_eq "tap0 in the namespace has the printed host-side address" "$host" \
  "$(ns ip -o -4 addr show dev tap0 | awk '{print $4}' | xargs)"
expect_match "tap0 is up with MTU 1500" '<[^>]*UP[^>]*> mtu 1500 ' "$(ns ip link show dev tap0)"
output=$(ns ping -c 5 -i 0.2 -W 2 "${stack%/*}" 2>&1) || true
expect_match "ping to the printed address ${stack%/*}: 0% loss" '^5 packets transmitted, 5 received, 0% packet loss' "$output"
message="defaults $$"
expect_eq "UDP echo at the printed address" "$message" "$(printf '%s\n' "$message" | ns nc -u -w 2 "${stack%/*}" 7 || true)"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_counters_printed
