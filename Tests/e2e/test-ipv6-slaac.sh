#!/usr/bin/env bash
# Stateless address autoconfiguration (RFC 4862 §5.5) from radvd: radvd in the namespace
# advertises fd78::/64 (on-link, autonomous) and a DNS server fd78::53 (RFC 8106) on tap0.
# netstackd with --ip6 auto solicits a router, forms an address in fd78::/64 with a stable
# identifier (RFC 7217), checks it with duplicate address detection and answers ping -6 at it;
# status shows the prefix, the router (the host side's link-local address) and the DNS server.
source "$(dirname "$0")/lib.sh"
e2e_begin ipv6-slaac

command -v radvd >/dev/null || fail "radvd is not installed (Tests/e2e/run installs it)"
PREFIX6=fd78::
DNS6=fd78::53
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" \
  --ip6 auto --host-ip6 "${PREFIX6}1/64" --control "$WORK/control"
daemon_wait_ready

# radvd advertises only where the kernel forwards (this namespace's setting alone).
ns sysctl -q -w net.ipv6.conf.all.forwarding=1
cat >"$WORK/radvd.conf" <<CONF
interface tap0 {
  AdvSendAdvert on;
  MinRtrAdvInterval 3;
  MaxRtrAdvInterval 10;
  prefix $PREFIX6/64 {
    AdvOnLink on;
    AdvAutonomous on;
  };
  RDNSS $DNS6 {
  };
};
CONF
# Not through ns(): $! must be radvd's PID (ip netns exec execs it).
ip netns exec "$NS" radvd -n -m stderr -C "$WORK/radvd.conf" -p "$WORK/radvd.pid" \
  >"$WORK/radvd.log" 2>&1 </dev/null &
RADVD_PID=$!
HELPER_PIDS+=("$RADVD_PID")
log "started radvd (pid $RADVD_PID)"

autoconfigured() {
  status_value "[a['address'] + ' ' + a['state'] for a in s['ipv6']['addresses'] if a['origin'] == 'autoconfigured']"
}
deadline=$((SECONDS + 60))
while ((SECONDS < deadline)); do
  process_running "$RADVD_PID" || fail "radvd exited" "radvd running" "$(cat "$WORK/radvd.log")"
  [[ "$(autoconfigured)" == *preferred* ]] && break
  sleep 0.5
done
state=$(autoconfigured)
expect_match "status: an autoconfigured address in $PREFIX6/64, preferred" \
  "^\\['fd78::[0-9a-f:]+/64 preferred'\\]$" "$state"
ADDRESS=$(sed -E "s/^\\['([0-9a-f:]+)\\/64.*/\\1/" <<<"$state")
log "the stack formed $ADDRESS"
expect_no_match "the address's identifier is not the MAC's (EUI-64, RFC 7217 instead)" 'ff:fe' "$ADDRESS"

status=$(daemon_status_json)
HOST_LINK_LOCAL=$(ns ip -6 -o addr show dev tap0 scope link | awk '{print $4}' | cut -d/ -f1)
expect_eq "status: the prefix" "['$PREFIX6/64']" "$(status_value "[p['prefix'] for p in s['ipv6']['prefixes']]" "$status")"
expect_eq "status: the router is the host side" "['$HOST_LINK_LOCAL']" \
  "$(status_value "[r['address'] for r in s['ipv6']['routers']]" "$status")"
expect_eq "status: the DNS server" "['$DNS6']" \
  "$(status_value "[d['address'] for d in s['ipv6']['dns_servers']]" "$status")"
text=$(timeout 10 "$NETSTACKD" status --control "$WORK/control")
expect_match "status text: the DNS server" "^  $DNS6  expires in [0-9]+ s" "$text"

deadline=$((SECONDS + 30))
while ((SECONDS < deadline)); do
  [[ -z "$(ns ip -6 addr show dev tap0 tentative)" ]] && break
  sleep 0.2
done
output=$(ns ping -6 -c 10 -i 0.05 -W 2 -w 30 "$ADDRESS" 2>&1) || true
expect_match "ping -6 $ADDRESS: 10 sent, 10 received, 0% loss" \
  '^10 packets transmitted, 10 received, 0% packet loss' "$output"

helper_stop "$RADVD_PID"
daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_ge "ndp.router_advertisements_received" 1 "$(counter ndp.router_advertisements_received)"
expect_ge "ndp.router_solicitations_sent" 1 "$(counter ndp.router_solicitations_sent)"
