#!/usr/bin/env bash
# UDP to a closed port is answered with ICMP destination unreachable, code 3 (port): a connected
# Python UDP socket gets ECONNREFUSED for each closed port (and an answer from port 7, the
# control), and tcpdump on the kernel's side of the TAP records the ICMP messages from the stack,
# each quoting the datagram it answers.
source "$(dirname "$0")/lib.sh"
e2e_begin udp-unreachable

CLOSED_PORTS="9 53 33434 65535"
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX"
daemon_wait_ready
capture_start "$WORK/kernel-side.pcap" icmp

output=$(ns "$PYTHON" "$TOOLS/udp-closed-port.py" "$STACK_IP" 7 $CLOSED_PORTS 2>&1) && status=0 || status=$?
printf '%s\n' "$output" | sed 's/^/    /'
expect_eq "python: port 7 answers, every closed port is refused" 0 "$status"
expect_eq "python: closed ports refused" "$(wc -w <<<"$CLOSED_PORTS")" "$(grep -c ': refused$' <<<"$output")"

sleep 0.5
capture_stop
quoted=$(tshark -r "$WORK/kernel-side.pcap" \
  -Y "ip.src == $STACK_IP && ip.dst == $HOST_IP && icmp.type == 3 && icmp.code == 3" \
  -T fields -e udp.dstport 2>/dev/null | sort -n | xargs)
expect_eq "tcpdump: port unreachable from $STACK_IP quoting each closed port" \
  "$(tr ' ' '\n' <<<"$CLOSED_PORTS" | sort -n | xargs)" "$quoted"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_eq "udp.dropped_no_port" "$(wc -w <<<"$CLOSED_PORTS")" "$(counter udp.dropped_no_port)"
expect_eq "icmp.errors_sent" "$(wc -w <<<"$CLOSED_PORTS")" "$(counter icmp.errors_sent)"
