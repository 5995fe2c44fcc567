#!/usr/bin/env bash
# ping -s 4000 and ping -s 65000: the requests reach the stack as IPv4 fragments (the kernel
# fragments them at the TAP's MTU of 1500), the stack reassembles them, and its replies, too
# large for one frame, go back as fragments that the kernel reassembles. Every reply arrives
# with the size sent (4008 and 65008 bytes of ICMP) and intact data; the stack's counters and
# its pcap show fragmentation in both directions and no frame over the MTU.
source "$(dirname "$0")/lib.sh"
e2e_begin fragments

MAC=02:00:00:e2:e0:02
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" --mac "$MAC" \
  --pcap "$WORK/fragments.pcap"
daemon_wait_ready

for size in 4000 65000; do
  output=$(ns ping -c 3 -i 0.2 -W 3 -w 30 -s "$size" "$STACK_IP" 2>&1) || true
  expect_match "ping -s $size: 3 sent, 3 received, 0% loss" \
    '^3 packets transmitted, 3 received, 0% packet loss' "$output"
  replies=$(grep -c "^$((size + 8)) bytes from $STACK_IP: icmp_seq=" <<<"$output" || true)
  expect_eq "ping -s $size: replies of $((size + 8)) bytes" 3 "$replies"
  expect_no_match "ping -s $size: no duplicate or corrupted replies" 'DUP!|wrong data|truncated' \
    "$output"
done

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
# 4000 bytes of ICMP in 1480-byte pieces: 3 fragments; 65000: 44. Three pings each way.
expect_ge "ipv4.fragments_received (3 x 3 + 3 x 44)" 141 "$(counter ipv4.fragments_received)"
expect_ge "ipv4.datagrams_reassembled" 6 "$(counter ipv4.datagrams_reassembled)"
expect_ge "ipv4.fragments_sent (3 x 3 + 3 x 44)" 141 "$(counter ipv4.fragments_sent)"

# The stack's own frames in its pcap: fragments with More Fragments set, none over the MTU,
# and every large reply reassembled by tshark into an echo reply of the right length.
pcap_fields() {
  tshark -r "$WORK/fragments.pcap" -Y "eth.src == $MAC && ($1)" -T fields -e "$2" 2>/dev/null
}
fragments=$(pcap_fields "ip.flags.mf == 1 || ip.frag_offset > 0" frame.number | wc -l)
expect_ge "fragments sent by the stack (pcap)" 141 "$fragments"
first_fragments=$(pcap_fields "ip.flags.mf == 1 && ip.frag_offset == 0" frame.number | wc -l)
expect_eq "first fragments sent by the stack (pcap): one per large reply" 6 "$first_fragments"
largest=$(pcap_fields "ip" frame.len | sort -n | tail -n 1)
expect_le "largest frame the stack sent (pcap)" 1514 "$largest"
reply_lengths=$(pcap_fields "icmp.type == 0 && ip.reassembled.length" ip.reassembled.length | sort | uniq -c | awk '{print $2 "x" $1}' | xargs)
expect_eq "reassembled echo replies in the pcap (ICMP length x count)" "4008x3 65008x3" "$reply_lengths"
