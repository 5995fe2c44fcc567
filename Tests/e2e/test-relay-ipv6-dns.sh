#!/usr/bin/env bash
# The relay's DNS over IPv6 and the router's last words, with no IPv6 option: the stack's
# router advertisements name its DNS address fd00::3 (RFC 8106 RDNSS), which answers over UDP
# and TCP by forwarding to an upstream reached over IPv6 only, and when netstackd stops, its
# final advertisements (router lifetime 0, RFC 4861 §6.2.5) make the guest drop its default
# route at once. Three namespaces, all the test's own: netstackd's (a veth to the remote one,
# fd01::1/64 - fd01::2/64), the guest's (a persistent TAP netstackd takes through --netns;
# accept_ra 2, no static address; its resolv.conf, /etc/netns/GUEST, names fd00::3) and the remote one with dnsmasq
# on fd01::2 only. netstackd's resolv.conf is the test's own, naming only fd01::2. Checked:
#   1. the guest forms its address and default route from the advertisements, and rdisc6 sees
#      the DNS server fd00::3 in them;
#   2. dig @fd00::3 resolves a name over UDP and over TCP (dig +tcp), getent resolves it
#      through the guest's resolver, the guest's neighbour entry for fd00::3 is the stack's
#      MAC, and dnsmasq saw the queries come from netstackd's namespace over IPv6 (fd01::1);
#   3. status shows both DNS addresses and the IPv6 name server, the DNS counters agree;
#   4. on SIGTERM the guest loses its default route via the stack within 5 s (not 1800 s),
#      three advertisements with router lifetime 0 are in the pcap and counted;
#   5. (control) after SIGKILL the guest keeps its default route;
#   6. a guest that holds fd00::3 itself defends it in the stack's duplicate address detection:
#      netstackd logs one warning naming fd00::3 (no DNS over IPv6), and status (text and JSON)
#      shows the address as a duplicate.
source "$(dirname "$0")/lib.sh"
e2e_begin relay-ipv6-dns
"$REPO/scripts/ensure-packages" ndisc6 dnsmasq-base bind9-dnsutils tshark >"$WORK/packages.log" 2>&1 \
  || fail "could not install ndisc6, dnsmasq, dig, tshark" "installed" "$(cat "$WORK/packages.log")"
for tool in rdisc6 dnsmasq dig tshark getent; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

e2e_namespace GUEST guest
e2e_namespace REMOTE remote
guest() { ip netns exec "$GUEST" "$@"; }
CONTROL="$WORK/control" # the path daemon_status_json reads
MAC=02:00:00:0e:14:36

ip -n "$NS" link add veth0 type veth peer name veth1 netns "$REMOTE"
ip -n "$NS" addr add fd01::1/64 dev veth0 nodad
ip -n "$REMOTE" addr add fd01::2/64 dev veth1 nodad
ip -n "$NS" link set veth0 up
ip -n "$REMOTE" link set veth1 up

# dnsmasq on fd01::2 alone, with the test's records; it reads them as user nobody.
printf 'fd01::7:1 www.relay6.test\n10.99.7.1 www.relay6.test\n' >"$WORK/hosts"
chmod 644 "$WORK/hosts"
ip netns exec "$REMOTE" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts \
  --addn-hosts="$WORK/hosts" --local=/relay6.test/ --listen-address=fd01::2 --bind-interfaces \
  --pid-file="$WORK/dnsmasq.pid" --log-queries --log-facility="$WORK/dnsmasq.log" </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/dnsmasq.log" "started, version" 10 >/dev/null
# netstackd's upstream: IPv6 only (a link-local server it cannot use is skipped, and said so).
printf '# the test'"'"'s own resolv.conf\nnameserver fe80::53%%veth0\nnameserver fd01::2\noptions timeout:2 attempts:2\n' \
  >"$WORK/resolv.conf"
ok "dnsmasq on [fd01::2]:53 in the remote namespace; resolv.conf names only it (and a link-local one)"

