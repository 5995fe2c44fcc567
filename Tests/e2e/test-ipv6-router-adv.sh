#!/usr/bin/env bash
# --relay over IPv6: netstackd as the guests' IPv6 router (RFC 4861 §6.2), as slirp4netns is.
# netstackd runs in the test's namespace and makes its TAP in a "guest" namespace (--netns),
# whose kernel is the host taking the advertisements (accept_ra 2, no forwarding). Nothing
# leaves the two namespaces (netstackd's resolv.conf names its own loopback; no DNS is asked).
# Checked:
#   1. with --relay and no IPv6 option, the guest's kernel forms an address in fd00::/64 by
#      SLAAC and a default route via the stack's link-local address, both from the stack's
#      advertisements, and pings the stack at fd00::2;
#   2. rdisc6 in the guest (a router solicitation) gets an advertisement with the prefix
#      fd00::/64 (on-link, autonomous), the MTU 1500, the DNS server fd00::3 given with
#      --ra-dns (RFC 8106; none by default while nothing answers DNS over IPv6) and
#      the stack's MAC; the stack counts it as a solicited advertisement;
#   3. a flood of 3,000 router solicitations in about 6 s gets at most one advertisement per
#      3 s (MIN_DELAY_BETWEEN_RAS), not one each: counted by the stack (answered, rate-limited)
#      and on the wire (its pcap, read by tshark: every advertisement from the link-local
#      address to ff02::1 with hop limit 255, as many as the stack counted);
#   4. --ra-prefix fd42:0:0:7::/64 --ra-dns fd42:0:0:7::53 are what rdisc6 sees, and the stack
#      answers ping at fd42:0:0:7::2; with --router-adv off no advertisement comes.
source "$(dirname "$0")/lib.sh"
e2e_begin ipv6-router-adv
"$REPO/scripts/ensure-packages" ndisc6 >"$WORK/packages.log" 2>&1 \
  || fail "could not install ndisc6 (rdisc6)" "installed" "$(cat "$WORK/packages.log")"
for tool in rdisc6 tshark ping; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

GUEST="ns-e2e-ipv6-router-adv-guest-$$"
ip netns add "$GUEST"
trap 'status=$?; set +e; ip netns del "$GUEST" 2>/dev/null; (exit $status); e2e_cleanup' EXIT
ip -n "$GUEST" link set lo up
guest() { ip netns exec "$GUEST" "$@"; }
CONTROL="$WORK/control" # the path daemon_status_json reads
MAC=02:00:00:0e:14:06

# The guest's kernel is a host that takes router advertisements on the TAP netstackd makes
# there (new interfaces take the namespace's "default" settings).
guest sysctl -qw net.ipv6.conf.all.forwarding=0
guest sysctl -qw net.ipv6.conf.default.forwarding=0
guest sysctl -qw net.ipv6.conf.default.accept_ra=2
guest sysctl -qw net.ipv6.conf.default.autoconf=1
printf '# the test'"'"'s own resolv.conf: nothing is asked\nnameserver 127.0.0.1\n' >"$WORK/resolv.conf"

# A flood of router solicitations from the guest's link-local address (the kernel fills in
# the ICMPv6 checksum of a raw socket): COUNT in bursts of 100, 0.2 s apart.
cat >"$WORK/rs-flood.py" <<'PY'
import socket, sys, time
interface, count = sys.argv[1], int(sys.argv[2])
index = socket.if_nametoindex(interface)
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
solicitation = bytes([133, 0, 0, 0, 0, 0, 0, 0])
sent = 0
while sent < count:
    for _ in range(min(100, count - sent)):
        try:
            s.sendto(solicitation, ("ff02::2", 0, 0, index))
            sent += 1
        except OSError:
            time.sleep(0.01)
    time.sleep(0.2)
print("sent %d" % sent, flush=True)
PY

# router_start ARGS...: netstackd --relay ARGS with the TAP in the guest, the guest's link up
# and its link-local address through duplicate address detection (rdisc6 sends from it).
router_start() {
  daemon_start --tap tap0 --netns "/run/netns/$GUEST" --relay --mac "$MAC" \
    --resolv-conf "$WORK/resolv.conf" --control "$CONTROL" "$@"
  local deadline=$((SECONDS + 30))
  until grep -q "serving" "$DAEMON_OUT"; do
    daemon_running || fail "netstackd exited during startup" "running" "$(cat "$DAEMON_ERR")"
    ((SECONDS < deadline)) || fail "netstackd did not start within 30 s"
    sleep 0.2
  done
  guest ip link set tap0 up
  until [[ -n "$(guest ip -6 -o addr show dev tap0 scope link -tentative)" ]]; do
    ((SECONDS < deadline)) || fail "the guest's link-local address is still tentative after 30 s"
    sleep 0.2
  done
}

