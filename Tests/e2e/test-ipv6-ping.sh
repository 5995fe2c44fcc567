#!/usr/bin/env bash
# IPv6 at the network layer (RFC 8200, RFC 4443, RFC 4861): the stack with --ip6 fd77::2/64,
# the host side of the TAP with --host-ip6 fd77::1/64. The kernel resolves the stack's
# addresses with neighbour solicitations to their solicited-node groups, and `ping -6` to the
# configured address and to the stack's link-local address (from `status`) is answered with
# no loss. `ping -6 -s 4000` and `-s 65000` reach the stack as fragments (the kernel cuts
# them at the TAP's MTU of 1500), the stack reassembles them and answers with fragments that
# the kernel reassembles: the pcap shows fragment headers both ways and no frame over the MTU.
# TCP and UDP over IPv6 are test-ipv6-tcp.sh's.
source "$(dirname "$0")/lib.sh"
e2e_begin ipv6-ping

MAC=02:00:00:e2:e6:02
STACK_IP6=fd77::2
HOST_IP6=fd77::1
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" --mac "$MAC" \
  --ip6 "$STACK_IP6/64" --host-ip6 "$HOST_IP6/64" --control "$WORK/control" \
  --pcap "$WORK/ipv6.pcap"
daemon_wait_ready

# The kernel's addresses on the host side leave duplicate address detection (tentative) first.
deadline=$((SECONDS + 30))
while ((SECONDS < deadline)); do
  tentative=$(ns ip -6 addr show dev tap0 tentative)
  host=$(ns ip -6 addr show dev tap0 scope global)
  [[ -z "$tentative" && "$host" == *"$HOST_IP6/64"* ]] && break
  sleep 0.2
done
expect_eq "the host side has $HOST_IP6/64 and no tentative address" "" "$(ns ip -6 addr show dev tap0 tentative)"

# The stack's addresses leave detection too: status shows them preferred.
stack_address_state() {
  status_value "[a['state'] for a in s['ipv6']['addresses'] if a['address'].startswith('$1')]"
}
deadline=$((SECONDS + 30))
while ((SECONDS < deadline)); do
  [[ "$(stack_address_state "$STACK_IP6/")" == "['preferred']" \
    && "$(stack_address_state fe80::)" == "['preferred']" ]] && break
  sleep 0.2
done
expect_eq "status: $STACK_IP6/64 is preferred" "['preferred']" "$(stack_address_state "$STACK_IP6/")"
expect_eq "status: the link-local address is preferred" "['preferred']" "$(stack_address_state fe80::)"
LINK_LOCAL=$(status_value "[a['address'] for a in s['ipv6']['addresses'] if a['origin'] == 'link-local'][0].split('/')[0]")
log "the stack's link-local address is $LINK_LOCAL"

for target in "$STACK_IP6" "$LINK_LOCAL%tap0"; do
  output=$(ns ping -6 -c 20 -i 0.05 -W 2 -w 30 "$target" 2>&1) || true
  expect_match "ping -6 $target: 20 sent, 20 received, 0% loss" \
    '^20 packets transmitted, 20 received, 0% packet loss' "$output"
  expect_no_match "ping -6 $target: no duplicate or corrupted replies" 'DUP!|wrong data|truncated' \
    "$output"
done

for size in 4000 65000; do
  output=$(ns ping -6 -c 3 -i 0.2 -W 3 -w 30 -s "$size" "$STACK_IP6" 2>&1) || true
  expect_match "ping -6 -s $size: 3 sent, 3 received, 0% loss" \
    '^3 packets transmitted, 3 received, 0% packet loss' "$output"
  replies=$(grep -c "^$((size + 8)) bytes from $STACK_IP6: icmp_seq=" <<<"$output" || true)
  expect_eq "ping -6 -s $size: replies of $((size + 8)) bytes" 3 "$replies"
  expect_no_match "ping -6 -s $size: no duplicate or corrupted replies" 'DUP!|wrong data|truncated' \
    "$output"
done

status=$(daemon_status_json)
neighbour=$(status_value "[n['mac'] for n in s['ipv6']['neighbours'] if n['ip'] == '$HOST_IP6']" "$status")
expect_match "status: the host side is in the neighbour cache" "^\\['[0-9a-f:]{17}'\\]$" "$neighbour"
text=$(timeout 10 "$NETSTACKD" status --control "$WORK/control")
expect_match "status text: the address with its state" "^  $STACK_IP6/64  manual  preferred" "$text"
expect_match "status text: the neighbour cache" "^ipv6 neighbours \\([1-9]" "$text"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_ge "icmpv6.echo_replies_sent (20 + 20 + 3 + 3)" 46 "$(counter icmpv6.echo_replies_sent)"
expect_eq "icmpv6.echo_requests_received equals echo_replies_sent" \
  "$(counter icmpv6.echo_requests_received)" "$(counter icmpv6.echo_replies_sent)"
# 4000 bytes of ICMPv6 in 1448-byte pieces: 3 fragments; 65000: 45. Three pings each way.
expect_ge "ipv6.fragments_received (3 x 3 + 3 x 45)" 144 "$(counter ipv6.fragments_received)"
expect_ge "ipv6.packets_reassembled" 6 "$(counter ipv6.packets_reassembled)"

# The stack's own frames in its pcap: fragment headers, none over the MTU, every large reply
# reassembled by tshark; and the kernel's fragments to the stack.
pcap_fields() {
  tshark -r "$WORK/ipv6.pcap" -Y "$1" -T fields -e "$2" 2>/dev/null
}
fragments_out=$(pcap_fields "eth.src == $MAC && ipv6.fraghdr" frame.number | wc -l)
expect_ge "fragments sent by the stack (pcap)" 144 "$fragments_out"
fragments_in=$(pcap_fields "eth.dst == $MAC && ipv6.fraghdr" frame.number | wc -l)
expect_ge "fragments sent to the stack (pcap)" 144 "$fragments_in"
largest=$(pcap_fields "eth.src == $MAC && ipv6" frame.len | sort -n | tail -n 1)
expect_le "largest frame the stack sent (pcap)" 1514 "$largest"
reply_lengths=$(pcap_fields "eth.src == $MAC && icmpv6.type == 129 && ipv6.reassembled.length" ipv6.reassembled.length | sort | uniq -c | awk '{print $2 "x" $1}' | xargs)
expect_eq "reassembled echo replies in the pcap (ICMPv6 length x count)" "4008x3 65008x3" "$reply_lengths"
