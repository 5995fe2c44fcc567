#!/usr/bin/env bash
# The DNS forwarder's host side (HostDNSUpstream in LinuxRuntime) against dnsmasq, through
# dns-upstream-check (built beside netstackd; DNS_UPSTREAM_CHECK overrides), which plays the
# guest. Everything is inside two namespaces the test makes and deletes: the test's own, where
# dns-upstream-check runs (veth0 10.53.0.1/24), and a "remote" one (veth1 10.53.0.2 and
# 10.53.0.3) with dnsmasq on 10.53.0.2 serving *.test from a hosts file (www.test 10.53.1.1 and
# fd53::1, big.test 10.53.2.1-40, UDP answers cut at 512 bytes even with EDNS) and a server on
# 10.53.0.3 that takes UDP queries and TCP connections and never answers. The resolv.conf files
# are the test's own; the machine's resolver is never used. Checked:
#   1. resolv.conf lists the silent server first (timeout:1 attempts:2): every query, over UDP
#      and TCP, times out there and is answered by dnsmasq; a truncated answer is asked again
#      over TCP and arrives whole (40 addresses) to an EDNS guest, as a truncated response to a
#      512-byte one; NXDOMAIN passes; each upstream UDP query has its own source port and an id
#      that is not the guest's (tshark in the remote namespace); the IPv6 name server is taken
#      third, in the file's order; the fourth name server, `search` and `ndots` are reported
#      as not used;
#   2. the file replaced by one with dnsmasq only: picked up, no more timeouts;
#   3. replaced by one without name servers: SERVFAIL, said in the log and counted;
#   4. replaced by one with only the silent server: SERVFAIL after two tries;
#   5. a resolv.conf that does not exist: SERVFAIL, said in the log.
source "$(dirname "$0")/lib.sh"
e2e_begin dns-upstream

CHECK=${DNS_UPSTREAM_CHECK:-$(dirname "$NETSTACKD")/dns-upstream-check}
[[ -x "$CHECK" ]] || fail "dns-upstream-check next to netstackd" "an executable $CHECK" "none"
for tool in dnsmasq tshark; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

REMOTE="ns-e2e-dns-upstream-remote-$$"
ip netns add "$REMOTE"
# Delete the remote namespace too, whatever happens; then the usual cleanup (which exits).
trap 'status=$?; set +e; ip netns del "$REMOTE" 2>/dev/null; (exit $status); e2e_cleanup' EXIT
ip -n "$REMOTE" link set lo up
ip -n "$NS" link add veth0 type veth peer name veth1 netns "$REMOTE"
ip -n "$NS" addr add 10.53.0.1/24 dev veth0
ip -n "$REMOTE" addr add 10.53.0.2/24 dev veth1
ip -n "$REMOTE" addr add 10.53.0.3/24 dev veth1
ip -n "$NS" link set veth0 up
ip -n "$REMOTE" link set veth1 up
# (Background helpers are started with ip netns exec itself, so that $! is their PID.)

# dnsmasq reads its hosts file as user nobody.
{
  echo "10.53.1.1 www.test"
  echo "fd53::1 www.test"
  for i in $(seq 1 40); do echo "10.53.2.$i big.test"; done
} >"$WORK/hosts"
chmod 644 "$WORK/hosts"
ip netns exec "$REMOTE" tshark -i veth1 -n -w "$WORK/remote.pcap" -f "port 53" >"$WORK/tshark.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/tshark.log" "Capturing on" 20 >/dev/null
ip netns exec "$REMOTE" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --addn-hosts="$WORK/hosts" \
  --local=/test/ --edns-packet-max=512 --listen-address=10.53.0.2 --bind-interfaces \
  --pid-file="$WORK/dnsmasq.pid" --log-queries --log-facility="$WORK/dnsmasq.log" </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/dnsmasq.log" "started, version" 10 >/dev/null
ip netns exec "$REMOTE" "$PYTHON" -u "$TOOLS/silent-dns-server.py" 10.53.0.3 >"$WORK/silent.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/silent.log" "^listening on" 10 >/dev/null
ok "dnsmasq on 10.53.0.2, a silent server on 10.53.0.3 (remote namespace)"

