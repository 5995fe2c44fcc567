#!/usr/bin/env bash
# SYN floods against port 80, sent inside the namespace only, from a spoofed address,
# 10.77.0.3, which the namespace owns (so the kernel answers ARP for it) but whose packets an
# nftables rule drops: the stack's SYN-ACKs go unanswered, as in a real flood, and its
# half-open connections fill up. Two floods, one after the other:
#   1. a paced flood, FLOOD_RATE SYNs a second for FLOOD_SECONDS (tools/syn-flood.py): the SYN
#      backlog (1024) is full within a fraction of a second and the stack answers with SYN
#      cookies; new curls of / during it (one after the other) must all succeed. The rate is
#      one the debug build that CI tests keeps up with on a busy 2-core machine (it took
#      8,000/s in trials); a faster flood than the stack can read overflows the TAP's queue in
#      the kernel, which then drops legitimate SYNs with the rest before the stack sees them;
#   2. `hping3 --flood` for HPING_SECONDS: as fast as one core can send (about 30,000 SYNs a
#      second here, more than the debug build reads): the stack must come through it: the
#      daemon keeps running within its bounds, and everything works again afterwards.
# Throughout:
# - a download that started before the floods (a 20 MB file read at a steady 1 MB/s by
#   tools/paced-download.py; curl --limit-rate reads a burst first and then sleeps) keeps going
#   during the paced flood (it grows, and still runs when the flood ends) and after both
#   arrives with the right sha256;
# - an echo connection opened before the floods still echoes a line after them;
# - after the floods, ping and new curls work;
# and the daemon handles the floods within bounds: SYN cookies were sent (tcp.syn_cookies_sent)
# and the SYN-ACKs reached the spoofed address, the half-open connections never exceed the SYN
# backlog (1024) by more than a few, the resident memory grows by at most RSS_LIMIT_KB.
#
# With SYNFLOOD_FAMILY=6 (test-ipv6-tcp-synflood.sh) everything goes over IPv6 instead: the
# stack at fd77::2, the spoofed source fd77::1:3, and, as hping3 has no IPv6, the second flood
# is tools/syn-flood.py sending as fast as it can (RATE 0) for HPING_SECONDS. The spoofed
# address is deprecated (preferred_lft 0) and shares a shorter prefix with fd77::2 than
# fd77::1 does, so that the kernel never picks it as the source of the test's own
# connections (RFC 6724 §5 rules 3 and 8), whose answers the nftables rule would drop.
source "$(dirname "$0")/lib.sh"
FAMILY=${SYNFLOOD_FAMILY:-4}
if ((FAMILY == 6)); then
  e2e_begin ipv6-tcp-synflood
  TARGET=fd77::2
  URL_HOST="[$TARGET]"
  SPOOFED=fd77::1:3
  SPOOFED_PREFIX=128
  NFT_MATCH="ip6 daddr"
  IPV6_ARGS=(--ip6 "$TARGET/64" --host-ip6 fd77::1/64)
else
  e2e_begin tcp-synflood
  command -v hping3 >/dev/null || fail "hping3 is not installed"
  TARGET=$STACK_IP
  URL_HOST=$TARGET
  SPOOFED=10.77.0.3
  SPOOFED_PREFIX=32
  NFT_MATCH="ip daddr"
  IPV6_ARGS=()
fi
FLOOD_RATE=5000
FLOOD_SECONDS=6
HPING_SECONDS=3
SIZE=20000000
RATE=1000000       # bytes/s: the download takes about 20 s and spans both floods
SYN_BACKLOG=1024   # TCPConfiguration.synBacklog
RSS_LIMIT_KB=32768

mkdir "$WORK/root"
head -c "$SIZE" /dev/urandom >"$WORK/root/long.bin"
expected=$(sha256sum <"$WORK/root/long.bin" | cut -d' ' -f1)
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" \
  "${IPV6_ARGS[@]}" --http-root "$WORK/root" --control "$WORK/control"
daemon_wait_ready
((FAMILY == 6)) && ipv6_wait_ready "$TARGET"

