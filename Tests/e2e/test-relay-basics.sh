#!/usr/bin/env bash
# --relay: netstackd as the network of a guest. Three namespaces, all the test's own: netstackd's
# (the test's), a "guest" one where netstackd makes its TAP (--netns) and the guest's tools run,
# and a "remote" one routed from netstackd's through a veth pair (10.99.0.1 - 10.99.0.2, and
# 10.99.0.3 to deny), with dnsmasq on 10.99.0.2 serving a few records. netstackd's resolv.conf is
# the test's own file naming that dnsmasq; ping sockets are allowed in netstackd's namespace only
# (net.ipv4.ping_group_range is per namespace). The machine's network and resolver are never
# used. Checked:
#   1. the address plan: udhcpc in the guest gets 10.0.2.15 with router 10.0.2.2 and DNS
#      10.0.2.3 from netstackd (no --ip given); the guest configures it (its own script);
#   2. the guest pings the remote host 10.99.0.2 through the gateway: answered, through a ping
#      socket (the remote host sees netstackd's namespace's address; status lists the flow); a
#      4000-byte ping (fragments both ways) is answered too; a ping of an absent remote host
#      gets host unreachable (the ping socket's error queue, IP_RECVERR); replies are read
#      right after their request was sent (relay_icmp.replies_read_at_send);
#   3. dig from the guest against 10.0.2.3 resolves www.relay.test and two A records of
#      multi.relay.test (dnsmasq's log shows the queries came from netstackd's namespace);
#      NXDOMAIN passes; the same over TCP (one query a connection, and two on one connection);
#      UDP port 53 of 10.0.2.2 is closed;
#   4. UDP through the relay: a datagram to an echo server in the remote namespace comes back
#      from the server's address and port (the server saw netstackd's namespace's address);
#      one to a closed port there comes back as ICMP port unreachable (the guest's socket says
#      "connection refused"); status lists the UDP flows; a 4000-byte datagram, fragmented by
#      the guest, is reassembled, relayed and comes back whole;
#   5. --deny 10.99.0.3/32: the guest's ping there is refused ("Packet filtered": ICMP
#      administratively prohibited) and counted (relay.refused_denied);
#   6. the host loopback: 10.0.2.4 is not answered without --host-loopback; with
#      --host-loopback 10.0.2.4 (second run; the guest takes a lease again) the guest's ping
#      there is answered by netstackd's namespace's 127.0.0.1; with --relay-idle-timeout 2 the
#      idle flows are closed;
#   7. without ping sockets (the range set back to "1 0" before a third run), the log and the
#      status say so, and the guest's ping is refused ("Packet filtered"), counted.
source "$(dirname "$0")/lib.sh"
e2e_begin relay-basics
for tool in dnsmasq udhcpc dig ping; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

e2e_namespace GUEST guest
e2e_namespace REMOTE remote
guest() { ip netns exec "$GUEST" "$@"; }
CONTROL="$WORK/control" # the path daemon_status_json reads
MAC=02:00:00:0e:14:02

# netstackd's namespace: lo, a veth to the remote namespace, ping sockets for every group.
ip -n "$NS" link add veth0 type veth peer name veth1 netns "$REMOTE"
ip -n "$NS" addr add 10.99.0.1/24 dev veth0
ip -n "$REMOTE" addr add 10.99.0.2/24 dev veth1
ip -n "$REMOTE" addr add 10.99.0.3/24 dev veth1
ip -n "$NS" link set veth0 up
ip -n "$REMOTE" link set veth1 up
ns sysctl -qw net.ipv4.ping_group_range="0 2147483647"
expect_eq "ping sockets allowed in netstackd's namespace only" "0	2147483647" \
  "$(ns cat /proc/sys/net/ipv4/ping_group_range)"

