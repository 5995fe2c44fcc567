#!/usr/bin/env bash
# netstackd --dhcp against dnsmasq: dnsmasq on the host side of the TAP serves 10.77.0.50-99
# (lease 2 minutes, dnsmasq's shortest, with T1 10 s and T2 15 s); the stack obtains an
# address in that range (dnsmasq's lease file agrees) and answers ping and HTTP there; its
# renewals are seen on the wire (the pcap: unicast DHCPREQUESTs with ciaddr set, ACKed);
# `status` shows the lease; SIGTERM sends a DHCPRELEASE (dnsmasq logs it and drops the lease).
# Then a second daemon with the same MAC gets the address again, dnsmasq is stopped, and when
# the lease runs out the stack withdraws the address: it prints so, rebinds on the wire
# (broadcast REQUESTs), stops answering ping there, and `status` shows no address.
#
# e2e: runs beside the others (two of its minutes are waiting for the lease to run out)
source "$(dirname "$0")/lib.sh"
e2e_begin dhcp-client

for tool in dnsmasq tshark curl; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
MAC=02:00:00:e2:e0:d1
POOL_RE='^10\.77\.0\.([5-9][0-9])$'
TSHARK=(tshark -n -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE)

# dnsmasq in the foreground (-k), on tap0 only, no DNS (--port=0), nothing but these options.
dnsmasq_start() {
  ip netns exec "$NS" dnsmasq -k --conf-file=/dev/null --port=0 --interface=tap0 \
    --bind-interfaces --dhcp-authoritative --dhcp-range=10.77.0.50,10.77.0.99,255.255.255.0,2m \
    --dhcp-option=option:router,10.77.0.1 --dhcp-option=option:dns-server,10.77.0.1 \
    --dhcp-option=option:T1,10 --dhcp-option=option:T2,15 --domain=e2e.test \
    --dhcp-leasefile="$WORK/dnsmasq.leases" --pid-file="$WORK/dnsmasq.pid" --log-dhcp \
    --log-facility="$WORK/dnsmasq.log" >>"$WORK/dnsmasq.out" 2>&1 </dev/null &
  DNSMASQ_PID=$!
  HELPER_PIDS+=("$DNSMASQ_PID")
  wait_for_line "$WORK/dnsmasq.log" "DHCP, sockets bound exclusively to interface tap0" 10 >/dev/null
  log "dnsmasq started (pid $DNSMASQ_PID)"
}

# The host side: a TAP that outlives the daemons (as a VM host's bridge would), with the
# server's address, and dnsmasq on it.
ns ip tuntap add dev tap0 mode tap vnet_hdr
ns ip addr add "$HOST_IP/$PREFIX" dev tap0
ns ip link set tap0 up
dnsmasq_start

# --- 1. A lease from dnsmasq, used, renewed, released. -----------------------------------------
daemon_start --tap tap0 --dhcp --host-ip none --mac "$MAC" \
  --pcap "$WORK/stack.pcap" --control "$WORK/control.sock"
wait_for_line "$DAEMON_OUT" "serving" 20 >/dev/null
expect_match "startup line says the address comes by DHCP" "ip by DHCP" "$(cat "$DAEMON_OUT")"

bound=$(wait_for_line "$DAEMON_OUT" "^netstackd: dhcp: bound " 40)
log "$bound"
address=$(awk '{print $4}' <<<"$bound")
ip=${address%/*}
[[ "$ip" =~ $POOL_RE ]] || fail "the address is in dnsmasq's range" "10.77.0.50-99" "$ip"
ok "bound to $address, inside 10.77.0.50-99"
expect_eq "prefix from the subnet mask option" "24" "${address#*/}"
expect_match "gateway and DNS from the lease" "from server 10\.77\.0\.1, gateway 10\.77\.0\.1, dns 10\.77\.0\.1" "$bound"
expect_match "lease 120 s, T1 10 s, T2 15 s" "lease 120 s \(renew in 10 s, rebind in 15 s\)" "$bound"

lease_line=$(wait_for_line "$WORK/dnsmasq.leases" " $MAC $ip " 10)
log "dnsmasq lease file: $lease_line"
ok "dnsmasq's lease file has $ip for $MAC"
expect_match "dnsmasq logged the ACK" "DHCPACK\(tap0\) $ip $MAC netstack" "$(cat "$WORK/dnsmasq.log")"

