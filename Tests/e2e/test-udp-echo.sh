#!/usr/bin/env bash
# UDP echo on port 7: a line sent with `nc -u` comes back identical, and so do datagrams of
# many sizes from a Python client, from 1 byte to the largest UDP payload (65507 bytes, which
# crosses the link as 45 fragments each way).
source "$(dirname "$0")/lib.sh"
e2e_begin udp-echo

daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX"
daemon_wait_ready

message="hello netstack, run $$ at $(date +%s.%N)"
echoed=$(printf '%s\n' "$message" | ns nc -u -w 2 "$STACK_IP" 7) || true
expect_eq "nc -u: the line came back identical" "$message" "$echoed"

sizes="0 1 2 7 64 512 1472 1473 2000 4000 8972 20000 65507"
output=$(ns "$PYTHON" "$TOOLS/udp-echo-check.py" "$STACK_IP" 7 $sizes 2>&1) && status=0 || status=$?
printf '%s\n' "$output" | sed 's/^/    /'
expect_eq "python client: every datagram echoed identical" 0 "$status"
expect_eq "python client: datagrams echoed" "$(wc -w <<<"$sizes")" "$(grep -c 'echoed identical' <<<"$output")"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expected=$(( $(wc -w <<<"$sizes") + 1 ))
expect_eq "udp.datagrams_delivered" "$expected" "$(counter udp.datagrams_delivered)"
expect_eq "udp.datagrams_sent" "$expected" "$(counter udp.datagrams_sent)"
