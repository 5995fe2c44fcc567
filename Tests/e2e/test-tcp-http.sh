#!/usr/bin/env bash
# HTTP over the Swift stack's TCP with curl, the kernel as the client: `curl http://ADDR/` gets
# the page (status 200, text/html, Content-Length equal to the body, the page's text); HEAD
# gets the same head without a body; /bytes/N streams exactly N bytes of the known pattern;
# a missing path is 404; two requests in one curl share one kept-alive connection; a file from
# --http-root arrives with its sha256. Every connection is closed at the end.
source "$(dirname "$0")/lib.sh"
e2e_begin tcp-http

mkdir "$WORK/root"
head -c 3000000 /dev/urandom >"$WORK/root/file.bin"
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" \
  --http-root "$WORK/root" --control "$WORK/control"
daemon_wait_ready

# --- The page ---
code=$(ns curl -sS -m 10 -D "$WORK/page.head" -o "$WORK/page.html" -w '%{http_code}' \
  "http://$STACK_IP/") || fail "curl http://$STACK_IP/ failed" "exit 0" "$code"
expect_eq "GET /: HTTP status" 200 "$code"
page=$(cat "$WORK/page.html")
head=$(tr -d '\r' <"$WORK/page.head")
expect_match "GET /: the page's title" '<title>netstack</title>' "$page"
expect_match "GET /: the page names the stack" 'served by netstack, a TCP/IP stack written in Swift, running on netstack over TAP tap0' "$page"
expect_match "GET /: Content-Type" '^Content-Type: text/html' "$head"
expect_match "GET /: Server" '^Server: netstack$' "$head"
length=$(awk -F': ' 'tolower($1) == "content-length" { print $2 }' <<<"$head")
expect_eq "GET /: Content-Length = bytes of the body" "$(stat -c %s "$WORK/page.html")" "$length"

# --- HEAD: the same head, no body ---
ns curl -sS -m 10 -I -o "$WORK/head.head" "http://$STACK_IP/" || fail "curl -I failed"
expect_match "HEAD /: 200" '^HTTP/1.1 200 OK' "$(tr -d '\r' <"$WORK/head.head")"
expect_match "HEAD /: the same Content-Length" "^Content-Length: $length$" "$(tr -d '\r' <"$WORK/head.head")"

# --- /bytes/N: exactly N bytes of the pattern ---
n=1048577
ns curl -sS -m 20 -o "$WORK/bytes.bin" "http://$STACK_IP/bytes/$n" || fail "curl /bytes/$n failed"
expect_eq "/bytes/$n: size" "$n" "$(stat -c %s "$WORK/bytes.bin")"
expected=$("$PYTHON" "$TOOLS/service-check.py" pattern "$n")
expect_eq "/bytes/$n: sha256 of the pattern" "$expected" "$(sha256sum <"$WORK/bytes.bin" | cut -d' ' -f1)"

# --- A missing path ---
expect_eq "GET /no-such-file: 404" 404 \
  "$(ns curl -sS -m 10 -o /dev/null -w '%{http_code}' "http://$STACK_IP/no-such-file")"

# --- Keep-alive: two requests, one connection ---
connects=$(ns curl -sS -m 10 -o /dev/null -o /dev/null -w '%{num_connects}\n' \
  "http://$STACK_IP/" "http://$STACK_IP/bytes/10" | xargs)
expect_eq "two requests in one curl: new connections made per request" "1 0" "$connects"

# --- A file from --http-root ---
ns curl -sS -m 30 -o "$WORK/file.bin" "http://$STACK_IP/file.bin" || fail "curl /file.bin failed"
expect_eq "/file.bin (--http-root): sha256" "$(sha256sum <"$WORK/root/file.bin" | cut -d' ' -f1)" \
  "$(sha256sum <"$WORK/file.bin" | cut -d' ' -f1)"

expect_eq "connections left open (all closed, TIME-WAIT aside)" 0 "$(open_connections)"
daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_eq "tcp.passive_opens (one per curl, the keep-alive pair sharing one)" 6 "$(counter tcp.passive_opens)"
expect_eq "tcp.connections_reset" 0 "$(counter tcp.connections_reset)"
