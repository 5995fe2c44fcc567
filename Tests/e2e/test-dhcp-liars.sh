#!/usr/bin/env bash
# DHCP clients that lie cannot take the pool of netstackd --dhcp-server (RFC 2131 §4.3).
# The stack serves a pool of six, 10.77.0.100-10.77.0.105; a liar (tools/dhcp-liar.py, on a
# macvlan of its own) sends DHCPREQUESTs in INIT-REBOOT form and in RENEWING form for every
# address of the pool, each from a made-up hardware address: the server has no record of
# those clients and stays silent, binds nothing, counts them; then udhcpc still gets a lease
# (the daemon before this fix ACKed each and bound the whole pool to the liar). Then a flood
# of DISCOVERs and of DISCOVER+DECLINE pairs (twice the pool) holds at most half the pool in
# offers and one declined address, and dhclient still gets a lease; RELEASEs of udhcpc's
# lease from another hardware address or without a server identifier leave it bound.
source "$(dirname "$0")/lib.sh"
e2e_begin dhcp-liars

for tool in udhcpc dhclient; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
FIRST=10.77.0.100
LAST=10.77.0.105
POOL_RE='^10\.77\.0\.10[0-5]$'
LIAR_MAC=02:00:00:e2:e1:00
UDHCPC_MAC=02:00:00:e2:e1:a1
DHCLIENT_MAC=02:00:00:e2:e1:a2

cat >"$WORK/udhcpc.script" <<EOF
#!/bin/sh
case "\$1" in
  bound|renew) ip addr replace "\$ip/\$mask" dev "\$interface" ;;
  deconfig) ip addr flush dev "\$interface" ;;
esac
exit 0
EOF
cat >"$WORK/dhclient.script" <<EOF
#!/bin/sh
case "\$reason" in
  BOUND|RENEW|REBIND|REBOOT) ip addr replace "\$new_ip_address/\$new_subnet_mask" dev "\$interface" ;;
  EXPIRE|FAIL|RELEASE|STOP) ip addr flush dev "\$interface" ;;
esac
exit 0
EOF
chmod 755 "$WORK/udhcpc.script" "$WORK/dhclient.script"
: >"$WORK/dhclient.conf"

ns ip tuntap add dev tap0 mode tap vnet_hdr
ns ip link set tap0 up
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip none --dhcp-server "$FIRST-$LAST" \
  --dhcp-lease 600 --serve none --control "$WORK/control"
wait_for_line "$DAEMON_OUT" "serving" 20 >/dev/null
for link in "mv0 $LIAR_MAC" "mv1 $UDHCPC_MAC" "mv2 $DHCLIENT_MAC"; do
  read -r name mac <<<"$link"
  ns ip link add link tap0 name "$name" address "$mac" type macvlan mode bridge
  ns ip link set "$name" up
done
ns ip addr add "$HOST_IP/$PREFIX" dev mv0
deadline=$((SECONDS + 20))
until ns ping -I mv0 -c 1 -W 1 -q "$STACK_IP" >/dev/null 2>&1; do
  ((SECONDS < deadline)) || fail "the stack did not answer ping from the liar's interface within 20 s"
  daemon_running || fail "netstackd exited"
  sleep 0.2
done
ok "netstackd is up and answers ping"

# dhcp COUNTER: a counter of the DHCP server, from the daemon's status now.
dhcp() { status_value "s[\"counters\"][\"dhcp_server\"].get(\"$1\", 0)"; }
# entries [STATE]: how many entries the lease table has (in STATE).
entries() {
  status_value "len([l for l in s[\"dhcp_server\"][\"leases\"] if \"${1:-}\" in (\"\", l[\"state\"])])"
}
# wait_counter COUNTER MINIMUM: waits until the counter reaches MINIMUM (20 s at most).
wait_counter() {
  local deadline=$((SECONDS + 20)) value
  while value=$(dhcp "$1") && ((value < $2)); do
    ((SECONDS < deadline)) || fail "dhcp_server.$1 reached $2 within 20 s" ">= $2" "$value"
    sleep 0.2
  done
  ok "dhcp_server.$1 $value"
}
# liar MODE ARGS...: runs the lying client on mv0; its output is in $LIAR.
liar() {
  LIAR=$(ns "$PYTHON" "$TOOLS/dhcp-liar.py" mv0 "$STACK_IP" "$@" 2>&1) || fail "dhcp-liar.py $*" "exit 0" "$LIAR"
  printf '%s\n' "$LIAR" | sed 's/^/    liar: /'
}

