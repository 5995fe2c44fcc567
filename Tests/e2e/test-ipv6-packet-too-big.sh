#!/usr/bin/env bash
# A packet too big in the middle of a transfer over IPv6 (issue 13; RFC 8201 §5.2, RFC 4443
# §3.2): the stack (--no-offload, so that it sends MSS-sized segments of 1500 bytes) serves a
# 16 MB file that tools/paced-download.py reads at 2 MB/s; once the transfer runs,
# tools/packet-too-big.py catches one of the stack's full-size segments on tap0 and sends the
# stack an ICMPv6 packet too big about it, reporting an MTU of 1280, from the namespace's
# address. Then:
# - the transfer completes with the right sha256;
# - in a capture of tap0, no TCP packet from the stack is larger than 1280 bytes once
#   GRACE_SECONDS have passed since the packet too big (segments it wrote before it read the
#   message are still on their way), the packets after that fill the new MTU (the largest is
#   1280 bytes) and there are many of them (the transfer went on);
# - the status counters: icmpv6.packet_too_big_received 2 and path_mtus_lowered 1, and
#   tcp.path_mtu_decreases rose from 0 to 1.
# Before the true report, a forged one: the same tool, its quote's sequence number moved 1 GiB
# ahead of anything the stack sent. TCP must ignore it (RFC 5927 §4.1):
# tcp.path_mtu_reports_ignored rises to 1, tcp.path_mtu_decreases stays 0, and the stack still
# sends segments larger than 1280 bytes afterwards (the true report's tool waits for one). The
# IPv6 layer records the path MTU either way (RFC 8201 §4), for connections opened later.
source "$(dirname "$0")/lib.sh"
e2e_begin ipv6-packet-too-big

STACK_IP6=fd77::2
HOST_IP6=fd77::1
MTU=1280
SIZE=16000000
RATE=2000000       # bytes/s: the download takes about 8 s
GRACE_SECONDS=0.5  # after the packet too big, for what the stack wrote before it read it
FORGED_SHIFT=$((1 << 30))  # the forged report's quoted sequence number, moved 1 GiB ahead

mkdir "$WORK/root"
head -c "$SIZE" /dev/urandom >"$WORK/root/big.bin"
expected=$(sha256sum <"$WORK/root/big.bin" | cut -d' ' -f1)
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" --no-offload \
  --ip6 "$STACK_IP6/64" --host-ip6 "$HOST_IP6/64" --http-root "$WORK/root" \
  --control "$WORK/control"
daemon_wait_ready
ipv6_wait_ready "$STACK_IP6"
expect_eq "tcp.path_mtu_decreases before" 0 "$(status_value 's["counters"]["tcp"]["path_mtu_decreases"]')"

capture_start "$WORK/tap0.pcap" ip6
ip netns exec "$NS" timeout 120 "$PYTHON" "$TOOLS/paced-download.py" "$STACK_IP6" 80 /big.bin \
  "$RATE" "$WORK/big.bin" >"$WORK/download.out" 2>"$WORK/download.err" </dev/null &
download_pid=$!
HELPER_PIDS+=("$download_pid")
for _ in $(seq 150); do
  (($(stat -c %s "$WORK/big.bin" 2>/dev/null || echo 0) >= 2000000)) && break
  sleep 0.1
done
expect_ge "the download is under way (bytes)" 2000000 "$(stat -c %s "$WORK/big.bin" 2>/dev/null || echo 0)"

ns "$PYTHON" "$TOOLS/packet-too-big.py" tap0 "$STACK_IP6" 80 "$MTU" "$FORGED_SHIFT" \
  >"$WORK/forged.out" 2>&1 || fail "packet-too-big.py (forged) failed" "exit 0" "$(cat "$WORK/forged.out")"
log "forged packet too big sent: $(cat "$WORK/forged.out")"
ignored=0
for _ in $(seq 100); do
  ignored=$(status_value 's["counters"]["tcp"].get("path_mtu_reports_ignored", 0)')
  ((ignored >= 1)) && break
  sleep 0.1
