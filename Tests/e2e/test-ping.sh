#!/usr/bin/env bash
# ping -c 50 at a 10 ms interval: every echo request is answered (0% loss), with the right
# size, no duplicates and no corrupted data, and the daemon counts 50 echo replies. Then with
# --busy-poll 300: a fast ping (0.2 ms apart) fully answered, and no CPU time used once idle.
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

# --busy-poll: the loop polls for a while after traffic, then sleeps again. Every echo of a fast
# ping is answered, and once traffic stops the daemon uses (almost) no CPU time: it is not
# left spinning.
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" --busy-poll 300
daemon_wait_ready
output=$(ns ping -c 500 -i 0.0002 -W 2 -w 30 "$STACK_IP" 2>&1) || true
expect_match "--busy-poll 300: 500 sent, 500 received, 0% loss" \
  '^500 packets transmitted, 500 received, 0% packet loss' "$output"
log "--busy-poll 300: $(tail -n 1 <<<"$output")"
# 2 s of spinning would be about 200 ticks (USER_HZ 100); a sleeping loop takes none.
expect_le "--busy-poll: CPU ticks used over 2 idle seconds" 10 "$(daemon_idle_ticks 0.5 2)"
daemon_stop TERM
expect_eq "--busy-poll: exit status after SIGTERM" 0 "$DAEMON_STATUS"
