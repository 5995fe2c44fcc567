#!/usr/bin/env bash
# netstackd --dhcp-server: the stack (10.77.0.2/24) serves 10.77.0.100-10.77.0.120 on its TAP,
# and two real DHCP clients on the host side get leases from it: busybox udhcpc and ISC
# dhclient, each on a macvlan of tap0 with a MAC of its own (so that the server sees two
# hosts). Both leases come from the pool with the stack as router and --dhcp-dns as DNS
# server; each client configures its address (with a script of this test, on its own
# interface only) and pings the stack from it; udhcpc renews at T1 and releases on exit; the
# daemon's status lists the leases.
source "$(dirname "$0")/lib.sh"
e2e_begin dhcp-server

for tool in udhcpc dhclient tshark; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
POOL_RE='^10\.77\.0\.1([01][0-9]|20)$'
UDHCPC_MAC=02:00:00:e2:e0:a1
DHCLIENT_MAC=02:00:00:e2:e0:a2

# The clients' scripts: record what they were told, and put the address on their interface.
cat >"$WORK/udhcpc.script" <<EOF
#!/bin/sh
echo "\$1 ip=\$ip mask=\$mask router=\$router dns=\$dns lease=\$lease serverid=\$serverid" >>"$WORK/udhcpc.events"
case "\$1" in
  bound|renew) ip addr replace "\$ip/\$mask" dev "\$interface" ;;
  deconfig) ip addr flush dev "\$interface" ;;
esac
exit 0
EOF
cat >"$WORK/dhclient.script" <<EOF
#!/bin/sh
echo "\$reason ip=\$new_ip_address mask=\$new_subnet_mask routers=\$new_routers dns=\$new_domain_name_servers lease=\$new_dhcp_lease_time" >>"$WORK/dhclient.events"
case "\$reason" in
  BOUND|RENEW|REBIND|REBOOT) ip addr replace "\$new_ip_address/\$new_subnet_mask" dev "\$interface" ;;
  EXPIRE|FAIL|RELEASE|STOP) ip addr flush dev "\$interface" ;;
esac
exit 0
EOF
chmod 755 "$WORK/udhcpc.script" "$WORK/dhclient.script"
printf 'send host-name "e2e-dhclient";\n' >"$WORK/dhclient.conf"

ns ip tuntap add dev tap0 mode tap vnet_hdr
ns ip link set tap0 up
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip none --dhcp-server 10.77.0.100-10.77.0.120 \
  --dhcp-dns 10.77.0.53,10.77.0.54 --dhcp-lease 20 --pcap "$WORK/stack.pcap" \
  --control "$WORK/control.sock"
wait_for_line "$DAEMON_OUT" "serving" 20 >/dev/null
expect_match "startup line names the pool" "serving DHCP 10\.77\.0\.100-10\.77\.0\.120" "$(cat "$DAEMON_OUT")"
ns ip link add link tap0 name mv1 address "$UDHCPC_MAC" type macvlan mode bridge
ns ip link add link tap0 name mv2 address "$DHCLIENT_MAC" type macvlan mode bridge
ns ip link set mv1 up
ns ip link set mv2 up

# --- udhcpc ---
ip netns exec "$NS" udhcpc -f -R -i mv1 -s "$WORK/udhcpc.script" -t 5 -T 2 \
  -x hostname:e2e-udhcpc >"$WORK/udhcpc.out" 2>&1 </dev/null &
UDHCPC_PID=$!
HELPER_PIDS+=("$UDHCPC_PID")
line=$(wait_for_line "$WORK/udhcpc.out" "lease of .* obtained" 30)
log "udhcpc: $line"
udhcpc_ip=$(sed -E 's/.*lease of ([0-9.]+) obtained.*/\1/' <<<"$line")
[[ "$udhcpc_ip" =~ $POOL_RE ]] || fail "udhcpc's address is in the pool" "10.77.0.100-120" "$udhcpc_ip"
ok "udhcpc got $udhcpc_ip from the pool"
expect_match "udhcpc: from the stack, lease 20 s" "obtained from $STACK_IP, lease time 20" "$line"
events=$(cat "$WORK/udhcpc.events")
expect_match "udhcpc: mask /24, the stack as router, the DNS servers given" \
  "^bound ip=$udhcpc_ip mask=24 router=$STACK_IP dns=10.77.0.53 10.77.0.54 lease=20 serverid=$STACK_IP$" "$events"