# advertised ARGS...: what rdisc6 in the guest prints for one solicitation (empty if nothing
# came in 3 tries of 4 s: an answer may wait up to 3 s for MIN_DELAY_BETWEEN_RAS).
advertised() { guest timeout 30 rdisc6 -1 -n -r 3 -w 4000 tap0 2>&1 || true; }

# ra_counter NAME: a router_adv counter of the running daemon.
ra_counter() { status_value "s['ipv6']['router_advertisements']['$1']"; }

# --- 1. SLAAC and the default route from the stack's advertisements --------------------------
# The DNS server is named too, though fd00::3 (the relay's --dns-address6) is the default now
# (test-relay-ipv6-dns.sh checks it answers).
router_start --pcap "$WORK/frames.pcap" --ra-dns fd00::3
deadline=$((SECONDS + 60))
while ((SECONDS < deadline)); do
  daemon_running || fail "netstackd exited" "running" "$(cat "$DAEMON_ERR")"
  global=$(guest ip -6 -o addr show dev tap0 scope global -tentative | awk '{print $4}')
  route=$(guest ip -6 route show default)
  [[ -n "$global" && -n "$route" ]] && break
  sleep 0.5
done
expect_match "the guest formed an address in fd00::/64 (SLAAC)" '^fd00::[0-9a-f:]+/64$' "$global"
status=$(daemon_status_json)
STACK_LINK_LOCAL=$(status_value "[a['address'].split('/')[0] for a in s['ipv6']['addresses'] if a['origin'] == 'link-local'][0]" "$status")
expect_match "the guest's default route is via the stack's link-local address" \
  "^default via $STACK_LINK_LOCAL dev tap0 proto ra " "$route"
expect_eq "status: the stack's address fd00::2/64" "['fd00::2/64 preferred']" \
  "$(status_value "[a['address'] + ' ' + a['state'] for a in s['ipv6']['addresses'] if a['origin'] == 'manual']" "$status")"
expect_eq "status: the advertised prefix and DNS server" "['fd00::/64'] ['fd00::3']" \
  "$(status_value "' '.join(str(s['ipv6']['router_advertisements'][k]) for k in ('prefixes', 'dns_servers'))" "$status")"
output=$(guest ping -6 -c 5 -i 0.2 -W 2 -w 30 fd00::2 2>&1) || true
expect_match "the guest pings fd00::2: 5 sent, 5 received" \
  '^5 packets transmitted, 5 received, 0% packet loss' "$output"
text=$(timeout 10 "$NETSTACKD" status --control "$CONTROL")
expect_match "status text: the router advertisements" \
  '^ipv6 router advertisements: prefix fd00::/64, dns fd00::3, mtu 1500' "$text"

# --- 2. A solicitation gets an advertisement with the prefix, MTU and DNS server -------------
solicited_before=$(ra_counter solicited_advertisements_sent)
answer=$(advertised)
expect_match "rdisc6: the prefix fd00::/64" '^ Prefix +: fd00::/64$' "$answer"
expect_match "rdisc6: on-link" '^  On-link +: +Yes$' "$answer"
expect_match "rdisc6: autonomous" '^  Autonomous address conf\.: +Yes$' "$answer"
expect_match "rdisc6: the MTU" '^ MTU +: +1500 bytes' "$answer"
expect_match "rdisc6: the DNS server fd00::3" '^ Recursive DNS server +: fd00::3$' "$answer"
expect_match "rdisc6: the stack's MAC" "^ source link-layer address: $MAC$" "${answer,,}"
expect_match "rdisc6: from the stack's link-local address" "^ from $STACK_LINK_LOCAL$" "$answer"
expect_match "rdisc6: a default router for 1800 s" '^Router lifetime +: +1800 ' "$answer"
expect_ge "router_adv.solicited_advertisements_sent went up" $((solicited_before + 1)) \
  "$(ra_counter solicited_advertisements_sent)"