# --- One lying message per address of the pool, INIT-REBOOT then RENEWING ---
liar init-reboot "$FIRST" "$LAST"
init_reboot_answers=$LIAR
liar renew "$FIRST" "$LAST"

ip netns exec "$NS" udhcpc -f -R -i mv1 -s "$WORK/udhcpc.script" -t 5 -T 2 \
  >"$WORK/udhcpc.out" 2>&1 </dev/null &
UDHCPC_PID=$!
HELPER_PIDS+=("$UDHCPC_PID")
line=$(wait_for_line "$WORK/udhcpc.out" "lease of .* obtained" 30)
log "udhcpc: $line"
udhcpc_ip=$(sed -E 's/.*lease of ([0-9.]+) obtained.*/\1/' <<<"$line")
[[ "$udhcpc_ip" =~ $POOL_RE ]] || fail "udhcpc's address is in the pool" "$FIRST-$LAST" "$udhcpc_ip"
ok "udhcpc got $udhcpc_ip after the lying INIT-REBOOT and RENEWING requests"
expect_match "INIT-REBOOT from made-up clients: no DHCPACK" "^DHCPACK 0$" "$init_reboot_answers"
wait_counter requests_unknown_client 12
expect_eq "the lease table: udhcpc's lease only" 1 "$(entries)"

# --- Floods of DISCOVERs, and of DISCOVER + DECLINE ---
liar discover 60
wait_counter discovers_received 61
offered=$(entries offered)
expect_le "outstanding offers after 60 DISCOVERs (half the pool)" 3 "$offered"
liar discover-decline 12
declined_offers=$(awk '/^DHCPOFFER/ {print $2}' <<<"$LIAR")
expect_ge "offers the decline flood got" 6 "$declined_offers"
wait_counter declines_received "$declined_offers"
expect_le "declined addresses after the decline flood" 1 "$(entries declined)"
expect_ge "dhcp_server.declines_forgotten" 5 "$(dhcp declines_forgotten)"

ip netns exec "$NS" dhclient -d -v -1 -cf "$WORK/dhclient.conf" -lf "$WORK/dhclient.leases" \
  -pf "$WORK/dhclient.pid" -sf "$WORK/dhclient.script" mv2 >"$WORK/dhclient.out" 2>&1 </dev/null &
DHCLIENT_PID=$!
HELPER_PIDS+=("$DHCLIENT_PID")
line=$(wait_for_line "$WORK/dhclient.out" "^bound to " 30)
dhclient_ip=$(awk '{print $3}' <<<"$line")
[[ "$dhclient_ip" =~ $POOL_RE ]] || fail "dhclient's address is in the pool" "$FIRST-$LAST" "$dhclient_ip"
[[ "$dhclient_ip" != "$udhcpc_ip" ]] || fail "dhclient and udhcpc got different addresses" "two" "$dhclient_ip twice"
ok "dhclient got $dhclient_ip after the floods"
ns ping -I mv2 -c 2 -i 0.2 -W 2 -q "$STACK_IP" >/dev/null || fail "ping $STACK_IP from dhclient's $dhclient_ip"
ok "ping $STACK_IP from dhclient's address"

# --- Releases of udhcpc's lease by someone else ---
liar release "$udhcpc_ip" "$UDHCPC_MAC"
wait_counter releases_refused 2
status=$("$NETSTACKD" status --control "$WORK/control")
expect_match "udhcpc's lease is still bound" "^  $udhcpc_ip  $UDHCPC_MAC  bound " "$status"
ns ping -I mv1 -c 2 -i 0.2 -W 2 -q "$STACK_IP" >/dev/null || fail "ping $STACK_IP from udhcpc's $udhcpc_ip"
ok "ping $STACK_IP from udhcpc's address"

helper_stop "$DHCLIENT_PID"
helper_stop "$UDHCPC_PID"
daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_eq "exit report: dhcp_server.requests_unknown_client" 12 "$(counter dhcp_server.requests_unknown_client)"
expect_ge "exit report: dhcp_server.offers_replaced" 50 "$(counter dhcp_server.offers_replaced)"
expect_eq "exit report: dhcp_server.releases_refused" 2 "$(counter dhcp_server.releases_refused)"
