#!/usr/bin/env bash
# The pcap that --pcap writes is read by tshark, with IPv4 and UDP checksum validation turned on
# (ICMP checksums are always checked): no frame is malformed, and of the frames the stack sent
# (source MAC = --mac) none has a bad IPv4, ICMP or UDP checksum or an expert warning or error,
# and every one of their checksums was actually verified. The traffic covers ARP, ping (also
# fragmented both ways), UDP echo (also fragmented) and ICMP port unreachable. First the check
# itself is shown to catch broken frames, on a pcap of deliberately broken ones.
source "$(dirname "$0")/lib.sh"
e2e_begin pcap

MAC=02:00:00:e2:e0:06
TSHARK=(tshark -n -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o ip.defragment:TRUE)

# pcap_problems FILE: one line per frame from $MAC that is malformed, has a bad checksum or an
# expert warning/error (0x600000 = warning, 0x800000 = error). ICMP errors are checked in a pass
# of their own without UDP validation: the datagram they quote is what the stack received, and
# with the TAP's checksum offload the kernel hands over locally sent UDP with a partial
# (pseudo-header) checksum that it never completes, which the quote then carries, as Linux's
# own ICMP errors do; that the quote is faithful is checked below.
pcap_problems() {
  "${TSHARK[@]}" -r "$1" -T fields -e frame.number -e _ws.col.Protocol -e _ws.col.Info \
    -Y "eth.src == $MAC && !icmp.type in {3, 4, 5, 11, 12} && (_ws.malformed
        || _ws.expert.severity >= 0x600000 || ip.checksum.status == 0
        || icmp.checksum.status == 0 || udp.checksum.status == 0)" 2>"$WORK/tshark.err"
  "${TSHARK[@]}" -o udp.check_checksum:FALSE -r "$1" \
    -T fields -e frame.number -e _ws.col.Protocol -e _ws.col.Info \
    -Y "eth.src == $MAC && icmp.type in {3, 4, 5, 11, 12} && (_ws.malformed
        || _ws.expert.severity >= 0x600000 || ip.checksum.status == 0
        || icmp.checksum.status == 0)" 2>>"$WORK/tshark.err"
}

# The check can fail: every broken frame is reported, the good one is not.
"$PYTHON" "$TOOLS/make-bad-pcap.py" "$MAC" "$WORK/broken.pcap"
flagged=$(pcap_problems "$WORK/broken.pcap" | cut -f1 | sort -n | xargs)
expect_eq "self-check: the broken frames are flagged, the good one is not" "1 2 3 4 6" "$flagged"

daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" --mac "$MAC" \
  --pcap "$WORK/stack.pcap"
daemon_wait_ready
ns arping -c 2 -w 3 -I tap0 "$STACK_IP" >/dev/null || fail "arping $STACK_IP"
ns ping -c 3 -i 0.2 -W 2 -q "$STACK_IP" >/dev/null || fail "ping"
ns ping -c 2 -i 0.2 -W 2 -q -s 4000 "$STACK_IP" >/dev/null || fail "ping -s 4000"
ns ping -c 2 -i 0.2 -W 2 -q -s 65000 "$STACK_IP" >/dev/null || fail "ping -s 65000"
ns "$PYTHON" "$TOOLS/udp-echo-check.py" "$STACK_IP" 7 0 1 100 1472 3000 >/dev/null || fail "UDP echo"
ns "$PYTHON" "$TOOLS/udp-closed-port.py" "$STACK_IP" 7 9 1234 >/dev/null || fail "UDP to closed ports"
daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"

"${TSHARK[@]}" -r "$WORK/stack.pcap" -q -z io,phs >/dev/null 2>"$WORK/tshark.err" \
  || fail "tshark could not read the pcap" "exit 0" "$(cat "$WORK/tshark.err")"
ok "tshark reads the pcap"
frames=$("${TSHARK[@]}" -r "$WORK/stack.pcap" -T fields -e frame.number 2>/dev/null | wc -l)
log "$frames frames in the pcap"
malformed=$("${TSHARK[@]}" -r "$WORK/stack.pcap" -Y "_ws.malformed" -T fields -e frame.number \
  -e _ws.col.Info 2>/dev/null)
expect_eq "malformed frames (either direction)" "" "$malformed"
expect_eq "frames from the stack with a bad checksum, malformed or an expert warning" "" \
  "$(pcap_problems "$WORK/stack.pcap")"

# Count what the stack sent and check every checksum was verified as good.
count() { "${TSHARK[@]}" -r "$WORK/stack.pcap" -Y "eth.src == $MAC && ($1)" -T fields -e frame.number 2>/dev/null | wc -l; }
ipv4_frames=$(count "ip")
expect_ge "IPv4 frames from the stack" 100 "$ipv4_frames"
expect_eq "IPv4 header checksums verified good (every IPv4 frame)" "$ipv4_frames" \
  "$(count "ip.checksum.status == 1 && !(ip.checksum.status != 1)")"
# Every message the stack counted as sent is in the pcap, with a good checksum.
expect_eq "ARP replies in the pcap = arp.replies_sent" "$(counter arp.replies_sent)" "$(count "arp.opcode == 2")"
expect_ge "ICMP echo replies sent" 7 "$(counter icmp.echo_replies_sent)"
expect_eq "ICMP echo replies with a verified checksum = icmp.echo_replies_sent" \
  "$(counter icmp.echo_replies_sent)" "$(count "icmp.type == 0 && icmp.checksum.status == 1")"
expect_ge "UDP datagrams sent" 5 "$(counter udp.datagrams_sent)"
expect_eq "UDP datagrams with a verified checksum = udp.datagrams_sent" \
  "$(counter udp.datagrams_sent)" "$(count "udp.srcport == 7 && !icmp && udp.checksum.status == 1")"
expect_eq "ICMP port unreachable with a verified checksum = icmp.errors_sent" \
  "$(counter icmp.errors_sent)" "$(count "icmp.type == 3 && icmp.code == 3 && icmp.checksum.status == 1")"
expect_eq "icmp.errors_sent (one per closed port probed)" 2 "$(counter icmp.errors_sent)"

# The ICMP errors quote the datagrams they answer: IP identification, ports and length match
# the datagrams the kernel sent to the closed ports.
sent=$("${TSHARK[@]}" -r "$WORK/stack.pcap" -Y "eth.dst == $MAC && udp.dstport in {9, 1234} && !icmp" \
  -T fields -e ip.id -e udp.srcport -e udp.dstport -e udp.length 2>/dev/null | sort)
quoted=$("${TSHARK[@]}" -r "$WORK/stack.pcap" -Y "eth.src == $MAC && icmp.type == 3 && icmp.code == 3" \
  -T fields -e ip.id -e udp.srcport -e udp.dstport -e udp.length 2>/dev/null | sed 's/^[^,]*,//' | sort)
[[ -n "$sent" ]] || fail "found the datagrams sent to the closed ports in the pcap"
expect_eq "ICMP errors quote the datagrams to closed ports (ip.id, ports, length)" \
  "$(xargs <<<"$sent")" "$(xargs <<<"$quoted")"