# dnsmasq in the remote namespace, with the test's records; it reads them as user nobody.
printf '10.99.7.1 www.relay.test\n10.99.7.2 multi.relay.test\n10.99.7.3 multi.relay.test\n' >"$WORK/hosts"
chmod 644 "$WORK/hosts"
ip netns exec "$REMOTE" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --addn-hosts="$WORK/hosts" \
  --local=/relay.test/ --listen-address=10.99.0.2 --bind-interfaces \
  --pid-file="$WORK/dnsmasq.pid" --log-queries --log-facility="$WORK/dnsmasq.log" </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/dnsmasq.log" "started, version" 10 >/dev/null
printf '# the test'"'"'s own resolv.conf\nnameserver 10.99.0.2\noptions timeout:2 attempts:2\n' >"$WORK/resolv.conf"
ok "dnsmasq on 10.99.0.2 in the remote namespace; resolv.conf names it"

# A UDP echo server in the remote namespace (10.99.0.2:7007) that logs who sent each datagram,
# and the guest's UDP client: prints the answer, "refused" or "timeout".
cat >"$WORK/udp-echo.py" <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.99.0.2", 7007))
print("listening", flush=True)
while True:
    data, sender = s.recvfrom(65535)
    print("from %s:%d %d bytes" % (sender[0], sender[1], len(data)), flush=True)
    s.sendto(data, sender)
PY
cat >"$WORK/udp-client.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], int(sys.argv[2])))
for attempt in range(3):
    s.send(sys.argv[3].encode())
    try:
        print(s.recv(65535).decode())
        break
    except socket.timeout:
        print("timeout")
    except ConnectionRefusedError:
        print("refused")
        break
PY
ip netns exec "$REMOTE" "$PYTHON" -u "$WORK/udp-echo.py" >"$WORK/udp-echo.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/udp-echo.log" "^listening" 10 >/dev/null
ok "a UDP echo server on 10.99.0.2:7007 in the remote namespace"

# The guest's DHCP client script: records the lease and configures tap0 with it.
cat >"$WORK/udhcpc.script" <<SCRIPT
#!/bin/sh
echo "\$1 ip=\$ip mask=\$mask router=\$router dns=\$dns" >>"$WORK/udhcpc.events"
case "\$1" in
  bound|renew)
    ip addr flush dev "\$interface"
    ip addr add "\$ip/\$mask" dev "\$interface"
    ip route replace default via "\$router" dev "\$interface"
    ;;
esac
SCRIPT
chmod 755 "$WORK/udhcpc.script"

# relay_start ARGS...: netstackd --relay with the TAP in the guest (which netstackd makes, and
# removes at exit), the guest's link up and configured by DHCP (udhcpc, the script above).
relay_start() {
  daemon_start --tap tap0 --netns "/run/netns/$GUEST" --relay --mac "$MAC" \
    --resolv-conf "$WORK/resolv.conf" --deny 10.99.0.3/32 --control "$CONTROL" "$@"
  local deadline=$((SECONDS + 30))
  until grep -q "serving" "$DAEMON_OUT"; do
    daemon_running || fail "netstackd exited during startup" "running" "$(cat "$DAEMON_ERR")"
    ((SECONDS < deadline)) || fail "netstackd did not start within 30 s"
    sleep 0.2
  done
  guest ip link set tap0 up
  : >"$WORK/udhcpc.events"
  ip netns exec "$GUEST" udhcpc -f -q -i tap0 -s "$WORK/udhcpc.script" -t 10 -T 2 -n \
    >"$WORK/udhcpc.out" 2>&1 </dev/null || fail "udhcpc got no lease" "a lease" "$(cat "$WORK/udhcpc.out")"
}

# guest_ping ADDRESS: the guest's ping output (3 requests, 2 s each).
guest_ping() { guest ping -c 3 -i 0.3 -W 2 "$1" 2>&1 || true; }

# --- 1. The address plan ----------------------------------------------------------------------
# Each relayed flow holds a socket: the daemon raises its soft descriptor limit to the hard one.
ulimit -Sn 1024
relay_start
hard=$(ulimit -Hn)
if [[ "$hard" == unlimited ]] || ((hard > 1024)); then
  expect_match "the soft descriptor limit raised from 1024" \
    "open descriptors allowed raised from 1024 to " "$(cat "$DAEMON_ERR")"