# The spoofed source: an address of the namespace whose packets are dropped on the way in.
if ((FAMILY == 6)); then
  ns ip addr add "$SPOOFED/$SPOOFED_PREFIX" dev tap0 nodad preferred_lft 0
else
  ns ip addr add "$SPOOFED/$SPOOFED_PREFIX" dev tap0
fi
ns nft -f - <<RULES || fail "nft: could not add the rule for the spoofed address"
table inet e2e_flood {
  chain in { type filter hook input priority 0; policy accept;
    $NFT_MATCH $SPOOFED counter drop; }
}
RULES
rss_before=$(daemon_rss_kb)

# --- Before the floods: a long download and an idle echo connection ---
ip netns exec "$NS" timeout 120 "$PYTHON" "$TOOLS/paced-download.py" "$TARGET" 80 /long.bin \
  "$RATE" "$WORK/long.bin" >"$WORK/download.out" 2>"$WORK/download.err" </dev/null &
download_pid=$!
HELPER_PIDS+=("$download_pid")
ip netns exec "$NS" bash -c '
  exec 3<>"/dev/tcp/$1/7" || exit 1
  echo "before the floods" >&3; read -r -t 10 line <&3; echo "$line"
  while [[ ! -e $2 ]]; do sleep 0.2; done
  echo "after the floods" >&3; read -r -t 10 line <&3; echo "$line"' \
  _ "$TARGET" "$WORK/floods-over" >"$WORK/idle.out" 2>"$WORK/idle.err" </dev/null &
idle_pid=$!
HELPER_PIDS+=("$idle_pid")
for _ in $(seq 100); do
  (($(stat -c %s "$WORK/long.bin" 2>/dev/null || echo 0) >= 500000)) && break
  sleep 0.1
done
expect_ge "the download is under way before the floods (bytes)" 500000 "$(stat -c %s "$WORK/long.bin" 2>/dev/null || echo 0)"
expect_eq "the echo connection echoes before the floods" "before the floods" "$(head -n 1 "$WORK/idle.out")"

# sample: updates the peaks of half-open connections and VmRSS; fails if the daemon died.
half_open_peak=0
rss_peak=$rss_before
sample() {
  local half_open rss
  daemon_alive || fail "netstackd died during the SYN flood"
  half_open=$(status_value 's["tcp"]["connections_by_state"].get("SYN-RECEIVED", 0)')
  ((half_open > half_open_peak)) && half_open_peak=$half_open
  rss=$(daemon_rss_kb)
  ((rss > rss_peak)) && rss_peak=$rss
  return 0
}

# --- 1. The paced flood, and new curls during it ---
ip netns exec "$NS" "$PYTHON" "$TOOLS/syn-flood.py" "$SPOOFED" "$TARGET" 80 "$FLOOD_RATE" \
  "$FLOOD_SECONDS" >"$WORK/flood.out" 2>&1 </dev/null &
flood_pid=$!
HELPER_PIDS+=("$flood_pid")
at_start=$(stat -c %s "$WORK/long.bin")
sleep 0.5
during_ok=0
during_failed=0
while process_running "$flood_pid"; do
  if ns curl -gsS -m 5 -o /dev/null "http://$URL_HOST/" 2>>"$WORK/during.err"; then
    during_ok=$((during_ok + 1))
  else
    during_failed=$((during_failed + 1))
  fi
  sample
done
flood_status=0
wait "$flood_pid" || flood_status=$?
helper_stop "$flood_pid"
expect_eq "syn-flood.py exit status" 0 "$flood_status"
at_end=$(stat -c %s "$WORK/long.bin")
process_running "$download_pid" && still_running=yes || still_running=no
cookies=$(status_value 's["counters"]["tcp"]["syn_cookies_sent"]')
log "paced flood: $(cat "$WORK/flood.out"); $during_ok curls succeeded during it, $during_failed failed"
log "the download: $at_start bytes when the flood began, $at_end when it ended"
expect_ge "SYNs the paced flood sent" $((FLOOD_RATE * FLOOD_SECONDS * 9 / 10)) \
  "$(awk '{ print $2 }' "$WORK/flood.out")"
