#!/usr/bin/env bash
# Duplicate address detection (RFC 4862 §5.4) against the Linux kernel: the host side of a
# pre-existing TAP already holds fd77::2. netstackd is told --ip6 fd77::2/64 --ip6 fd77::3/64:
# its solicitation for fd77::2 is answered by the kernel, so status shows fd77::2 duplicate and
# the stack never answers for it (no neighbour advertisement for fd77::2 in its pcap), while
# fd77::3, which nobody holds, becomes preferred and answers ping -6.
source "$(dirname "$0")/lib.sh"
e2e_begin ipv6-dad

MAC=02:00:00:e2:e6:0d
TAKEN=fd77::2
FREE=fd77::3
ns ip tuntap add dev tap0 mode tap
ns ip link set tap0 up
ns ip -6 addr add "$TAKEN/64" dev tap0 nodad
log "the host side of tap0 holds $TAKEN/64"

daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" --mac "$MAC" \
  --ip6 "$TAKEN/64" --ip6 "$FREE/64" --control "$WORK/control" --pcap "$WORK/dad.pcap"
daemon_wait_ready

stack_address_state() {
  status_value "[a['state'] for a in s['ipv6']['addresses'] if a['address'] == '$1/64']"
}
deadline=$((SECONDS + 30))
while ((SECONDS < deadline)); do
  [[ "$(stack_address_state "$TAKEN")" != "['tentative']" \
    && "$(stack_address_state "$FREE")" != "['tentative']" ]] && break
  sleep 0.2
done
expect_eq "status: $TAKEN, which the kernel holds, is duplicate" "['duplicate']" "$(stack_address_state "$TAKEN")"
expect_eq "status: $FREE, which nobody holds, is preferred" "['preferred']" "$(stack_address_state "$FREE")"
text=$(timeout 10 "$NETSTACKD" status --control "$WORK/control")
expect_match "status text: $TAKEN/64 duplicate" "^  $TAKEN/64  manual  duplicate" "$text"

# The kernel's link-local address must have finished its own detection to ping from it; the
# ping to $FREE comes from $TAKEN, the kernel's address in the prefix.
deadline=$((SECONDS + 30))
while ((SECONDS < deadline)); do
  [[ -z "$(ns ip -6 addr show dev tap0 tentative)" ]] && break
  sleep 0.2
done
output=$(ns ping -6 -c 10 -i 0.05 -W 2 -w 30 "$FREE" 2>&1) || true
expect_match "ping -6 $FREE: 10 sent, 10 received, 0% loss" \
  '^10 packets transmitted, 10 received, 0% packet loss' "$output"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_ge "ndp.duplicate_addresses" 1 "$(counter ndp.duplicate_addresses)"

# The stack asked for both addresses (solicitations from ::) and never claimed the taken one.
pcap_count() { tshark -r "$WORK/dad.pcap" -Y "$1" -T fields -e frame.number 2>/dev/null | wc -l; }
expect_ge "the stack's detection solicitation for $TAKEN (pcap)" 1 \
  "$(pcap_count "eth.src == $MAC && ipv6.src == :: && icmpv6.type == 135 && icmpv6.nd.ns.target_address == $TAKEN")"
expect_ge "the kernel's advertisement of $TAKEN (pcap)" 1 \
  "$(pcap_count "!(eth.src == $MAC) && icmpv6.type == 136 && icmpv6.nd.na.target_address == $TAKEN")"
expect_eq "advertisements of $TAKEN from the stack (pcap)" 0 \
  "$(pcap_count "eth.src == $MAC && icmpv6.type == 136 && icmpv6.nd.na.target_address == $TAKEN")"
expect_ge "advertisements of $FREE from the stack (pcap)" 1 \
  "$(pcap_count "eth.src == $MAC && icmpv6.type == 136 && icmpv6.nd.na.target_address == $FREE")"
