#!/usr/bin/env bash
# A connect refused by ICMP instead of RST, over both families (RFC 1122 §4.2.3.9, RFC 5461):
# the namespace's kernel answers SYNs to port PORT with an ICMP port unreachable (nftables
# `reject with icmp type port-unreachable`) or an ICMPv6 port unreachable (`reject with icmpv6
# type port-unreachable`). The daemon's `--echo-client` connects there through the stack; the
# error quotes its SYN, so the connect fails at once: the daemon prints "connection refused"
# within REFUSED_SECONDS of starting (the SYN retransmissions alone would take over two
# minutes), nftables counted the rejected SYN, and the status shows
# tcp.connections_refused_by_icmp 1. Over IPv6 the echo client waits for duplicate address
# detection (about a second) before it connects.
source "$(dirname "$0")/lib.sh"
e2e_begin tcp-icmp-refused

STACK_IP6=fd78::2
HOST_IP6=fd78::1
PORT=5009
REFUSED_SECONDS=15  # generous for a busy machine; the SYN retries take 127 s

ns nft -f - <<RULES || fail "nft: could not add the reject rules"
table inet e2e_reject {
  chain in { type filter hook input priority 0; policy accept;
    iifname "tap0" ip daddr $HOST_IP tcp dport $PORT counter reject with icmp type port-unreachable;
    iifname "tap0" ip6 daddr $HOST_IP6 tcp dport $PORT counter reject with icmpv6 type port-unreachable; }
}
RULES

# rejected_syns 4|6: SYNs the rule of that family has answered with an ICMP error.
rejected_syns() {
  local match
  if [[ $1 == 4 ]]; then match="ip daddr"; else match="ip6 daddr"; fi
  ns nft list chain inet e2e_reject in | awk -v m="$match" 'index($0, m) { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
}

for family in 4 6; do
  if [[ $family == 4 ]]; then
    server="$HOST_IP:$PORT"
    ipv6_options=()
  else
    server="[$HOST_IP6]:$PORT"
    ipv6_options=(--ip6 "$STACK_IP6/64" --host-ip6 "$HOST_IP6/64")
  fi
  started=$(date +%s%N)
  daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" \
    "${ipv6_options[@]}" --control "$WORK/control" --echo-client "$server,1000"
  report=$(wait_for_line "$DAEMON_OUT" "echo client" "$REFUSED_SECONDS")
  elapsed_ms=$((($(date +%s%N) - started) / 1000000))
  log "IPv$family: the echo client's report after $elapsed_ms ms: $report"
  expect_eq "IPv$family: the echo client's report" \
    "netstackd: echo client $server: connection refused" "$report"
  expect_le "IPv$family: ms from start to the refusal" $((REFUSED_SECONDS * 1000)) "$elapsed_ms"
  expect_ge "IPv$family: SYNs the kernel rejected with port unreachable" 1 "$(rejected_syns "$family")"
  json=$(daemon_status_json)
  expect_eq "IPv$family: tcp.connections_refused_by_icmp" 1 \
    "$(status_value 's["counters"]["tcp"].get("connections_refused_by_icmp", 0)' "$json")"
  expect_eq "IPv$family: tcp.icmp_unreachables_ignored" 0 \
    "$(status_value 's["counters"]["tcp"].get("icmp_unreachables_ignored", 0)' "$json")"
  daemon_stop TERM
  expect_eq "IPv$family: exit status after SIGTERM" 0 "$DAEMON_STATUS"
done