cat >"$WORK/resolv.conf" <<'CONF'
# the test's own resolv.conf: the silent server first
search e2e.invalid
nameserver 10.53.0.3
nameserver 10.53.0.2
nameserver fd53::9
nameserver 10.53.0.9
options timeout:1 attempts:2 ndots:2
CONF
printf 'nameserver 10.53.0.2\n' >"$WORK/dnsmasq-only.conf"
printf '# no name servers\n; none at all\n' >"$WORK/empty.conf"
printf 'nameserver 10.53.0.3\noptions timeout:1\n' >"$WORK/silent-only.conf"

ns timeout 120 "$CHECK" --resolv-conf "$WORK/resolv.conf" --deadline 90 \
  udp:www.test udp:www.test:AAAA udp-edns:big.test udp:big.test tcp:big.test tcp:www.test \
  udp:nothing.test \
  --use "$WORK/dnsmasq-only.conf" udp:www.test \
  --use "$WORK/empty.conf" udp:www.test \
  --use "$WORK/silent-only.conf" udp:www.test \
  >"$WORK/check.out" 2>"$WORK/check.err" && status=0 || status=$?
sed 's/^/    /' "$WORK/check.out"
out=$(cat "$WORK/check.out")
err=$(cat "$WORK/check.err")
expect_eq "dns-upstream-check exit status" 0 "$status"

# --- 1. The silent server first. --------------------------------------------------------------
expect_match "resolv.conf read: IPv4 and IPv6 servers in the file's order, timeout 1 s, 2 attempts" \
  "dns: $WORK/resolv.conf: name servers 10\.53\.0\.3, 10\.53\.0\.2, fd53::9 \(timeout 1 s, 2 attempts\)" "$err"
expect_match "the fourth name server is ignored (MAXNS)" "ignored line 6: 'nameserver 10\.53\.0\.9' \(more than 3 name servers\)" "$err"
expect_match "search is ignored" "ignored line 2: 'search e2e\.invalid' \(not used by a forwarder\)" "$err"
expect_match "ndots is ignored" "ignored line 7: 'ndots:2' \(option not used\)" "$err"
expect_match "www.test A over UDP" "^udp www\.test\. A: NOERROR 1 answers: 10\.53\.1\.1$" "$out"
expect_match "www.test AAAA over UDP" "^udp www\.test\. AAAA: NOERROR 1 answers: fd53:0:0:0:0:0:0:1$" "$out"
all40=$(for i in $(seq 1 40); do echo "10.53.2.$i"; done | sort | tr '\n' ' ' | sed 's/ $//')
expect_match "big.test to an EDNS guest: truncated over UDP, asked again over TCP, all 40" \
  "^udp-edns big\.test\. A: NOERROR 40 answers: ${all40//./\\.}$" "$out"
expect_match "big.test to a 512-byte guest: a truncated response (it asks again over TCP)" \
  "^udp big\.test\. A: NOERROR tc 0 answers$" "$out"
expect_match "big.test over TCP from the guest: all 40" "^tcp big\.test\. A: NOERROR 40 answers: " "$out"
expect_match "www.test over TCP from the guest" "^tcp www\.test\. A: NOERROR 1 answers: 10\.53\.1\.1$" "$out"
expect_match "NXDOMAIN passes" "^udp nothing\.test\. A: NXDOMAIN 0 answers$" "$out"
silent_udp=$(grep -c "^udp from 10\.53\.0\.1:" "$WORK/silent.log" || true)
silent_tcp=$(grep -c "^tcp from 10\.53\.0\.1:" "$WORK/silent.log" || true)
# Phase 1: 5 UDP queries (+1 in phase 4, twice: two attempts); 2 TCP queries.
expect_eq "the silent server got every UDP query of phases 1 and 4" 7 "$silent_udp"
expect_eq "the silent server got a TCP connection per TCP query" 2 "$silent_tcp"
# Source ports are drawn at random by the kernel (bind to port 0): one repeat among a handful is
# possible (about 1 run in 1,000), more means the ports are not fresh.
silent_ports=$(awk '/^udp from/ { split($3, a, ":"); print a[2] }' "$WORK/silent.log" | sort -u | wc -l)
expect_ge "each UDP query to the silent server came from its own port (one repeat allowed)" \
  $((silent_udp - 1)) "$silent_ports"

# What went to dnsmasq, on the wire: UDP queries from 10.53.0.1 to 10.53.0.2:53.
helper_stop "${HELPER_PIDS[0]}"
wire=$(tshark -r "$WORK/remote.pcap" -n -Y "ip.src == 10.53.0.1 && ip.dst == 10.53.0.2 && udp.dstport == 53 && dns.flags.response == 0" -T fields -e udp.srcport -e dns.id 2>/dev/null)
queries=$(wc -l <<<"$wire")
expect_eq "UDP queries to dnsmasq (phase 1: 5; phase 2: 1)" 6 "$queries"
expect_ge "each from its own source port (one repeat allowed)" $((queries - 1)) \
  "$(awk '{print $1}' <<<"$wire" | sort -u | wc -l)"
