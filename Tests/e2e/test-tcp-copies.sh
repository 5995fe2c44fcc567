#!/usr/bin/env bash
# One copy each way (issue 15), counted by the stack itself in its exit report:
# - discard: 20 MB from a Linux client; every received byte is copied once, from its segment
#   into the receive buffer (tcp.receive_bytes_copied_in), and the service takes it there
#   (tcp.receive_bytes_taken_in_place), never copied out again (tcp.receive_bytes_copied_out 0);
# - chargen and GET /bytes/N: 20 MB and 5 MB to Linux clients; the services' patterns are held
#   by the send buffers (tcp.send_bytes_held), not copied into them (tcp.send_bytes_copied_in
#   at most a twentieth of that: short writes are copied), and every byte sent is copied
#   once, into its segment (tcp.send_bytes_copied_out, retransmissions included).
source "$(dirname "$0")/lib.sh"
e2e_begin tcp-copies
CHECK=("$PYTHON" "$TOOLS/service-check.py")
BYTES=20000000
HTTP_BYTES=5000000

daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX"
daemon_wait_ready

output=$(ns "${CHECK[@]}" discard "$STACK_IP" 9 "$BYTES" 2>&1) || fail "discard" "ok" "$output"
ok "$output"
output=$(ns "${CHECK[@]}" chargen "$STACK_IP" 19 "$BYTES" 2>&1) || fail "chargen" "ok" "$output"
while read -r line; do ok "$line"; done <<<"$output"
result=$(ns curl -sS -m 60 -o "$WORK/bytes" -w '%{http_code} %{size_download}' \
  "http://$STACK_IP/bytes/$HTTP_BYTES") || fail "curl /bytes/$HTTP_BYTES"
expect_eq "GET /bytes/$HTTP_BYTES: status and size" "200 $HTTP_BYTES" "$result"
expect_eq "GET /bytes/$HTTP_BYTES: content" "$("${CHECK[@]}" pattern "$HTTP_BYTES")" \
  "$(sha256sum <"$WORK/bytes" | cut -d' ' -f1)"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_counters_printed
copied_in=$(counter tcp.receive_bytes_copied_in)
in_place=$(counter tcp.receive_bytes_taken_in_place)
log "received: $copied_in bytes copied in, $in_place taken in place, $(counter tcp.receive_bytes_copied_out) copied out"
expect_ge "tcp.receive_bytes_copied_in: the discarded bytes (and the request heads)" "$BYTES" "$copied_in"
expect_eq "tcp.receive_bytes_taken_in_place: all of them" "$copied_in" "$in_place"
expect_eq "tcp.receive_bytes_copied_out: none (no second copy)" 0 "$(counter tcp.receive_bytes_copied_out)"
held=$(counter tcp.send_bytes_held)
copied=$(counter tcp.send_bytes_copied_in)
copied_out=$(counter tcp.send_bytes_copied_out)
log "sent: $held bytes held, $copied copied in, $copied_out copied into segments ($(counter tcp.segments_retransmitted) segments retransmitted)"
expect_ge "tcp.send_bytes_held: most of the chargen and /bytes responses" $(((BYTES + HTTP_BYTES) * 9 / 10)) "$held"
expect_le "tcp.send_bytes_copied_in: at most a twentieth of what was held" $((held / 20)) "$copied"
expect_ge "tcp.send_bytes_copied_out: every byte sent, once" $((BYTES + HTTP_BYTES)) "$copied_out"
