#!/usr/bin/env bash
# One TCP and one UDP over IPv6 (issue 13): the stack with --ip6 fd77::2/64, the host side of
# the TAP with --host-ip6 fd77::1/64, the kernel's tools as the peers, the same checks as the
# IPv4 tests make:
# - curl fetches a file over IPv6, from the configured and from the link-local address;
# - nc -6 sends 20 MB of random bytes through the echo service and gets them back (sha256);
# - 200 concurrent curls all get their page;
# - UDP echo over IPv6 answers; a closed TCP port is refused (a RST), a closed UDP port too
#   (ICMPv6 port unreachable);
# - a 50 MB download over IPv6 while the kernel drops 1 % of the packets each way (nftables)
#   arrives whole (sha256), and the stack retransmitted.
source "$(dirname "$0")/lib.sh"
e2e_begin ipv6-tcp

STACK_IP6=fd77::2
HOST_IP6=fd77::1
ECHO_BYTES=20000000
LOSSY_BYTES=50000000
LIMIT=240 # seconds the lossy download may take

mkdir "$WORK/root"
echo "small file over IPv6" >"$WORK/root/small.txt"
head -c "$LOSSY_BYTES" /dev/urandom >"$WORK/root/random.bin"

daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" \
  --ip6 "$STACK_IP6/64" --host-ip6 "$HOST_IP6/64" --http-root "$WORK/root" \
  --control "$WORK/control"
daemon_wait_ready

# Both sides' addresses leave duplicate address detection first.
stack_address_state() {
  status_value "[a['state'] for a in s['ipv6']['addresses'] if a['address'].startswith('$1')]"
}
deadline=$((SECONDS + 30))
while ((SECONDS < deadline)); do
  [[ -z "$(ns ip -6 addr show dev tap0 tentative)" \
    && "$(stack_address_state "$STACK_IP6/")" == "['preferred']" \
    && "$(stack_address_state fe80::)" == "['preferred']" ]] && break
  sleep 0.2
done
expect_eq "the host side has no tentative address" "" "$(ns ip -6 addr show dev tap0 tentative)"
expect_eq "status: $STACK_IP6/64 is preferred" "['preferred']" "$(stack_address_state "$STACK_IP6/")"
LINK_LOCAL=$(status_value "[a['address'] for a in s['ipv6']['addresses'] if a['origin'] == 'link-local'][0].split('/')[0]")

# --- curl, from both addresses ---
page=$(ns curl -sg --max-time 20 "http://[$STACK_IP6]/small.txt") || true
expect_eq "curl http://[$STACK_IP6]/small.txt" "small file over IPv6" "$page"
page=$(ns curl -sg --max-time 20 "http://[$LINK_LOCAL%25tap0]/small.txt") || true
expect_eq "curl to the link-local address [$LINK_LOCAL%tap0]" "small file over IPv6" "$page"

# --- 20 MB through the echo service ---
head -c "$ECHO_BYTES" /dev/urandom >"$WORK/sent.bin"
started=$SECONDS
ns timeout 120 nc -6 -N "$STACK_IP6" 7 <"$WORK/sent.bin" >"$WORK/received.bin" \
  || fail "nc -6 to the echo service failed or took over 120 s"
log "nc -6: 20 MB there and back in $((SECONDS - started)) s"
expect_eq "echo over IPv6: bytes back" "$ECHO_BYTES" "$(stat -c %s "$WORK/received.bin")"
expect_eq "echo over IPv6: sha256" "$(sha256sum <"$WORK/sent.bin" | cut -d' ' -f1)" \
  "$(sha256sum <"$WORK/received.bin" | cut -d' ' -f1)"

# --- 200 concurrent curls ---
codes=$(seq 200 | ns xargs -P 200 -I{} curl -sg --max-time 60 -o /dev/null -w '%{http_code}\n' \
  "http://[$STACK_IP6]/small.txt" | sort | uniq -c | awk '{ print $2 ":" $1 }' | tr '\n' ' ')
expect_eq "200 concurrent curls over IPv6: HTTP status counts" "200:200 " "$codes"

# --- UDP echo, closed ports ---
answer=$(printf 'hello over udp6' | ns timeout 10 nc -6 -u -w 2 "$STACK_IP6" 7 2>&1) || true
expect_eq "UDP echo over IPv6" "hello over udp6" "$answer"
output=$(ns timeout 10 nc -6 -v -w 3 "$STACK_IP6" 81 </dev/null 2>&1) || true
expect_match "TCP to a closed port over IPv6 is refused (RST)" 'Connection refused' "$output"
expect_ge "tcp.resets_sent counts the refusal" 1 "$(status_value 's["counters"]["tcp"]["resets_sent"]')"
printf 'x' | ns timeout 10 nc -6 -u -w 2 "$STACK_IP6" 9999 >/dev/null 2>&1 || true
expect_ge "ICMPv6 errors sent (port unreachable for a closed UDP port)" 1 \
  "$(status_value 's["counters"]["icmpv6"]["errors_sent"]')"

# --- 50 MB under 1 % loss each way ---
kernel_loss 1
started=$SECONDS
ns curl -sSg --max-time "$LIMIT" -o "$WORK/download.bin" -w '%{http_code} %{size_download}\n' \
  "http://[$STACK_IP6]/random.bin" >"$WORK/curl.out" 2>"$WORK/curl.err" </dev/null || true
log "50 MB over IPv6 with 1 % loss in $((SECONDS - started)) s"
expect_eq "lossy download over IPv6: HTTP status and bytes" "200 $LOSSY_BYTES" "$(cat "$WORK/curl.out")"
expect_eq "lossy download over IPv6: sha256" "$(sha256sum <"$WORK/root/random.bin" | cut -d' ' -f1)" \
  "$(sha256sum <"$WORK/download.bin" | cut -d' ' -f1)"
expect_ge "the kernel dropped packets on their way to the stack" 1 "$(kernel_loss_dropped out)"
expect_ge "tcp.segments_retransmitted" 1 "$(status_value 's["counters"]["tcp"]["segments_retransmitted"]')"

daemon_alive || fail "netstackd died"
daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_ge "tcp.passive_opens (curls, nc, the lossy download)" 204 "$(counter tcp.passive_opens)"