# --- 3. A flood of solicitations is rate-limited ---------------------------------------------
sent_before=$(ra_counter advertisements_sent)
received_before=$(ra_counter solicitations_received)
flood_start=$SECONDS
flood=$(guest "$PYTHON" "$WORK/rs-flood.py" tap0 3000 2>&1) || fail "the flood failed" "sent" "$flood"
expect_eq "the guest sent 3000 router solicitations" "sent 3000" "$flood"
sleep_until=$((SECONDS + 4)) # an answer scheduled at the end may wait 3 s
while ((SECONDS < sleep_until)); do sleep 0.5; done
flood_seconds=$((SECONDS - flood_start))
status=$(daemon_status_json)
received=$(($(status_value "s['ipv6']['router_advertisements']['solicitations_received']" "$status") - received_before))
sent=$(($(status_value "s['ipv6']['router_advertisements']['advertisements_sent']" "$status") - sent_before))
rate_limited=$(status_value "s['ipv6']['router_advertisements']['solicitations_rate_limited']" "$status")
log "flood: $received solicitations received in about $flood_seconds s, $sent advertisements sent"
expect_ge "the stack received most of the 3000 solicitations" 2500 "$received"
expect_le "advertisements during the flood: one per 3 s at most (+1 unsolicited)" \
  $((flood_seconds / 3 + 2)) "$sent"
expect_ge "router_adv.solicitations_rate_limited" $((received - sent)) "$rate_limited"
output=$(guest ping -6 -c 3 -i 0.2 -W 2 -w 20 fd00::2 2>&1) || true
expect_match "after the flood the guest still pings fd00::2" \
  '^3 packets transmitted, 3 received, 0% packet loss' "$output"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_counters_printed
# The pcap: the stack's advertisements on the wire, and the solicitations it took in.
fields=$(tshark -r "$WORK/frames.pcap" -Y 'icmpv6.type == 134' -T fields -E separator=' ' \
  -e ipv6.src -e ipv6.dst -e ipv6.hlim 2>"$WORK/tshark.err") \
  || fail "tshark could not read the pcap" "fields" "$(cat "$WORK/tshark.err")"
wire_ras=$(grep -c . <<<"$fields" || true)
expect_eq "pcap: as many advertisements as router_adv.advertisements_sent and the 3 final ones" \
  "$(($(counter router_adv.advertisements_sent) + 3))" "$wire_ras"
expect_eq "router_adv.final_advertisements_sent at the stop" 3 \
  "$(counter router_adv.final_advertisements_sent)"
finals=$(tshark -r "$WORK/frames.pcap" -Y 'icmpv6.type == 134 && icmpv6.nd.ra.router_lifetime == 0' \
  2>/dev/null | grep -c . || true)
expect_eq "pcap: the last three advertisements have router lifetime 0" 3 "$finals"
expect_eq "pcap: every advertisement from $STACK_LINK_LOCAL to ff02::1 with hop limit 255" \
  "$STACK_LINK_LOCAL ff02::1 255" "$(sort -u <<<"$fields")"
wire_rs=$(tshark -r "$WORK/frames.pcap" -Y 'icmpv6.type == 133' 2>/dev/null | grep -c . || true)
expect_ge "pcap: the solicitations the stack took in" 2500 "$wire_rs"
expect_le "pcap: advertisements, all told (not one per solicitation)" $((wire_rs / 100)) "$wire_ras"
rdnss=$(tshark -r "$WORK/frames.pcap" -Y 'icmpv6.type == 134' -T fields -E separator=' ' \
  -e icmpv6.opt.prefix -e icmpv6.opt.mtu -e icmpv6.opt.rdnss 2>/dev/null | sort -u)
expect_eq "pcap: the advertisements' prefix, MTU and DNS server" "fd00:: 1500 fd00::3" "$rdnss"

# --- 4. The plan is settable; --router-adv off advertises nothing ----------------------------
router_start --ra-prefix fd42:0:0:7::/64 --ra-dns fd42:0:0:7::53
answer=$(advertised)
expect_match "rdisc6: --ra-prefix" '^ Prefix +: fd42:0:0:7::/64$' "$answer"
expect_match "rdisc6: --ra-dns" '^ Recursive DNS server +: fd42:0:0:7::53$' "$answer"
deadline=$((SECONDS + 30))
until guest ping -6 -c 1 -W 1 fd42:0:0:7::2 >/dev/null 2>&1; do
  ((SECONDS < deadline)) || fail "the guest could not ping fd42:0:0:7::2 within 30 s"
  sleep 0.5
done
ok "the guest pings the stack at fd42:0:0:7::2"
daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"

router_start --router-adv off
answer=$(guest timeout 30 rdisc6 -1 -n -r 2 -w 2000 tap0 2>&1) && fail "rdisc6 got an answer with --router-adv off" "none" "$answer"
ok "with --router-adv off no advertisement answers rdisc6"
daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_eq "router_adv counters with --router-adv off" 0 "$(counters_matching '^router_adv\.')"