fi
relay_line=$(grep "relay:" "$DAEMON_OUT" || true)
expect_match "the startup line says the plan" \
  "relay: gateway 10\.0\.2\.2, dns 10\.0\.2\.3 and fd00::3 \(name servers from .*resolv\.conf\), leases 10\.0\.2\.15-10\.0\.2\.254; ping to other hosts through ICMP sockets; udp through host sockets; denied 10\.99\.0\.3/32; host loopback unreachable" \
  "$relay_line"
lease=$(grep "^bound" "$WORK/udhcpc.events" | tail -n 1)
expect_eq "the guest's lease" "bound ip=10.0.2.15 mask=24 router=10.0.2.2 dns=10.0.2.3" "$lease"
expect_match "the guest's address" "inet 10\.0\.2\.15/24" "$(guest ip -4 addr show dev tap0)"

# --- 2. Ping through the relay ----------------------------------------------------------------
out=$(guest_ping 10.99.0.2)
expect_match "the guest's ping of the remote host is answered" "3 packets transmitted, 3 received" "$out"
expect_match "the replies come from the remote host's address" "bytes from 10\.99\.0\.2: icmp_seq=3" "$out"
json=$(daemon_status_json)
expect_eq "status lists the echo flow (guest, destination, replies)" "10.0.2.15 10.99.0.2 3" \
  "$(status_value '" ".join(str(f[k]) for f in s["relay"]["echo_flows"] for k in ("guest", "destination", "replies"))' "$json")"
expect_eq "status says how ping goes" "ICMP sockets" "$(status_value 's["relay"]["echo"]' "$json")"
expect_eq "relay.echo_requests_relayed" 3 "$(status_value 's["counters"]["relay"]["echo_requests_relayed"]' "$json")"
expect_eq "icmp.echo_replies_relayed" 3 "$(status_value 's["counters"]["icmp"]["echo_replies_relayed"]' "$json")"
text=$(timeout 10 "$NETSTACKD" status --control "$CONTROL")
expect_match "text status: the relay line" "^relay: dns 10\.0\.2\.3 and fd00::3 \(.*resolv\.conf: 10\.99\.0\.2\); denied 10\.99\.0\.3/32; host loopback unreachable$" "$text"
expect_match "text status: the flow" "^  10\.0\.2\.15 id [0-9]+ -> 10\.99\.0\.2  requests 3  replies 3 " "$text"
# A 4000-byte ping: the guest's request arrives in fragments, reassembled before it is relayed;
# the reply goes back in fragments.
out=$(guest ping -c 1 -W 3 -s 4000 10.99.0.2 2>&1 || true)
expect_match "a 4000-byte ping of the remote host is answered" "4008 bytes from 10\.99\.0\.2" "$out"
# No host at 10.99.0.7: netstackd's namespace finds no neighbour there, its ping socket gets the
# error (IP_RECVERR) and the guest a host unreachable about its request.
out=$(guest ping -c 1 -W 8 10.99.0.7 2>&1 || true)
expect_match "a ping of an absent remote host: host unreachable to the guest" \
  "From 10\.0\.2\.2 icmp_seq=1 Destination Host Unreachable" "$out"
expect_ge "relay_icmp.errors_relayed" 1 "$(status_value 's["counters"]["relay_icmp"]["errors_relayed"]')"

