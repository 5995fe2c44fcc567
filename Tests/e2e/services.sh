# The service checks that must pass identically on both backends; sourced by
# test-services-direct.sh (the Swift stack over a TAP) and test-services-socket.sh (the same
# services on the host kernel's sockets), which set BACKEND first. Not a test by itself.
#
# direct: netstackd --tap tap0 --ip 10.77.0.2/24 --host-ip 10.77.0.1/24 in the namespace.
# socket: netstackd --backend socket --ip 10.77.0.2 --ip6 fd77::2 --ip6 ::1, the namespace's
#         loopback given 10.77.0.2/32 and fd77::2/128.
# Then, against 10.77.0.2 from inside the namespace, the same checks:
#   http     GET / (the page, naming the stack), GET /bytes/N for several N (exact size and
#            SHA-256 of the pattern), keep-alive (two requests on one connection), HEAD (a raw
#            connection: Content-Length, no body), 404, 405, --http-root files (Content-Length
#            and SHA-256, a subdirectory, nothing outside the root), eight downloads at once;
#   echo     3 MB through TCP echo with nc -N (identical; the half-close lets the server finish
#            and close), UDP echo of datagrams from 0 to 65507 bytes, none back to a datagram
#            from port 19, the refusal and the echoes counted in the exit report (udp_echo.*);
#   discard  2 MB accepted, then a clean FIN after the client's half-close;
#   chargen  2 MB of exact RFC 864 lines, and the stream ends once the client half-closes.
# The socket backend over IPv6 too (issue 13), against fd77::2 and ::1: GET / and
# /bytes/100000 with curl -g, 1 MB through TCP echo with nc -6, the UDP echo datagrams (answered
# to the IPv6 peer the socket reported), discard and chargen.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ "${BACKEND:-}" == direct || "${BACKEND:-}" == socket ]] || {
  echo "  FAIL: BACKEND must be direct or socket" >&2
  exit 1
}
e2e_begin "services-$BACKEND"
CHECK=("$PYTHON" "$TOOLS/service-check.py")
IPV6_TARGETS=() # the addresses the IPv6 checks run against (the socket backend's)
URL="http://$STACK_IP"

# Files for --http-root: random data, a text file in a subdirectory.
mkdir -p "$WORK/root/sub"
head -c 1572864 /dev/urandom >"$WORK/root/data.bin"
printf 'hello from the http root, run %s\n' "$$" >"$WORK/root/sub/hello.txt"

case "$BACKEND" in
  direct)
    daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" \
      --http-root "$WORK/root"
    DESCRIPTION="netstack over TAP tap0"
    ;;
  socket)
    STACK_IP6=fd77::2
    ns ip addr add "$STACK_IP/32" dev lo
    ns ip -6 addr add "$STACK_IP6/128" dev lo
    daemon_start --backend socket --ip "$STACK_IP" --ip6 "$STACK_IP6" --ip6 ::1 \
      --http-root "$WORK/root"
    DESCRIPTION="the host's own sockets ($STACK_IP, $STACK_IP6, ::1)"
    IPV6_TARGETS=("$STACK_IP6" ::1)
    ;;
esac
daemon_wait_ready
wait_for_line "$DAEMON_OUT" "serving" 10 >/dev/null
# The socket backend binds its listeners as it starts: wait until port 80 answers.
for ((i = 0; i < 50; i++)); do
  ns curl -s -m 2 -o /dev/null "$URL/" && break
  sleep 0.2
done

# --- HTTP ------------------------------------------------------------------------------------
page=$(ns curl -sS -m 10 -D "$WORK/page.head" "$URL/") || fail "curl $URL/"
head_text=$(tr -d '\r' <"$WORK/page.head")
expect_match "GET /: 200" "^HTTP/1.1 200 OK$" "$head_text"
expect_match "GET /: Content-Length is the page's size" "^Content-Length: $(printf '%s\n' "$page" | wc -c)$" "$head_text"
expect_match "GET /: the heading" "^<body><h1>netstack</h1>$" "$page"
description_re=$(sed 's/[][\.*^$(){}?+|/]/\\&/g' <<<"$DESCRIPTION")
expect_match "GET /: names the stack serving it" "running on $description_re\.</p>$" "$page"

for n in 0 1 73 100000 3000000; do
  result=$(ns curl -sS -m 60 -o "$WORK/bytes" -w '%{http_code} %{size_download}' "$URL/bytes/$n") \
    || fail "curl /bytes/$n"
  expect_eq "GET /bytes/$n: status and size" "200 $n" "$result"
  expect_eq "GET /bytes/$n: content (SHA-256 of the pattern)" "$("${CHECK[@]}" pattern "$n")" \
    "$(sha256sum <"$WORK/bytes" | cut -d' ' -f1)"