guest_ids=" 0x4001 0x4002 0x4003 0x4004 0x4005 0x4006 0x4007 0x4008 "
reused=$(awk '{print $2}' <<<"$wire" | while read -r id; do [[ "$guest_ids" == *" $id "* ]] && echo "$id"; done || true)
# Ids are drawn at random: one of the six may be one of the guest's eight by chance (about 1 run
# in 1,400; it happened once, 0x4008), two about 1 in 10^7. A forwarder that passed the guest's
# ids through would show all six.
reused_count=$(grep -c . <<<"$reused" || true)
expect_le "upstream queries carrying one of the guest's ids (one by chance allowed: $(echo $reused))" \
  1 "$reused_count"
tcp_queries=$(tshark -r "$WORK/remote.pcap" -n -Y "ip.src == 10.53.0.1 && ip.dst == 10.53.0.2 && tcp.dstport == 53 && dns.flags.response == 0" -T fields -e dns.id 2>/dev/null | grep -c . || true)
expect_eq "TCP queries to dnsmasq (2 truncated answers asked again, 2 guest TCP queries)" 4 "$tcp_queries"
truncated=$(tshark -r "$WORK/remote.pcap" -n -Y "ip.src == 10.53.0.2 && udp && dns.flags.truncated == 1" -T fields -e dns.id 2>/dev/null | grep -c . || true)
expect_eq "dnsmasq's truncated UDP answers" 2 "$truncated"

# --- 2 to 4: the file replaced. ------------------------------------------------------------------
expect_match "replaced by dnsmasq only: picked up" \
  "dns: $WORK/resolv.conf: name servers 10\.53\.0\.2 \(timeout 5 s, 2 attempts\)" "$err"
expect_match "then answered at once" "^udp www\.test\. A: NOERROR 1 answers: 10\.53\.1\.1$" \
  "$(sed -n '/now using .*dnsmasq-only.conf/,/now using/p' <<<"$out")"
expect_match "replaced by a file without name servers: said so" \
  "dns: $WORK/resolv.conf: no name servers: queries get SERVFAIL" "$err"
expect_match "then SERVFAIL" "^udp www\.test\. A: SERVFAIL 0 answers$" \
  "$(sed -n '/now using .*empty.conf/,/now using/p' <<<"$out")"
expect_match "replaced by the silent server only: SERVFAIL after its two tries" \
  "^udp www\.test\. A: SERVFAIL 0 answers$" "$(sed -n '/now using .*silent-only.conf/,$p' <<<"$out")"
counter_of() { awk -v name="dns.$1" '$1 == name { print $2 }' <<<"$out"; }
expect_eq "dns.timeouts (7 in phase 1, 2 in phase 4)" 9 "$(counter_of timeouts)"
expect_eq "dns.truncated_retries" 2 "$(counter_of truncated_retries)"
expect_eq "dns.answers (8 relayed)" 8 "$(counter_of answers)"
expect_eq "dns.answers_truncated_for_guest" 1 "$(counter_of answers_truncated_for_guest)"
expect_eq "dns.no_servers" 1 "$(counter_of no_servers)"
expect_eq "dns.servfails_sent (no servers; all tries failed)" 2 "$(counter_of servfails_sent)"
expect_eq "dns.mismatched_answers_dropped" "" "$(counter_of mismatched_answers_dropped)"
expect_match "no upstream socket left open" "^upstream sockets open: 0$" "$out"

# --- 5. No file at all. ---------------------------------------------------------------------------
ns timeout 30 "$CHECK" --resolv-conf "$WORK/missing.conf" --deadline 20 udp:www.test \
  >"$WORK/missing.out" 2>"$WORK/missing.err" && status=0 || status=$?
expect_eq "dns-upstream-check with a missing resolv.conf: exit status" 0 "$status"
expect_match "a missing file is said" \
  "dns: $WORK/missing.conf: cannot read it \(No such file or directory\): no name servers, queries get SERVFAIL" \
  "$(cat "$WORK/missing.err")"
expect_match "and the query gets SERVFAIL" "^udp www\.test\. A: SERVFAIL 0 answers$" "$(cat "$WORK/missing.out")"