# The guest's kernel is a host taking advertisements; its resolver asks fd00::3.
guest sysctl -qw net.ipv6.conf.all.forwarding=0
guest sysctl -qw net.ipv6.conf.default.forwarding=0
guest sysctl -qw net.ipv6.conf.default.accept_ra=2
guest sysctl -qw net.ipv6.conf.default.autoconf=1
# A persistent TAP made beforehand: it outlives netstackd, so what the guest's kernel does with
# its default route at the stop is the final advertisements' doing, not the device vanishing.
guest ip tuntap add dev tap0 mode tap vnet_hdr
mkdir -p "/etc/netns/$GUEST"
printf 'nameserver fd00::3\noptions timeout:3 attempts:2\n' >"/etc/netns/$GUEST/resolv.conf"
daemon_start --tap tap0 --netns "/run/netns/$GUEST" --relay --mac "$MAC" \
  --resolv-conf "$WORK/resolv.conf" --control "$CONTROL" --pcap "$WORK/frames.pcap"
daemon_wait_serving 30
guest ip link set tap0 up
expect_match "the startup line names both DNS addresses" "dns 10\.0\.2\.3 and fd00::3" \
  "$(cat "$DAEMON_OUT")"

# --- 1. Address, route and DNS server from the advertisements -------------------------------
wait_for_slaac "$GUEST"
address=$SLAAC_ADDRESS route=$SLAAC_ROUTE
expect_match "the guest formed an address in fd00::/64 from the advertisements" "^fd00::[0-9a-f:]+$" "$address"
expect_match "... and a default route via the stack's link-local address" "via fe80::" "$route"
answer=$(guest timeout 30 rdisc6 -1 -n -r 3 -w 4000 tap0 2>&1 || true)
expect_match "rdisc6: the advertisements name the DNS server fd00::3" \
  '^ Recursive DNS server +: fd00::3$' "$answer"

# --- 2. DNS at fd00::3 over UDP and TCP, upstream over IPv6 ----------------------------------
answer=$(guest dig +short +time=3 +tries=2 @fd00::3 www.relay6.test AAAA 2>&1 || true)
expect_eq "dig @fd00::3 www.relay6.test AAAA (UDP)" "fd01::7:1" "$answer"
answer=$(guest dig +short +time=3 +tries=2 @fd00::3 www.relay6.test A 2>&1 || true)
expect_eq "dig @fd00::3 www.relay6.test A (UDP)" "10.99.7.1" "$answer"
answer=$(guest dig +tcp +short +time=3 +tries=2 @fd00::3 www.relay6.test AAAA 2>&1 || true)
expect_eq "dig +tcp @fd00::3 www.relay6.test AAAA (DNS over TCP)" "fd01::7:1" "$answer"
answer=$(guest getent ahostsv6 www.relay6.test 2>&1 | awk 'NR == 1 { print $1 }' || true)
expect_eq "getent in the guest resolves www.relay6.test through fd00::3" "fd01::7:1" "$answer"
neighbour=$(guest ip -6 neigh show fd00::3 dev tap0 2>&1 || true)
expect_match "the guest's neighbour entry for fd00::3 is the stack's MAC" "lladdr $MAC" "$neighbour"
expect_match "dnsmasq got the queries over IPv6 from netstackd's namespace (fd01::1)" \
  'query\[AAAA\] www\.relay6\.test from fd01::1' "$(cat "$WORK/dnsmasq.log")"
answer=$(guest dig +time=2 +tries=1 @fd00::2 www.relay6.test AAAA 2>&1 || true)
expect_match "a query to the stack's own fd00::2 is refused (port unreachable)" \
  "connection refused|no servers could be reached|timed out" "$answer"

# --- 3. Status and counters -----------------------------------------------------------------
text=$("$NETSTACKD" status --control "$CONTROL" 2>&1)
expect_match "status: both DNS addresses and the IPv6 name server" \
  "relay: dns 10\.0\.2\.3 and fd00::3 \([^)]*: fd01::2\)" "$text"
expect_match "status: the advertisements name fd00::3" \
  "ipv6 router advertisements: prefix fd00::/64, dns fd00::3" "$text"
expect_match "status: fd00::3 is a service address of the stack" "fd00::3/128.*service" "$text"
expect_match "the log says the link-local name server is not used" \
  "name server fe80::53%veth0 not used" "$(cat "$DAEMON_ERR" "$DAEMON_OUT")"