done

# Keep-alive: two requests, one connection (curl reuses it: no new connect, same local port).
reuse=$(ns curl -sS -m 20 -o /dev/null -o /dev/null \
  -w '%{http_code} %{num_connects} %{local_port}\n' "$URL/bytes/5000" "$URL/") || fail "keep-alive"
first=$(sed -n 1p <<<"$reuse")
second=$(sed -n 2p <<<"$reuse")
expect_eq "keep-alive: first request (status, connects)" "200 1" "$(cut -d' ' -f1,2 <<<"$first")"
expect_eq "keep-alive: second request on the same connection (status, connects, port)" \
  "200 0 $(cut -d' ' -f3 <<<"$first")" "$second"

output=$(ns "${CHECK[@]}" head "$STACK_IP" 80 /bytes/12345 12345 2>&1) || fail "HEAD" "ok" "$output"
ok "$output"
output=$(ns "${CHECK[@]}" head "$STACK_IP" 80 /sub/hello.txt "$(wc -c <"$WORK/root/sub/hello.txt")" 2>&1) \
  || fail "HEAD of a file" "ok" "$output"
ok "$output"

result=$(ns curl -s -m 10 -w ' %{http_code}' "$URL/no-such-page") || true
expect_eq "GET /no-such-page: 404 and its body" "not found
 404" "$result"
result=$(ns curl -s -m 10 -o /dev/null -D - -X DELETE "$URL/" | tr -d '\r') || true
expect_match "DELETE /: 405" "^HTTP/1.1 405 Method Not Allowed$" "$result"
expect_match "DELETE /: Allow header" "^Allow: GET, HEAD$" "$result"

# --http-root.
result=$(ns curl -sS -m 30 -o "$WORK/data.got" -D "$WORK/data.head" -w '%{http_code}' "$URL/data.bin") \
  || fail "curl /data.bin"
expect_eq "GET /data.bin (--http-root): 200" 200 "$result"
expect_match "GET /data.bin: Content-Length" "^Content-Length: 1572864$" "$(tr -d '\r' <"$WORK/data.head")"
expect_eq "GET /data.bin: SHA-256" "$(sha256sum <"$WORK/root/data.bin" | cut -d' ' -f1)" \
  "$(sha256sum <"$WORK/data.got" | cut -d' ' -f1)"
expect_eq "GET /sub/hello.txt: the file" "$(cat "$WORK/root/sub/hello.txt")" \
  "$(ns curl -sS -m 10 "$URL/sub/hello.txt")"
for path in /sub /sub/ /../../etc/passwd /sub/../../etc/passwd /%2e%2e/%2e%2e/etc/passwd; do
  code=$(ns curl -s -m 10 --path-as-is -o /dev/null -w '%{http_code}' "$URL$path") || true
  expect_eq "GET $path: not served" 404 "$code"
done

# Eight downloads at once.
pids=()
for i in 1 2 3 4 5 6 7 8; do
  ip netns exec "$NS" curl -sS -m 60 -o "$WORK/parallel.$i" "$URL/bytes/1000000" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || fail "a parallel download failed"; done
expected=$("${CHECK[@]}" pattern 1000000)
for i in 1 2 3 4 5 6 7 8; do
  [[ "$(sha256sum <"$WORK/parallel.$i" | cut -d' ' -f1)" == "$expected" ]] \
    || fail "parallel download $i" "1000000 bytes of the pattern" "$(wc -c <"$WORK/parallel.$i") bytes"
done
ok "eight downloads of /bytes/1000000 at once, all exact"