ns ping -I mv1 -c 3 -i 0.2 -W 2 -q "$STACK_IP" >/dev/null || fail "ping $STACK_IP from udhcpc's $udhcpc_ip"
ok "ping $STACK_IP from udhcpc's address $udhcpc_ip"

# --- dhclient ---
ip netns exec "$NS" dhclient -d -v -1 -cf "$WORK/dhclient.conf" -lf "$WORK/dhclient.leases" \
  -pf "$WORK/dhclient.pid" -sf "$WORK/dhclient.script" mv2 >"$WORK/dhclient.out" 2>&1 </dev/null &
DHCLIENT_PID=$!
HELPER_PIDS+=("$DHCLIENT_PID")
line=$(wait_for_line "$WORK/dhclient.out" "^bound to " 30)
log "dhclient: $(grep -E "DHCPOFFER|DHCPACK" "$WORK/dhclient.out" | tr '\n' ';') $line"
dhclient_ip=$(awk '{print $3}' <<<"$line")
[[ "$dhclient_ip" =~ $POOL_RE ]] || fail "dhclient's address is in the pool" "10.77.0.100-120" "$dhclient_ip"
ok "dhclient got $dhclient_ip from the pool"
[[ "$dhclient_ip" != "$udhcpc_ip" ]] || fail "the two clients got different addresses" "two" "$dhclient_ip twice"
ok "the clients got different addresses"
expect_match "dhclient: the ACK came from the stack" "DHCPACK of $dhclient_ip from $STACK_IP" "$(cat "$WORK/dhclient.out")"
expect_match "dhclient: mask, router, DNS, lease" \
  "^BOUND ip=$dhclient_ip mask=255.255.255.0 routers=$STACK_IP dns=10.77.0.53 10.77.0.54 lease=20$" \
  "$(cat "$WORK/dhclient.events")"
ns ping -I mv2 -c 3 -i 0.2 -W 2 -q "$STACK_IP" >/dev/null || fail "ping $STACK_IP from dhclient's $dhclient_ip"
ok "ping $STACK_IP from dhclient's address $dhclient_ip"

# --- the server's view, a renewal, a release ---
status=$("$NETSTACKD" status --control "$WORK/control.sock")
expect_match "status: the pool" "^dhcp server: pool 10\.77\.0\.100-10\.77\.0\.120, 2 entries:$" "$status"
expect_match "status: udhcpc's lease" "^  $udhcpc_ip  $UDHCPC_MAC  bound  expires in [0-9]+ s  e2e-udhcpc$" "$status"
expect_match "status: dhclient's lease" "^  $dhclient_ip  $DHCLIENT_MAC  bound  expires in [0-9]+ s  e2e-dhclient$" "$status"
wait_for_line "$WORK/udhcpc.events" "^renew ip=$udhcpc_ip " 20 >/dev/null
ok "udhcpc renewed its lease at T1 (10 s)"
helper_stop "$UDHCPC_PID"
helper_stop "$DHCLIENT_PID"
expect_match "udhcpc released its lease on exit" "entering released state" "$(cat "$WORK/udhcpc.out")"
status=$("$NETSTACKD" status --control "$WORK/control.sock")
expect_no_match "status: udhcpc's lease is gone after its release" "^  $udhcpc_ip  $UDHCPC_MAC  bound" "$status"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_eq "dhcp_server.offers_sent" 2 "$(counter dhcp_server.offers_sent)"
expect_ge "dhcp_server.acks_sent (2, and udhcpc's renewals)" 3 "$(counter dhcp_server.acks_sent)"
expect_eq "dhcp_server.releases_received" 1 "$(counter dhcp_server.releases_received)"
bad=$(tshark -n -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -r "$WORK/stack.pcap" -Y "ip.src == $STACK_IP && (_ws.malformed || _ws.expert.severity >= 0x600000 || ip.checksum.status == 0 || udp.checksum.status == 0)" -T fields -e frame.number 2>/dev/null)
expect_eq "frames from the stack: none malformed or with a bad checksum" "" "$bad"
tshark -n -r "$WORK/stack.pcap" -Y dhcp 2>/dev/null | sed 's/^ */    /' | head -n 12
