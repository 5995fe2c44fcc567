#!/usr/bin/env bash
# passt interop: passt (Debian) runs in the test's namespace, which has a veth with 10.90.0.1/24
# and a default route via 10.90.0.2 (the peer end is in the same namespace, without an address,
# so nothing leaves it). passt serves QEMU-framed Ethernet on a Unix socket in a directory
# nobody may write (passt drops to nobody) and forwards TCP port 8080 of the namespace to port
# 80 of its guest. `netstackd --unix` attaches to that socket as the guest, gets its address
# from passt's DHCP server (passt offers a copy of the namespace's address, unicast), and then
# `curl http://127.0.0.1:8080/` in the namespace reaches the Swift stack's HTTP service through
# passt: the page, a 4 MB /bytes/N download (size and SHA-256), HEAD and a 404; discard (port
# 8009 to 9) takes 1 MB and closes cleanly; every connection ends closed (passt saw the stack's
# ACKs and FINs: no padding on the socket, no retransmissions in passt's own pcap).
source "$(dirname "$0")/lib.sh"
e2e_begin passt

for tool in passt curl sha256sum tshark; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
MAC=02:00:00:e2:e0:a5
NS_IP=10.90.0.1
GATEWAY=10.90.0.2
BYTES=4000000

# The namespace's network as passt expects to find it: an interface with an address and a
# default route (a veth whose peer is up in the same namespace, without an address).
ns ip link add veth0 type veth peer name veth1
ns ip addr add "$NS_IP/24" dev veth0
ns ip link set veth0 up
ns ip link set veth1 up
ns ip route add default via "$GATEWAY" dev veth0

# passt in the foreground, as nobody; its socket in a directory nobody can write to.
mkdir -m 1777 "$WORK/passt"
SOCKET="$WORK/passt/passt.sock"
ip netns exec "$NS" passt -f -s "$SOCKET" -t 8080:80 -t 8009:9 -u none -l "$WORK/passt/passt.log" \
  -p "$WORK/passt/passt.pcap" >"$WORK/passt.out" 2>&1 </dev/null &
PASST_PID=$!
HELPER_PIDS+=("$PASST_PID")
wait_for_line "$WORK/passt/passt.log" "UNIX domain socket bound at $SOCKET" 10 >/dev/null
log "passt started (pid $PASST_PID), user $(ps -o user= -p "$PASST_PID")"
ok "passt listens on $SOCKET"
expect_match "passt offers the namespace's address by DHCP" "assign: $NS_IP$" "$(cat "$WORK/passt/passt.log")"
passt_mac=$(awk '$3 == "host:" { print $4; exit }' "$WORK/passt/passt.log")

# The daemon as passt's guest.
daemon_start --unix "$SOCKET" --dhcp --mac "$MAC" --pcap "$WORK/stack.pcap" \
  --control "$WORK/control.sock"
wait_for_line "$DAEMON_OUT" "serving" 20 >/dev/null
expect_match "startup line: connected to passt's socket" "^netstackd: connected to $SOCKET: mac $MAC, ip by DHCP" "$(cat "$DAEMON_OUT")"
bound=$(wait_for_line "$DAEMON_OUT" "^netstackd: dhcp: bound " 30)
log "$bound"
expect_match "the lease from passt: the namespace's address, gateway and all" \
  "^netstackd: dhcp: bound $NS_IP/24 from server $GATEWAY, gateway $GATEWAY" "$bound"