# --- 3. DNS at 10.0.2.3 -----------------------------------------------------------------------
answer=$(guest dig +short +time=3 +tries=2 @10.0.2.3 www.relay.test A 2>&1 || true)
expect_eq "dig www.relay.test through 10.0.2.3" "10.99.7.1" "$answer"
answer=$(guest dig +short +time=3 +tries=2 @10.0.2.3 multi.relay.test A 2>&1 | sort | tr '\n' ' ' || true)
expect_eq "dig multi.relay.test: both records" "10.99.7.2 10.99.7.3 " "$answer"
answer=$(guest dig +time=3 +tries=2 @10.0.2.3 none.relay.test A 2>&1 || true)
expect_match "NXDOMAIN passes" "status: NXDOMAIN" "$answer"
answer=$(guest dig +tcp +short +time=3 +tries=2 @10.0.2.3 www.relay.test A 2>&1 || true)
expect_eq "dig +tcp www.relay.test through 10.0.2.3 (DNS over TCP)" "10.99.7.1" "$answer"
answer=$(guest dig +tcp +keepopen +short +time=3 +tries=1 @10.0.2.3 www.relay.test A multi.relay.test A 2>&1 | sort | tr '\n' ' ' || true)
expect_eq "two queries on one TCP connection" "10.99.7.1 10.99.7.2 10.99.7.3 " "$answer"
expect_match "dnsmasq got the queries from netstackd's namespace (10.99.0.1)" \
  "query\[A\] www\.relay\.test from 10\.99\.0\.1" "$(cat "$WORK/dnsmasq.log")"
answer=$(guest dig +time=2 +tries=1 @10.0.2.2 www.relay.test A 2>&1 || true)
expect_match "port 53 of the gateway's own address is closed" "connection refused|no servers could be reached" "$answer"
answer=$(guest dig +tcp +time=2 +tries=1 @10.0.2.2 www.relay.test A 2>&1 || true)
expect_no_match "TCP port 53 of the gateway's own address gives no answer" "^www\.relay\.test\..*IN" "$answer"
json=$(daemon_status_json)
expect_eq "that connection was reset (dns.tcp_connections_refused_other_address)" 1 \
  "$(status_value 's["counters"]["dns"]["tcp_connections_refused_other_address"]' "$json")"
expect_ge "dns.answers" 6 "$(status_value 's["counters"]["dns"]["answers"]' "$json")"
expect_ge "dns.queries_tcp" 3 "$(status_value 's["counters"]["dns"]["queries_tcp"]' "$json")"
expect_eq "status names the name server" "10.99.0.2" "$(status_value '",".join(s["relay"]["name_servers"])' "$json")"

# --- 4. UDP through the relay -----------------------------------------------------------------
answer=$(guest "$PYTHON" "$WORK/udp-client.py" 10.99.0.2 7007 relayed-udp-datagram 2>&1 || true)
expect_eq "a UDP datagram to the remote echo server comes back" "relayed-udp-datagram" "$answer"
expect_match "the echo server saw netstackd's namespace's address" "^from 10\.99\.0\.1:[0-9]+ 20 bytes$" \
  "$(cat "$WORK/udp-echo.log")"
answer=$(guest "$PYTHON" "$WORK/udp-client.py" 10.99.0.2 7008 nobody-listens 2>&1 || true)
expect_eq "a closed remote port: ICMP port unreachable to the guest" "refused" "$answer"
json=$(daemon_status_json)
expect_eq "status lists the UDP flows" "10.99.0.2:7007 1 1,10.99.0.2:7008 1 0" \
  "$(status_value '",".join("%s %d %d" % (f["destination"], f["datagrams_out"], f["datagrams_in"]) for f in s["relay"]["udp_flows"])' "$json")"
expect_eq "relay_udp.refusals_sent" 1 "$(status_value 's["counters"]["relay_udp"]["refusals_sent"]' "$json")"
big=$(head -c 4000 /dev/zero | tr '\0' 'f')
answer=$(guest "$PYTHON" "$WORK/udp-client.py" 10.99.0.2 7007 "$big" 2>&1 || true)
expect_eq "a 4000-byte UDP datagram (fragments from the guest) comes back whole" "$big" "$answer"
expect_match "the echo server got it whole" "^from 10\.99\.0\.1:[0-9]+ 4000 bytes$" "$(cat "$WORK/udp-echo.log")"
expect_ge "ipv4.datagrams_reassembled (the ping's and the datagram's)" 2 \
  "$(status_value 's["counters"]["ipv4"]["datagrams_reassembled"]')"