# --- 4. The final advertisements at stop ------------------------------------------------------
daemon_stop TERM 30
stopped_at=$SECONDS
route=""
deadline=$((SECONDS + 5))
while ((SECONDS < deadline)); do
  route=$(guest ip -6 route show default dev tap0 || true)
  [[ -z "$route" ]] && break
  sleep 0.2
done
expect_eq "the guest dropped its default route within 5 s of the stop (the TAP is still there)" "" "$route"
expect_match "... and the TAP is still there" "tap0" "$(guest ip -o link show dev tap0 2>&1)"
log "route gone $((SECONDS - stopped_at)) s after the daemon stopped"
expect_eq "netstackd exit status" 0 "$DAEMON_STATUS"
expect_counters_printed
expect_eq "router_adv.final_advertisements_sent" 3 "$(counter router_adv.final_advertisements_sent)"
finals=$(tshark -r "$WORK/frames.pcap" -Y "icmpv6.type == 134 && icmpv6.nd.ra.router_lifetime == 0" \
  -T fields -e frame.number 2>/dev/null | wc -l)
expect_eq "pcap: three advertisements with router lifetime 0" 3 "$finals"
expect_ge "dns.queries_udp" 2 "$(counter dns.queries_udp)"
expect_ge "dns.queries_tcp" 1 "$(counter dns.queries_tcp)"
expect_ge "dns.answers" 4 "$(counter dns.answers)"
expect_eq "dns.servfails_sent" 0 "$(counter dns.servfails_sent)"

# --- 5. Control: a daemon that dies without its last words leaves the route -----------------
# The same daemon again, killed with SIGKILL (no final advertisement): the guest keeps its
# default route (router lifetime 1800 s) although the TAP's other end is gone, which shows
# that check 4 saw the final advertisements' effect, not the device's.
daemon_start --tap tap0 --netns "/run/netns/$GUEST" --relay --mac "$MAC" \
  --resolv-conf "$WORK/resolv.conf" --control "$CONTROL"
daemon_wait_serving 30
route=""
deadline=$((SECONDS + 60))
while ((SECONDS < deadline)); do
  route=$(guest ip -6 route show default dev tap0 || true)
  [[ "$route" == *"via fe80::"* ]] && break
  sleep 0.5
done
expect_match "the guest has a default route via the restarted stack" "via fe80::" "$route"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=""
sleep 3 # a state that must not change: watched for 3 s
expect_match "after SIGKILL (no final advertisement) the guest still has the default route" \
  "via fe80::" "$(guest ip -6 route show default dev tap0 || true)"

# --- 6. A guest that holds fd00::3 --------------------------------------------------------------
guest ip -6 addr add fd00::3/64 dev tap0 nodad
daemon_start --tap tap0 --netns "/run/netns/$GUEST" --relay --mac "$MAC" \
  --resolv-conf "$WORK/resolv.conf" --control "$CONTROL"
daemon_wait_serving 30
line=$(wait_for_line "$DAEMON_ERR" "fd00::3 failed duplicate address detection" 30) \
  || fail "netstackd logs that fd00::3 failed duplicate address detection" "a warning" "$(cat "$DAEMON_ERR")"
expect_match "the warning says DNS over IPv6 is off" "no DNS over IPv6" "$line"
expect_eq "  ... once" 1 "$(grep -c "fd00::3 failed duplicate address detection" "$DAEMON_ERR" "$DAEMON_OUT" | awk -F: '{ n += $2 } END { print n }')"
expect_match "status (text) shows fd00::3 as a duplicate" "relay: dns 10\.0\.2\.3 and fd00::3 \(a duplicate" \
  "$(timeout 10 "$NETSTACKD" status --control "$CONTROL")"
expect_eq "status --json: dns_address6_duplicate" True \
  "$(status_value 's["relay"]["dns_address6_duplicate"]')"
expect_ge "ndp.duplicate_addresses" 1 "$(status_value 's["counters"]["ndp"]["duplicate_addresses"]')"
daemon_stop TERM 20
expect_eq "netstackd exit status" 0 "$DAEMON_STATUS"
