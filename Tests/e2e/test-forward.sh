#!/usr/bin/env bash
# Port forwarding: netstackd on a TAP with --forward tcp:PORT=10.77.0.1:PORT, the targets being
# listeners in the namespace (tools/forward-peer.py, python3 -m http.server). Clients connect to
# the Swift stack's forwarded ports; the daemon relays through the host's sockets. Checked:
#   - 4 MB to the target and a different 3 MB back, byte-exact, in three orders: the target
#     answers after the client's FIN (the client's half-close passed on), the target sends and
#     half-closes first and then reads what the client sends after that FIN (the target's
#     half-close passed on, the other direction still open), and both directions at once;
#   - nc -N through the forward, and curl of a 2 MB file from http.server (SHA-256);
#   - a target that refuses: the client's connection is reset at once, not left hanging;
#   - IPv6 (issue 13): a forward to an IPv6 host address (tcp:8010=[fd77::1]:9010) reached
#     over IPv4 and over IPv6, the IPv4 forwards reached over IPv6 (a v6 client of the stack),
#     curl -g through the forward, the startup line naming [fd77::1]:9010, and malformed
#     bracketed forms refused with exit status 2 naming --forward;
#   - the daemon still serves afterwards and stops cleanly.
source "$(dirname "$0")/lib.sh"
e2e_begin forward

PEER=("$PYTHON" "$TOOLS/forward-peer.py")
UP=4000000
DOWN=3000000

STACK_IP6=fd77::2
HOST_IP6=fd77::1

# Malformed IPv6 targets: refused before anything is set up, exit status 2, naming the option.
for rule in "tcp:8010=$HOST_IP6:9010" "tcp:8010=[$HOST_IP6:9010" "tcp:8010=[$HOST_IP6]" \
  "tcp:8010=[$HOST_IP6]:0" "tcp:8010=[fe80::1]:9010"; do
  ns "$NETSTACKD" --tap tap0 --forward "$rule" >"$WORK/bad.out" 2>"$WORK/bad.err" && status=0 || status=$?
  expect_eq "--forward $rule: exit status" 2 "$status"
  expect_match "--forward $rule: the message names the option" "^netstackd: --forward: '$(sed 's/[][\.*^$]/\\&/g' <<<"$rule")'" "$(cat "$WORK/bad.err")"
done

# The targets, on the host side of the TAP (which the daemon creates with 10.77.0.1), and
# fd77::1 there for the IPv6 target (no duplicate address detection: the link is ours).
ns ip tuntap add dev tap0 mode tap vnet_hdr
ns ip addr add "$HOST_IP/$PREFIX" dev tap0
ns ip -6 addr add "$HOST_IP6/64" dev tap0 nodad
ns ip link set tap0 up
start_peer() { # PORT MODE
  ip netns exec "$NS" "${PEER[@]}" server "$HOST_IP" "$1" "$2" "$DOWN" >"$WORK/peer-$2.out" 2>&1 </dev/null &
  HELPER_PIDS+=($!)
  wait_for_line "$WORK/peer-$2.out" "^listening on" 10 >/dev/null
}
start_peer 9000 after
start_peer 9001 first
start_peer 9002 duplex
ip netns exec "$NS" "${PEER[@]}" server "$HOST_IP6" 9010 duplex "$DOWN" >"$WORK/peer-v6.out" 2>&1 </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/peer-v6.out" "^listening on" 10 >/dev/null
mkdir "$WORK/www"
head -c 2097152 /dev/urandom >"$WORK/www/file.bin"
ip netns exec "$NS" "$PYTHON" -m http.server --bind "$HOST_IP" --directory "$WORK/www" 9080 \
  >"$WORK/http.out" 2>&1 </dev/null &
HELPER_PIDS+=($!)
for ((i = 0; i < 50; i++)); do
  ns curl -s -m 1 -o /dev/null "http://$HOST_IP:9080/" && break
  sleep 0.2
done
ok "targets listening on $HOST_IP: 9000 (after), 9001 (first), 9002 (duplex), 9080 (http.server); on $HOST_IP6: 9010 (duplex)"

daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip none --ip6 "$STACK_IP6/64" \
  --forward "tcp:8000=$HOST_IP:9000" --forward "tcp:8001=$HOST_IP:9001" \
  --forward "tcp:8002=$HOST_IP:9002" --forward "tcp:8080=$HOST_IP:9080" \
  --forward "tcp:8099=$HOST_IP:9099" --forward "tcp:8010=[$HOST_IP6]:9010"
daemon_wait_ready
# The stack's IPv6 address is usable once its duplicate address detection is done.
daemon_wait_ready "$STACK_IP6" 30
expect_match "startup line lists the forwards" \
  "forwarding tcp:8000 to $HOST_IP:9000; forwarding tcp:8001 to $HOST_IP:9001; forwarding tcp:8002 to $HOST_IP:9002; forwarding tcp:8080 to $HOST_IP:9080; forwarding tcp:8099 to $HOST_IP:9099; forwarding tcp:8010 to \[$HOST_IP6\]:9010" \
  "$(cat "$DAEMON_OUT")"