expect_ge "curls during the paced flood" 3 "$during_ok"
expect_eq "curls during the paced flood that failed" 0 "$during_failed"
expect_ge "bytes the download received during the paced flood" 1000000 "$((at_end - at_start))"
expect_eq "the download still runs when the paced flood ends" yes "$still_running"
expect_ge "tcp.syn_cookies_sent after the paced flood (the SYN backlog filled)" \
  $((FLOOD_RATE * FLOOD_SECONDS / 2)) "$cookies"

# --- 2. hping3 --flood (over IPv6: syn-flood.py as fast as it can) ---
if ((FAMILY == 6)); then
  ip netns exec "$NS" "$PYTHON" "$TOOLS/syn-flood.py" "$SPOOFED" "$TARGET" 80 0 "$HPING_SECONDS" \
    >"$WORK/hping.out" 2>&1 </dev/null &
else
  ip netns exec "$NS" timeout -s INT "$HPING_SECONDS" hping3 -S --flood -p 80 -a "$SPOOFED" "$TARGET" \
    >"$WORK/hping.out" 2>&1 </dev/null &
fi
hping_pid=$!
HELPER_PIDS+=("$hping_pid")
while process_running "$hping_pid"; do
  sample
  sleep 0.3
done
wait "$hping_pid" || true
helper_stop "$hping_pid"
if ((FAMILY == 6)); then
  sent=$(awk '/^sent/ { print $2 }' "$WORK/hping.out")
else
  sent=$(awk '/packets transmitted/ { print $1 }' "$WORK/hping.out")
fi
log "unpaced flood: ${sent:-?} SYNs in $HPING_SECONDS s"
expect_ge "SYNs the unpaced flood sent" 10000 "${sent:-0}"
sample
touch "$WORK/floods-over"

# --- After the floods ---
after_failed=0
for _ in $(seq 5); do
  ns curl -gsS -m 5 -o /dev/null "http://$URL_HOST/" 2>>"$WORK/after.err" || after_failed=$((after_failed + 1))
done
expect_eq "curls after the floods that failed (of 5)" 0 "$after_failed"
ns ping -c 2 -i 0.2 -W 2 -q "$TARGET" >/dev/null || fail "ping after the floods"
ok "ping answers after the floods"
wait "$idle_pid" || true
helper_stop "$idle_pid"
expect_eq "the echo connection opened before the floods echoes after them" "after the floods" \
  "$(sed -n 2p "$WORK/idle.out")"
download_status=0
wait "$download_pid" || download_status=$?
helper_stop "$download_pid"
expect_eq "the download that spanned the floods: exit status" 0 "$download_status"
expect_eq "the download that spanned the floods: HTTP status and bytes" "200 $SIZE" "$(cat "$WORK/download.out")"
expect_eq "the download that spanned the floods: sha256" "$expected" \
  "$(sha256sum <"$WORK/long.bin" | cut -d' ' -f1)"

# --- How the daemon handled them ---
json=$(daemon_status_json)
cookies=$(status_value 's["counters"]["tcp"]["syn_cookies_sent"]' "$json")
overflows=$(status_value 's["counters"]["tcp"]["listen_overflows"]' "$json")
accepted=$(status_value 's["counters"]["tcp"]["syn_cookies_accepted"]' "$json")
answered=$(ns nft list chain inet e2e_flood in | awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }')
log "tcp.syn_cookies_sent $cookies, tcp.syn_cookies_accepted $accepted, tcp.listen_overflows $overflows; packets to $SPOOFED dropped by nft: $answered"
log "half-open connections at most $half_open_peak; VmRSS $rss_before kB before, at most $rss_peak kB during"
expect_ge "SYN-ACKs that reached the spoofed address (at least half the cookies)" "$((cookies / 2))" "$answered"
expect_ge "half-open connections at the peak (the backlog filled)" "$((SYN_BACKLOG / 2))" "$half_open_peak"
expect_le "half-open connections at the peak (the SYN backlog, 1024, plus curls)" "$((SYN_BACKLOG + 16))" "$half_open_peak"
expect_le "VmRSS growth during the floods (kB)" "$RSS_LIMIT_KB" "$((rss_peak - rss_before))"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