done
expect_eq "tcp.path_mtu_reports_ignored after the forged packet too big" 1 "$ignored"
expect_eq "tcp.path_mtu_decreases after the forged packet too big" 0 \
  "$(status_value 's["counters"]["tcp"]["path_mtu_decreases"]')"

ns "$PYTHON" "$TOOLS/packet-too-big.py" tap0 "$STACK_IP6" 80 "$MTU" >"$WORK/ptb.out" 2>&1 \
  || fail "packet-too-big.py failed" "exit 0" "$(cat "$WORK/ptb.out")"
log "packet too big sent: $(cat "$WORK/ptb.out")"
at_report=$(stat -c %s "$WORK/big.bin")

download_status=0
wait "$download_pid" || download_status=$?
helper_stop "$download_pid"
capture_stop
expect_ge "bytes the download received after the packet too big" 4000000 \
  "$(($(stat -c %s "$WORK/big.bin") - at_report))"
expect_eq "the download: exit status" 0 "$download_status"
expect_eq "the download: HTTP status and bytes" "200 $SIZE" "$(cat "$WORK/download.out")"
expect_eq "the download: sha256" "$expected" "$(sha256sum <"$WORK/big.bin" | cut -d' ' -f1)"

# The capture: the time of the packet too big, then the sizes of the stack's TCP packets.
# The true report is the second packet too big (the first is the forged one).
report_time=$(tshark -r "$WORK/tap0.pcap" -Y 'icmpv6.type == 2' -T fields -e frame.time_epoch \
  2>/dev/null | tail -n 1)
[[ -n "$report_time" ]] || fail "the capture has no packet too big"
tshark -r "$WORK/tap0.pcap" -Y "ipv6.src == $STACK_IP6 && tcp" -T fields -e frame.time_epoch \
  -e frame.len 2>/dev/null >"$WORK/sizes.txt"
# frame.len includes the 14-byte Ethernet header.
read -r before_big grace_big last_big_ms after_count after_big after_max < <(awk -v t0="$report_time" \
  -v grace="$GRACE_SECONDS" -v mtu="$MTU" '
  { size = $2 - 14
    if ($1 < t0) { if (size > mtu) before++ }
    else if ($1 < t0 + grace) { if (size > mtu) { inGrace++; last = $1 - t0 } }
    else { count++; if (size > mtu) big++; if (size > max) max = size } }
  END { printf "%d %d %.1f %d %d %d\n", before, inGrace, last * 1000, count, big, max }' "$WORK/sizes.txt")
log "stack packets over $MTU bytes: $before_big before the packet too big, $grace_big within $GRACE_SECONDS s after it (the last $last_big_ms ms after it); after that $after_count packets, $after_big over $MTU, the largest $after_max bytes"
expect_ge "full-size (1500-byte) packets before the packet too big" 100 "$before_big"
expect_ge "the stack's TCP packets after the packet too big (the transfer went on)" 1000 "$after_count"
expect_eq "the stack's TCP packets over $MTU bytes after the packet too big (and ${GRACE_SECONDS} s)" 0 "$after_big"
expect_eq "the largest TCP packet after the packet too big fills the new MTU" "$MTU" "$after_max"

json=$(daemon_status_json)
expect_eq "icmpv6.packet_too_big_received" 2 "$(status_value 's["counters"]["icmpv6"]["packet_too_big_received"]' "$json")"
expect_eq "icmpv6.path_mtus_lowered" 1 "$(status_value 's["counters"]["icmpv6"]["path_mtus_lowered"]' "$json")"
expect_eq "tcp.path_mtu_decreases after" 1 "$(status_value 's["counters"]["tcp"]["path_mtu_decreases"]' "$json")"
expect_eq "tcp.path_mtu_reports_ignored after" 1 "$(status_value 's["counters"]["tcp"]["path_mtu_reports_ignored"]' "$json")"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