# HTTP through passt's port forwarding.
page=$(ns curl -sS -m 10 http://127.0.0.1:8080/ 2>&1) || fail "curl http://127.0.0.1:8080/" "the page" "$page"
log "curl http://127.0.0.1:8080/ in the namespace:"
sed 's/^/    | /' <<<"$page"
expect_match "the page's heading" "^<body><h1>netstack</h1>$" "$page"
expect_match "served by the Swift stack over passt's socket" \
  "running on netstack over Unix socket $SOCKET\.</p>$" "$page"
started=$(date +%s.%N)
result=$(ns curl -sS -m 60 -o "$WORK/bytes" -w '%{http_code} %{size_download} %{speed_download}' \
  "http://127.0.0.1:8080/bytes/$BYTES" 2>&1) || fail "curl /bytes/$BYTES" "exit 0" "$result"
read -r code size speed <<<"$result"
expect_eq "/bytes/$BYTES: status" 200 "$code"
expect_eq "/bytes/$BYTES: size" "$BYTES" "$size"
log "download through passt: $(awk -v s="$speed" 'BEGIN { printf "%.1f MB/s", s / 1e6 }')"
expected=$("$PYTHON" "$TOOLS/service-check.py" pattern "$BYTES")
expect_eq "/bytes/$BYTES: SHA-256 of the pattern" "$expected" "$(sha256sum <"$WORK/bytes" | cut -d' ' -f1)"
head=$(ns curl -sS -m 10 -I http://127.0.0.1:8080/bytes/1234 2>&1 | tr -d '\r') || true
expect_match "HEAD: 200" "^HTTP/1.1 200 OK$" "$head"
expect_match "HEAD: Content-Length" "^Content-Length: 1234$" "$head"
code=$(ns curl -s -m 10 -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/no-such-page) || true
expect_eq "a missing page" 404 "$code"

# discard through passt: the stack's pure ACKs must count for passt, and the close complete.
output=$(ns "$PYTHON" "$TOOLS/service-check.py" discard 127.0.0.1 8009 1000000 2>&1) \
  || fail "discard through passt" "ok" "$output"
ok "through passt: $output"

# Every connection closed completely: none left waiting for passt's ACK of its FIN.
for ((i = 0; i < 50; i++)); do
  status_text=$("$NETSTACKD" status --control "$WORK/control.sock")
  grep -Eq "^tcp connections \(0, " <<<"$status_text" && break
  sleep 0.2
done
expect_match "all connections closed (none stuck in LAST-ACK)" "^tcp connections \(0, " "$status_text"

# What the daemon shows of it.
status_text=$("$NETSTACKD" status --control "$WORK/control.sock")
expect_match "status: the address from passt" "^interface: ip $NS_IP/24, mac $MAC, gateway $GATEWAY" "$status_text"
expect_match "status: passt's MAC for the gateway in the ARP table" "^  $GATEWAY  $passt_mac  " "$status_text"
expect_match "status: the lease" "^dhcp client: BOUND $NS_IP/24 from $GATEWAY" "$status_text"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_match "the lease given back" "^netstackd: dhcp: released $NS_IP to server $GATEWAY$" "$(cat "$DAEMON_OUT")"
expect_ge "tcp.passive_opens" 4 "$(counter tcp.passive_opens)"
expect_eq "dhcp_client.leases_obtained" 1 "$(counter dhcp_client.leases_obtained)"

# passt's OFFER and ACK came unicast to the offered address (what the stack had to accept).
unicast=$(tshark -n -r "$WORK/stack.pcap" -Y "eth.src == $passt_mac && ip.dst == $NS_IP && dhcp.option.dhcp in {2, 5}" -T fields -e dhcp.option.dhcp 2>/dev/null | xargs)
expect_eq "DHCP OFFER (2) and ACK (5) from passt, unicast to $NS_IP" "2 5" "$unicast"
# passt's own capture: the stack's IPv4 frames reach it without Ethernet padding (passt reads a
# segment's length from the frame's), and passt retransmitted nothing the stack had ACKed.
padded=$(tshark -n -r "$WORK/passt/passt.pcap" -Y "eth.src == $MAC && ip && eth.padding" -T fields -e frame.number 2>/dev/null | wc -l)
expect_eq "IPv4 frames from the stack with Ethernet padding, as passt got them" 0 "$padded"
retransmitted=$(tshark -n -r "$WORK/passt/passt.pcap" -Y "eth.src == $passt_mac && tcp.analysis.retransmission" -T fields -e frame.number 2>/dev/null | wc -l)
expect_eq "TCP retransmissions by passt" 0 "$retransmitted"
bad=$(tshark -n -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -r "$WORK/stack.pcap" -Y "_ws.malformed || (eth.src == $MAC && (ip.checksum.status == 0 || tcp.checksum.status == 0))" -T fields -e frame.number 2>/dev/null | xargs)
expect_eq "malformed frames or bad checksums from the stack" "" "$bad"