# --- 5. A denied destination ------------------------------------------------------------------
out=$(guest_ping 10.99.0.3)
expect_match "the guest's ping of a denied address is refused as filtered" "Packet filtered" "$out"
expect_match "no reply from the denied address" "3 packets transmitted, 0 received" "$out"
expect_eq "relay.refused_denied" 3 "$(status_value 's["counters"]["relay"]["refused_denied"]')"

# --- 6. The host's loopback -------------------------------------------------------------------
out=$(guest_ping 10.0.2.4)
expect_match "10.0.2.4 without --host-loopback: no answer" "3 packets transmitted, 0 received" "$out"
daemon_stop TERM
expect_eq "netstackd exit status" 0 "$DAEMON_STATUS"
expect_counters_printed
expect_ge "relay_icmp.replies_received (exit report)" 3 "$(counter relay_icmp.replies_received)"
# The remote namespace answers inside the sendto (veth: the kernel's receive path runs in the
# sender's context), so the relay reads replies right after sending their requests and they go
# to the guest in the same turn of the loop (at least one: under heavy load the kernel may
# defer that work to ksoftirqd, and the reply then comes through epoll).
expect_ge "relay_icmp.replies_read_at_send (exit report)" 1 "$(counter relay_icmp.replies_read_at_send)"

relay_start --host-loopback 10.0.2.4 --relay-idle-timeout 2
expect_match "the startup line names the host loopback" "host loopback at 10\.0\.2\.4$" "$(grep "relay:" "$DAEMON_OUT")"
out=$(guest_ping 10.0.2.4)
expect_match "10.0.2.4 with --host-loopback: answered by the host's 127.0.0.1" "3 packets transmitted, 3 received" "$out"
expect_match "status: the flow to 10.0.2.4 goes to 127.0.0.1" "-> 10\.0\.2\.4 \(host 127\.0\.0\.1\)" \
  "$(timeout 10 "$NETSTACKD" status --control "$CONTROL")"
out=$(guest_ping 10.99.0.2)
expect_match "the remote host still answers" "3 packets transmitted, 3 received" "$out"
# --relay-idle-timeout 2: the flows and their sockets go once idle.
deadline=$((SECONDS + 30))
until [[ "$(status_value 'len(s["relay"]["echo_flows"])')" == 0 ]]; do
  ((SECONDS < deadline)) || fail "the idle echo flows expire within 30 s"
  sleep 0.5
done
expect_eq "idle echo flows expired (relay_icmp.flows_expired)" 2 \
  "$(status_value 's["counters"]["relay_icmp"]["flows_expired"]')"
daemon_stop TERM
expect_eq "netstackd exit status" 0 "$DAEMON_STATUS"

# --- 7. Without ping sockets ------------------------------------------------------------------
ns sysctl -qw net.ipv4.ping_group_range="1 0"
relay_start
expect_match "the log says ping sockets are refused" \
  "relay: ICMP sockets refused \(.*\): net\.ipv4\.ping_group_range is '1 0'" "$(cat "$DAEMON_ERR")"
expect_match "the startup line says ping is refused" "ping to other hosts refused: ICMP sockets refused" \
  "$(grep "relay:" "$DAEMON_OUT")"
out=$(guest_ping 10.99.0.2)
expect_match "the guest's ping is refused as filtered" "Packet filtered" "$out"
json=$(daemon_status_json)
expect_match "status says why" "^unavailable: ICMP sockets refused" "$(status_value 's["relay"]["echo"]' "$json")"
expect_eq "relay.echo_refused_unavailable" 3 "$(status_value 's["counters"]["relay"]["echo_refused_unavailable"]' "$json")"
answer=$(guest dig +short +time=3 +tries=2 @10.0.2.3 www.relay.test A 2>&1 || true)
expect_eq "DNS still works" "10.99.7.1" "$answer"
daemon_stop TERM
expect_eq "netstackd exit status" 0 "$DAEMON_STATUS"
