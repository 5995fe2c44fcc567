#!/usr/bin/env bash
# 5000 hostile frames written into the TAP from the kernel's side with an AF_PACKET socket
# (tools/inject-frames.py: random bytes; truncated Ethernet/IPv4/ARP/UDP/ICMP; bad checksums;
# bad header fields; bogus fragments; ...) leave the daemon alive (same PID), within bounded
# memory, still answering ping and UDP echo, and its counters show the frames and the drops.
# The seed is printed; E2E_SEED=N replays a run.
source "$(dirname "$0")/lib.sh"
e2e_begin garbage

MAC=02:00:00:e2:e0:05
COUNT=5000
SEED=${E2E_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" --mac "$MAC"
daemon_wait_ready
pid=$DAEMON_PID
rss_before=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
tx_before=$(ns cat /sys/class/net/tap0/statistics/tx_packets)
tx_dropped_before=$(ns cat /sys/class/net/tap0/statistics/tx_dropped)

log "injecting $COUNT frames (seed $SEED; replay with E2E_SEED=$SEED)"
output=$(ns "$PYTHON" "$TOOLS/inject-frames.py" tap0 "$MAC" "$STACK_IP" "$HOST_IP" "$COUNT" "$SEED" 2>&1) \
  && status=0 || status=$?
printf '%s\n' "$output" | sed 's/^/    /'
expect_eq "injector wrote every frame (seed $SEED)" 0 "$status"
tx_sent=$(( $(ns cat /sys/class/net/tap0/statistics/tx_packets) - tx_before ))
tx_dropped=$(( $(ns cat /sys/class/net/tap0/statistics/tx_dropped) - tx_dropped_before ))
log "tap0 (kernel side) transmitted $tx_sent frames, dropped $tx_dropped"
sleep 1

if daemon_alive && [[ "$DAEMON_PID" == "$pid" ]]; then
  ok "netstackd still runs with the same PID ($pid) (seed $SEED)"
else
  fail "netstackd died under the injected frames (seed $SEED)" "pid $pid running" \
    "$(cat "$DAEMON_ERR" | tail -n 5)"
fi
rss_after=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
log "resident memory: ${rss_before} KiB before, ${rss_after} KiB after"
expect_le "resident memory growth in KiB (bounded tables)" 65536 $((rss_after - rss_before))

output=$(ns ping -c 5 -i 0.2 -W 2 "$STACK_IP" 2>&1) || true
expect_match "ping after the flood: 5 sent, 5 received, 0% loss (seed $SEED)" \
  '^5 packets transmitted, 5 received, 0% packet loss' "$output"
output=$(ns "$PYTHON" "$TOOLS/udp-echo-check.py" "$STACK_IP" 7 100 3000 2>&1) && status=0 || status=$?
expect_eq "UDP echo after the flood (seed $SEED): $(xargs <<<"$output")" 0 "$status"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_counters_printed
expect_le "frames the kernel's side of the TAP dropped (queue full)" $((COUNT / 20)) "$tx_dropped"
expect_ge "ethernet.frames_received (the injected frames reached the stack)" $((COUNT - tx_dropped)) \
  "$(counter ethernet.frames_received)"
dropped=$(counters_matching 'dropped|bad|overlap|discard|evict|timed_out|overflow|rate_limited|conflict')
expect_ge "drops and rejections counted, all layers" $((COUNT / 2)) "$dropped"
for name in ethernet.dropped_not_for_us ethernet.dropped_unknown_type ipv4.dropped_truncated \
  ipv4.dropped_bad_checksum ipv4.dropped_bad_version ipv4.dropped_bad_header_length \
  ipv4.reassembly_bad_fragments udp.dropped_truncated udp.dropped_bad_checksum \
  icmp.dropped_truncated icmp.dropped_bad_checksum; do
  expect_ge "$name" 1 "$(counter "$name")"
done
arp_dropped=$(counters_matching '^arp\.dropped')
expect_ge "arp.dropped_* (malformed ARP)" 1 "$arp_dropped"
