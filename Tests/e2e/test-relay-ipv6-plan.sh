#!/usr/bin/env bash
# --relay's IPv6 address plan end to end, with no IPv6 option at all: the guest's kernel takes
# its address and default route from the stack's router advertisements (fd00::/64, SLAAC) and
# reaches a remote host through the IPv6 relay. Three namespaces, all the test's own:
# netstackd's (a veth to the remote one, fd01::1/64 - fd01::2/64), the guest's (netstackd's
# TAP, through --netns; accept_ra 2, no static address) and the remote one with an HTTP server.
# netstackd's resolv.conf is the test's own file (no query is made). Checked:
#   1. the guest forms an address in fd00::/64 and a default route via the stack's link-local
#      address, from the stack's advertisements alone;
#   2. from that address, curl fetches http://[fd01::2]:8080/ through the relay (the server saw
#      netstackd's namespace's fd01::1) and ping -6 fd01::2 is answered;
#   3. status lists the advertised prefix, and the relay's counters saw the connection.
source "$(dirname "$0")/lib.sh"
e2e_begin relay-ipv6-plan
for tool in curl ping; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

e2e_namespace GUEST guest
e2e_namespace REMOTE remote
guest() { ip netns exec "$GUEST" "$@"; }
CONTROL="$WORK/control" # the path daemon_status_json reads

ip -n "$NS" link add veth0 type veth peer name veth1 netns "$REMOTE"
ip -n "$NS" addr add fd01::1/64 dev veth0 nodad
ip -n "$REMOTE" addr add fd01::2/64 dev veth1 nodad
ip -n "$NS" link set veth0 up
ip -n "$REMOTE" link set veth1 up
ns sysctl -qw net.ipv4.ping_group_range="0 2147483647"

mkdir -p "$WORK/www"
echo "relayed page, planned address" >"$WORK/www/page.txt"
cat >"$WORK/server.py" <<'PY'
import http.server, socket, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        print("http from %s" % self.client_address[0], flush=True)
class Server(http.server.HTTPServer):
    address_family = socket.AF_INET6
server = Server(("fd01::2", 8080), lambda *a, **k: Quiet(*a, directory=sys.argv[1], **k))
print("listening", flush=True)
server.serve_forever()
PY
ip netns exec "$REMOTE" "$PYTHON" -u "$WORK/server.py" "$WORK/www" >"$WORK/server.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/server.log" "^listening" 20 >/dev/null
ok "HTTP server on [fd01::2]:8080 in the remote namespace"

# The guest's kernel is a host taking advertisements (the TAP is made after this, with these).
guest sysctl -qw net.ipv6.conf.all.forwarding=0
guest sysctl -qw net.ipv6.conf.default.forwarding=0
guest sysctl -qw net.ipv6.conf.default.accept_ra=2
guest sysctl -qw net.ipv6.conf.default.autoconf=1
echo "nameserver 192.0.2.53" >"$WORK/resolv.conf"
daemon_start --tap tap0 --netns "/run/netns/$GUEST" --relay --resolv-conf "$WORK/resolv.conf" \
  --control "$CONTROL"
daemon_wait_serving 30
guest ip link set tap0 up

# --- 1. SLAAC from the stack's advertisements ----------------------------------------------
wait_for_slaac "$GUEST"
address=$SLAAC_ADDRESS route=$SLAAC_ROUTE
expect_match "the guest formed an address in fd00::/64 from the advertisements" "^fd00::[0-9a-f:]+$" "$address"
expect_match "... and a default route via the stack's link-local address" "via fe80::" "$route"

# --- 2. Through the relay from that address -------------------------------------------------
out=$(guest curl -g -sS --max-time 20 --interface "$address" "http://[fd01::2]:8080/page.txt" 2>&1 || true)
expect_eq "curl http://[fd01::2]:8080/page.txt from $address" "relayed page, planned address" "$out"
expect_match "the HTTP server saw netstackd's namespace's address" "^http from fd01::1$" \
  "$(cat "$WORK/server.log")"
out=$(guest ping -6 -c 3 -W 3 -I "$address" fd01::2 2>&1 || true)
expect_match "ping -6 fd01::2 from $address through the relay" " 3 received" "$out"

# --- 3. Status and counters -----------------------------------------------------------------
text=$("$NETSTACKD" status --control "$CONTROL" 2>&1)
expect_match "status names the advertised prefix" "fd00::/64" "$text"
daemon_stop TERM 30
expect_eq "netstackd exit status" 0 "$DAEMON_STATUS"
expect_counters_printed
expect_ge "relay_tcp: the connection was opened" 1 "$(counter relay_tcp.opened)"
expect_ge "ipv6: packets handed to the relay" 1 "$(counter ipv6.packets_relayed)"
expect_ge "router advertisements sent" 1 "$(counter router_adv.advertisements_sent)"