ns ping -c 3 -i 0.2 -W 2 -q "$ip" >/dev/null || fail "ping $ip"
ok "ping $ip"
body=$(ns curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$ip/") || true
expect_eq "curl http://$ip/" 200 "$body"

renewed=$(wait_for_line "$DAEMON_OUT" "^netstackd: dhcp: renewed $address " 30)
log "$renewed"
ok "the daemon printed a renewal"
status=$("$NETSTACKD" status --control "$WORK/control.sock")
expect_match "status: the lease" "^dhcp client: BOUND $address from 10\.77\.0\.1, gateway 10\.77\.0\.1, dns 10\.77\.0\.1, lease 120 s: renew in [0-9]+ s, rebind in [0-9]+ s, expires in [0-9]+ s$" "$status"
expect_match "status: the interface has the address" "^interface: ip $address" "$status"
json=$("$NETSTACKD" status --control "$WORK/control.sock" --json)
expect_match "status --json: the lease" "\"dhcp_client\":\{\"state\":\"BOUND\",\"ip\":\"$address\",\"server\":\"10\.77\.0\.1\"" "$json"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_match "the daemon released the lease" "^netstackd: dhcp: released $ip to server 10\.77\.0\.1$" "$(cat "$DAEMON_OUT")"
wait_for_line "$WORK/dnsmasq.log" "DHCPRELEASE\(tap0\) $ip $MAC" 10 >/dev/null
ok "dnsmasq received the DHCPRELEASE"
expect_ge "dhcp_client.renewals" 1 "$(counter dhcp_client.renewals)"

# The renewal on the wire: a unicast DHCPREQUEST from the stack's address to the server, with
# ciaddr set and no requested address, and dnsmasq's ACK to it.
renewals=$("${TSHARK[@]}" -r "$WORK/stack.pcap" -Y "eth.src == $MAC && dhcp.option.dhcp == 3 && ip.src == $ip && ip.dst == 10.77.0.1 && dhcp.ip.client == $ip && !dhcp.option.requested_ip_address" -T fields -e frame.number 2>/dev/null | wc -l)
expect_ge "renewal REQUESTs in the pcap (unicast, ciaddr $ip)" 1 "$renewals"
acks=$("${TSHARK[@]}" -r "$WORK/stack.pcap" -Y "dhcp.hw.mac_addr == $MAC && dhcp.option.dhcp == 5 && dhcp.ip.your == $ip" -T fields -e frame.number 2>/dev/null | wc -l)
expect_ge "ACKs in the pcap (the first, and one per renewal)" 2 "$acks"
"${TSHARK[@]}" -r "$WORK/stack.pcap" -Y "dhcp" 2>/dev/null | sed 's/^ */    /' | head -n 12
bad=$("${TSHARK[@]}" -r "$WORK/stack.pcap" -Y "eth.src == $MAC && (_ws.malformed || _ws.expert.severity >= 0x600000 || ip.checksum.status == 0 || udp.checksum.status == 0)" -T fields -e frame.number 2>/dev/null)
expect_eq "DHCP and other frames from the stack: none malformed or with a bad checksum" "" "$bad"
releases=$("${TSHARK[@]}" -r "$WORK/stack.pcap" -Y "eth.src == $MAC && dhcp.option.dhcp == 7 && dhcp.ip.client == $ip && ip.dst == 10.77.0.1" -T fields -e frame.number 2>/dev/null | wc -l)
expect_eq "DHCPRELEASE in the pcap" 1 "$releases"

# --- 2. The lease again; the server goes away; the lease runs out. -----------------------------
daemon_start --tap tap0 --dhcp --host-ip none --mac "$MAC" \
  --pcap "$WORK/stack2.pcap" --control "$WORK/control.sock"
bound=$(wait_for_line "$DAEMON_OUT" "^netstackd: dhcp: bound " 40)
log "$bound"
expect_eq "the same address again" "$address" "$(awk '{print $4}' <<<"$bound")"
ns ping -c 1 -W 2 -q "$ip" >/dev/null || fail "ping $ip (second lease)"
ok "ping $ip (second lease)"
helper_stop "$DNSMASQ_PID"
log "dnsmasq stopped; waiting for the lease to run out (at most 120 s)"
lost=$(wait_for_line "$DAEMON_OUT" "^netstackd: dhcp: lost $address " 140)
log "$lost"
ok "the daemon withdrew the address when the lease ran out"
if ns ping -c 2 -i 0.5 -W 1 -q "$ip" >/dev/null 2>&1; then fail "ping $ip fails after the lease ended"; fi
ok "ping $ip gets no answer after the lease ended"
status=$("$NETSTACKD" status --control "$WORK/control.sock")
expect_match "status: no address" "^interface: ip none" "$status"
expect_match "status: the client looks for a server again" "^dhcp client: (SELECTING|INIT)$" "$status"
daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_no_match "nothing to release" "released" "$(cat "$DAEMON_OUT")"
expect_eq "dhcp_client.leases_lost" 1 "$(counter dhcp_client.leases_lost)"
rebinds=$("${TSHARK[@]}" -r "$WORK/stack2.pcap" -Y "eth.src == $MAC && dhcp.option.dhcp == 3 && ip.dst == 255.255.255.255 && dhcp.ip.client == $ip" -T fields -e frame.number 2>/dev/null | wc -l)
expect_ge "rebinding REQUESTs (broadcast, ciaddr $ip) in the pcap" 1 "$rebinds"