up_sha=$("${PEER[@]}" stream to-server "$UP")
# check_target MODE N [FILE]: the target's report of its Nth connection: it got the client's
# bytes (FILE: the report of the target on $HOST_IP6).
check_target() {
  local line="" i file=${3:-$WORK/peer-$1.out}
  for ((i = 0; i < 100; i++)); do
    line=$(grep "^$1: " "$file" | sed -n "$2p" || true)
    [[ -n "$line" ]] && break
    sleep 0.1
  done
  expect_eq "$1: the target received the client's $UP bytes intact (sha256) and sent $DOWN" \
    "$1: received $UP bytes sha256 $up_sha, sent $DOWN bytes" "$line"
}
for entry in after:8000 first:8001 duplex:8002; do
  mode=${entry%:*}
  port=${entry#*:}
  output=$(ns timeout 90 "${PEER[@]}" client "$STACK_IP" "$port" "$mode" "$UP" "$DOWN" 2>&1) \
    || fail "$mode: the client through port $port" "identical data" "$output"
  ok "client through $STACK_IP:$port: $output"
  check_target "$mode" 1
done

# nc through the forward: what it sends arrives, the target's answer comes back, nc ends.
"$PYTHON" -c "import random,sys; sys.stdout.buffer.write(random.Random('to-server').randbytes($UP))" \
  >"$WORK/nc.in"
ns timeout 60 nc -N "$STACK_IP" 8000 <"$WORK/nc.in" >"$WORK/nc.out" && status=0 || status=$?
expect_eq "nc -N through port 8000: finished" 0 "$status"
expect_eq "nc -N: the target's answer (sha256)" "$("${PEER[@]}" stream to-client "$DOWN")" \
  "$(sha256sum <"$WORK/nc.out" | cut -d' ' -f1)"
check_target after 2

# curl through the forward to http.server.
result=$(ns curl -sS -m 30 -o "$WORK/file.got" -w '%{http_code} %{size_download}' \
  "http://$STACK_IP:8080/file.bin") || fail "curl through port 8080"
expect_eq "curl http://$STACK_IP:8080/file.bin: status and size" "200 2097152" "$result"
expect_eq "curl: the file intact (sha256)" "$(sha256sum <"$WORK/www/file.bin" | cut -d' ' -f1)" \
  "$(sha256sum <"$WORK/file.got" | cut -d' ' -f1)"

# IPv6: the target on [$HOST_IP6]:9010 reached over IPv4 and over IPv6; an IPv4 target reached
# over IPv6; curl -g through the forward.
output=$(ns timeout 90 "${PEER[@]}" client "$STACK_IP" 8010 duplex "$UP" "$DOWN" 2>&1) \
  || fail "duplex: an IPv4 client through port 8010 to [$HOST_IP6]:9010" "identical data" "$output"
ok "IPv4 client through $STACK_IP:8010 to [$HOST_IP6]:9010: $output"
check_target duplex 1 "$WORK/peer-v6.out"
output=$(ns timeout 90 "${PEER[@]}" client "$STACK_IP6" 8010 duplex "$UP" "$DOWN" 2>&1) \
  || fail "duplex: an IPv6 client through [$STACK_IP6]:8010 to [$HOST_IP6]:9010" "identical data" "$output"
ok "IPv6 client through [$STACK_IP6]:8010 to [$HOST_IP6]:9010: $output"
check_target duplex 2 "$WORK/peer-v6.out"
output=$(ns timeout 90 "${PEER[@]}" client "$STACK_IP6" 8000 after "$UP" "$DOWN" 2>&1) \
  || fail "after: an IPv6 client through [$STACK_IP6]:8000 to $HOST_IP:9000" "identical data" "$output"
ok "IPv6 client through [$STACK_IP6]:8000 to $HOST_IP:9000: $output"
check_target after 3
result=$(ns curl -gsS -m 30 -o "$WORK/file6.got" -w '%{http_code} %{size_download}' \
  "http://[$STACK_IP6]:8080/file.bin") || fail "curl -g through [$STACK_IP6]:8080"
expect_eq "curl http://[$STACK_IP6]:8080/file.bin: status and size" "200 2097152" "$result"
expect_eq "curl over IPv6: the file intact (sha256)" "$(sha256sum <"$WORK/www/file.bin" | cut -d' ' -f1)" \
  "$(sha256sum <"$WORK/file6.got" | cut -d' ' -f1)"

# A target that refuses: the client is reset, it does not hang.
output=$(ns "${PEER[@]}" refused "$STACK_IP" 8099 2>&1) || fail "refused target" "reset or close" "$output"
expect_match "a refused target resets the client's connection" "^connection reset \(" "$output"
started=$SECONDS
ns curl -sS -m 10 "http://$STACK_IP:8099/" >/dev/null 2>"$WORK/curl-refused.err" && status=0 || status=$?
# 56: reset after connect; 7: the reset came before curl saw the connection complete.
[[ "$status" == 56 || "$status" == 7 ]] \
  || fail "curl to the refused forward: reset (exit 56 or 7), not a timeout" "56 or 7" "$status: $(cat "$WORK/curl-refused.err")"
ok "curl to the refused forward: $(cat "$WORK/curl-refused.err") (exit $status)"
expect_le "curl to the refused forward: seconds taken" 2 $((SECONDS - started))

# Several forwarded connections at once.
pids=()
for i in 1 2 3 4; do
  ip netns exec "$NS" curl -sS -m 60 -o "$WORK/parallel.$i" "http://$STACK_IP:8080/file.bin" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || fail "a parallel curl through the forward failed"; done
for i in 1 2 3 4; do
  cmp -s "$WORK/www/file.bin" "$WORK/parallel.$i" || fail "parallel download $i through the forward"
done
ok "four downloads through the forward at once, all intact"

ns ping -c 1 -W 2 -q "$STACK_IP" >/dev/null || fail "ping after the forwards"
ok "the stack still answers ping"
daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_ge "tcp.passive_opens" 14 "$(counter tcp.passive_opens)"
expect_ge "tcp.resets_sent (the refused target)" 2 "$(counter tcp.resets_sent)"