# --- Echo ------------------------------------------------------------------------------------
head -c 3000000 /dev/urandom >"$WORK/echo.in"
started=$(date +%s.%N)
ns timeout 60 nc -N "$STACK_IP" 7 <"$WORK/echo.in" >"$WORK/echo.out" && status=0 || status=$?
took=$(awk -v start="$started" -v now="$(date +%s.%N)" 'BEGIN { printf "%.2f", now - start }')
expect_eq "TCP echo: nc -N finished (the server closed after our half-close)" 0 "$status"
expect_eq "TCP echo: 3000000 bytes back" 3000000 "$(wc -c <"$WORK/echo.out")"
cmp -s "$WORK/echo.in" "$WORK/echo.out" || fail "TCP echo: the bytes came back identical"
ok "TCP echo: the bytes came back identical ($took s)"
sizes="0 1 100 1472 1473 9000 65507"
output=$(ns "$PYTHON" "$TOOLS/udp-echo-check.py" "$STACK_IP" 7 $sizes 2>&1) && status=0 || status=$?
expect_eq "UDP echo: every datagram ($sizes bytes) came back identical" 0 "$status"
expect_eq "UDP echo: datagrams echoed" "$(wc -w <<<"$sizes")" "$(grep -c 'echoed identical' <<<"$output")"
# The same handler on both backends: nothing goes back to a system port (19, chargen's: an
# answer could start a loop); the refusal is counted in the exit report below.
answer=$(ns "$PYTHON" - "$STACK_IP" <<'PYTHON'
import socket, sys
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("", 19))
    sock.settimeout(2.0)
    sock.sendto(b"from a system port", (sys.argv[1], 7))
    try:
        print(f"{len(sock.recv(100))} bytes")
    except socket.timeout:
        print("nothing")
PYTHON
) || fail "UDP echo from port 19: the client failed" "nothing" "$answer"
expect_eq "UDP echo: a datagram from port 19 gets nothing back within 2 s" nothing "$answer"

# --- Discard and chargen ---------------------------------------------------------------------
output=$(ns "${CHECK[@]}" discard "$STACK_IP" 9 2000000 2>&1) || fail "discard" "ok" "$output"
ok "$output"
output=$(ns "${CHECK[@]}" chargen "$STACK_IP" 19 2000000 2>&1) || fail "chargen" "ok" "$output"
while read -r line; do ok "$line"; done <<<"$output"
output=$(ns "${CHECK[@]}" chargen "$STACK_IP" 19 10000 2>&1) || fail "chargen again" "ok" "$output"
ok "chargen serves the next client too"

# --- IPv6 (the socket backend) ---------------------------------------------------------------
for address in "${IPV6_TARGETS[@]}"; do
  page=$(ns curl -gsS -m 10 "http://[$address]/") || fail "curl -g http://[$address]/"
  expect_match "GET / over IPv6 at [$address]: names the stack serving it" \
    "running on $description_re\.</p>$" "$page"
  result=$(ns curl -gsS -m 60 -o "$WORK/bytes6" -w '%{http_code} %{size_download}' \
    "http://[$address]/bytes/100000") || fail "curl -g http://[$address]/bytes/100000"
  expect_eq "GET /bytes/100000 over IPv6 at [$address]: status and size" "200 100000" "$result"
  expect_eq "GET /bytes/100000 over IPv6 at [$address]: content" "$("${CHECK[@]}" pattern 100000)" \
    "$(sha256sum <"$WORK/bytes6" | cut -d' ' -f1)"
  head -c 1000000 "$WORK/echo.in" >"$WORK/echo6.in"
  ns timeout 60 nc -6 -N "$address" 7 <"$WORK/echo6.in" >"$WORK/echo6.out" && status=0 || status=$?
  expect_eq "TCP echo over IPv6 at [$address]: nc -6 -N finished" 0 "$status"
  cmp -s "$WORK/echo6.in" "$WORK/echo6.out" \
    || fail "TCP echo over IPv6 at [$address]: the bytes came back identical"
  ok "TCP echo over IPv6 at [$address]: 1000000 bytes came back identical"
  output=$(ns "$PYTHON" "$TOOLS/udp-echo-check.py" "$address" 7 $sizes 2>&1) \
    || fail "UDP echo over IPv6 at [$address]: every datagram came back identical" \
      "$sizes bytes echoed identical" "$output"
  ok "UDP echo over IPv6 at [$address]: every datagram ($sizes bytes) came back identical"
  output=$(ns "${CHECK[@]}" discard "$address" 9 200000 2>&1) || fail "discard over IPv6" "ok" "$output"
  ok "over IPv6 at [$address]: $output"
  output=$(ns "${CHECK[@]}" chargen "$address" 19 200000 2>&1) || fail "chargen over IPv6" "ok" "$output"
  while read -r line; do ok "over IPv6 at [$address]: $line"; done <<<"$output"
done

# --- Stop ------------------------------------------------------------------------------------
daemon_alive || fail "netstackd still runs after the checks"
daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_counters_printed
expect_eq "exit report: udp_echo.datagrams_echoed" "$(($(wc -w <<<"$sizes") * (1 + ${#IPV6_TARGETS[@]})))" \
  "$(counter udp_echo.datagrams_echoed)"
expect_eq "exit report: udp_echo.refused_service_port" 1 "$(counter udp_echo.refused_service_port)"
