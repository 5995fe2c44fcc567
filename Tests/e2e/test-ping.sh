#!/usr/bin/env bash
# ping -c 50 at a 10 ms interval: every echo request is answered (0% loss), with the right
# size, no duplicates and no corrupted data, and the daemon counts 50 echo replies.
source "$(dirname "$0")/lib.sh"
e2e_begin ping

daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX"
daemon_wait_ready

output=$(ns ping -c 50 -i 0.01 -W 2 -w 30 "$STACK_IP" 2>&1) || true
expect_match "ping: 50 sent, 50 received, 0% loss" \
  '^50 packets transmitted, 50 received, 0% packet loss' "$output"
replies=$(grep -c "^64 bytes from $STACK_IP: icmp_seq=" <<<"$output" || true)
expect_eq "64-byte replies from $STACK_IP" 50 "$replies"
expect_no_match "no duplicate or corrupted replies" 'DUP!|wrong data|truncated' "$output"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
# 50 from this test's ping plus the readiness probes.
expect_ge "icmp.echo_replies_sent" 51 "$(counter icmp.echo_replies_sent)"
expect_eq "icmp.echo_requests_received equals echo_replies_sent" \
  "$(counter icmp.echo_requests_received)" "$(counter icmp.echo_replies_sent)"
