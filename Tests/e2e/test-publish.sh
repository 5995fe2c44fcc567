#!/usr/bin/env bash
# --publish and `netstackd publish --control`: ports of netstackd's namespace relayed into a
# guest. Three namespaces, all the test's own: netstackd's (the test's), a "guest" one where
# netstackd makes its TAP (--netns --relay; the guest takes 10.0.2.15 by DHCP and routes
# through 10.0.2.2), and a "remote" one routed to netstackd's through a veth pair (10.99.0.2 -
# 10.99.0.1). Every client runs in netstackd's or the remote namespace; every server in the
# guest. Checked:
#   1. 100 MB from a guest HTTP server through tcp:8081 with curl from the remote namespace,
#      sha256 equal; the guest's server logged the remote client's own address (10.99.0.2), and
#      the port the client used;
#   2. 100 MB up through tcp:8080 into a guest server that answers the sha256 of what it read
#      after the client's half-close (so the client's FIN went through, and the answer came
#      back after it); the other way round through tcp:8084: the guest's server half-closes
#      first, the client sees the EOF and then sends 1 MB that the guest still reads whole;
#   3. a client on netstackd's loopback appears in the guest as the gateway 10.0.2.2;
#   4. a published port whose guest port is closed: the client's connection is reset at once
#      (counted as refused by the guest);
#   5. udp:7070 echoes through a guest UDP echo server, two clients each get their own answers;
#      the guest's server saw the remote client's own address (10.99.0.2), the one on
#      netstackd's loopback as the gateway 10.0.2.2;
#   6. status lists the published ports and an open flow with its client address; 266 held
#      connections to one port: 256 relayed, 10 reset and counted, all gone when the client goes;
#   7. at run time: `publish add` makes a port reachable, `list` and `list --json` show it,
#      `remove` makes it refused; a bad spec, a port published already and a port another
#      process holds give a clear error and exit status 1; the daemon survives all of it.
source "$(dirname "$0")/lib.sh"
e2e_begin publish
for tool in udhcpc curl sha256sum; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

e2e_namespace GUEST guest
e2e_namespace REMOTE remote
guest() { ip netns exec "$GUEST" "$@"; }
remote() { ip netns exec "$REMOTE" "$@"; }
CONTROL="$WORK/control"
MAC=02:00:00:0e:14:05

ip -n "$NS" link add veth0 type veth peer name veth1 netns "$REMOTE"
ip -n "$NS" addr add 10.99.0.1/24 dev veth0
ip -n "$REMOTE" addr add 10.99.0.2/24 dev veth1
ip -n "$NS" link set veth0 up
ip -n "$REMOTE" link set veth1 up

# The guest's DHCP client script: records the lease and configures tap0 with it.
cat >"$WORK/udhcpc.script" <<SCRIPT
#!/bin/sh
case "\$1" in
  bound|renew)
    ip addr flush dev "\$interface"
    ip addr add "\$ip/\$mask" dev "\$interface"
    ip route replace default via "\$router" dev "\$interface"
    ;;
esac
SCRIPT
chmod 755 "$WORK/udhcpc.script"

# Guest servers: an HTTP server for downloads (logs each client), a sink on 8000 that answers
# "PEER sha256" after the client's EOF, a UDP echo server on 7007.
mkdir -p "$WORK/www"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$WORK/www/big.bin"
big_sum=$(sha256sum <"$WORK/www/big.bin" | cut -d' ' -f1)
cat >"$WORK/sink.py" <<'PY'
import hashlib, socket, threading
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", 8000))
server.listen(64)
print("listening", flush=True)
def serve(connection, peer):
    digest = hashlib.sha256()
    while True:
        data = connection.recv(1 << 20)
        if not data:
            break
        digest.update(data)
    print("peer %s:%d" % peer, flush=True)
    connection.sendall(("%s:%d %s\n" % (peer[0], peer[1], digest.hexdigest())).encode())
    connection.close()
while True:
    connection, peer = server.accept()
    threading.Thread(target=serve, args=(connection, peer), daemon=True).start()
PY
cat >"$WORK/udp-echo.py" <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 7007))
print("listening", flush=True)
while True:
    data, sender = s.recvfrom(65535)
    print("from %s:%d" % sender, flush=True)
    s.sendto(data, sender)
PY
# The upload client: sends FILE, half-closes, prints its own port and the answer.
cat >"$WORK/upload.py" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
print("local %d" % s.getsockname()[1], flush=True)
with open(sys.argv[3], "rb") as f:
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            break
        s.sendall(chunk)
s.shutdown(socket.SHUT_WR)
answer = b""
while True:
    data = s.recv(4096)
    if not data:
        break
    answer += data
print("answer " + answer.decode().strip(), flush=True)
PY
cat >"$WORK/udp-client.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for attempt in range(5):
    s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
    try:
        print(s.recv(65535).decode())
        break
    except socket.timeout:
        print("timeout")
PY
# The guest half-closes first: a server on 8002 sends "first", shuts down its writing side,
# then reads until the client's EOF and logs the sha256 of what came after its own FIN.
cat >"$WORK/first.py" <<'PY'
import hashlib, socket
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", 8002))
server.listen(8)
print("listening", flush=True)
while True:
    connection, peer = server.accept()
    connection.sendall(b"first\n")
    connection.shutdown(socket.SHUT_WR)
    digest = hashlib.sha256()
    while True:
        data = connection.recv(1 << 20)
        if not data:
            break
        digest.update(data)
    print("after-fin %s" % digest.hexdigest(), flush=True)
    connection.close()
PY
# Its client: reads until the server's EOF, then sends FILE and half-closes.
cat >"$WORK/after-fin.py" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
got = b""
while True:
    data = s.recv(4096)
    if not data:
        break
    got += data
print("got " + got.decode().strip(), flush=True)
with open(sys.argv[3], "rb") as f:
    s.sendall(f.read())
s.shutdown(socket.SHUT_WR)
s.recv(1)
PY
# A client that connects and holds the connection until killed (for status).
cat >"$WORK/hold.py" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
print("local %d" % s.getsockname()[1], flush=True)
time.sleep(120)
PY

daemon_start --tap tap0 --netns "/run/netns/$GUEST" --relay --mac "$MAC" --dns-address none \
  --control "$CONTROL" --publish tcp:8080=10.0.2.15:8000 --publish tcp:8081=10.0.2.15:8001 \
  --publish tcp:127.0.0.1:8082=10.0.2.15:8000 --publish tcp:8083=10.0.2.15:9 \
  --publish tcp:8084=10.0.2.15:8002 --publish udp:7070=10.0.2.15:7007
daemon_wait_serving 30
expect_match "the startup line names the published ports" \
  "publishing tcp:0.0.0.0:8080=10.0.2.15:8000.*publishing udp:0.0.0.0:7070=10.0.2.15:7007" \
  "$(cat "$DAEMON_OUT")"
guest ip link set tap0 up
ip netns exec "$GUEST" udhcpc -f -q -i tap0 -s "$WORK/udhcpc.script" -t 10 -T 2 -n \
  >"$WORK/udhcpc.out" 2>&1 </dev/null || fail "udhcpc got no lease" "a lease" "$(cat "$WORK/udhcpc.out")"
expect_match "the guest has 10.0.2.15" "inet 10\.0\.2\.15/24" "$(guest ip -4 addr show tap0)"

ip netns exec "$GUEST" "$PYTHON" -u -m http.server 8001 --bind 10.0.2.15 --directory "$WORK/www" \
  >"$WORK/http.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
ip netns exec "$GUEST" "$PYTHON" -u "$WORK/sink.py" >"$WORK/sink.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
ip netns exec "$GUEST" "$PYTHON" -u "$WORK/udp-echo.py" >"$WORK/udp-echo.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
ip netns exec "$GUEST" "$PYTHON" -u "$WORK/first.py" >"$WORK/first.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/first.log" "^listening" 10 >/dev/null
wait_for_line "$WORK/sink.log" "^listening" 10 >/dev/null
wait_for_line "$WORK/udp-echo.log" "^listening" 10 >/dev/null
wait_for_line "$WORK/http.log" "Serving HTTP" 10 >/dev/null
ok "guest servers: HTTP on 8001, sink on 8000, UDP echo on 7007"

# --- 1. 100 MB down, from the remote namespace; the guest sees the remote client -------------
remote curl -sS --max-time 120 -o "$WORK/down.bin" http://10.99.0.1:8081/big.bin 2>"$WORK/curl.err" \
  || fail "curl through tcp:8081 failed" "exit 0" "$(cat "$WORK/curl.err")"
expect_eq "100 MB down through tcp:8081 from the remote namespace, sha256" "$big_sum" \
  "$(sha256sum <"$WORK/down.bin" | cut -d' ' -f1)"
rm -f "$WORK/down.bin"
line=$(wait_for_line "$WORK/http.log" "GET /big.bin" 10)
expect_match "the guest's HTTP server saw the remote client's own address" '^10\.99\.0\.2 - ' "$line"

# --- 2. 100 MB up with half-close, from the remote namespace ---------------------------------
out=$(remote "$PYTHON" -u "$WORK/upload.py" 10.99.0.1 8080 "$WORK/www/big.bin" 2>&1) \
  || fail "upload through tcp:8080 failed" "exit 0" "$out"
local_port=$(awk '/^local / { print $2 }' <<<"$out")
expect_match "100 MB up through tcp:8080, the sha256 the guest read after the half-close" \
  "^answer 10\.99\.0\.2:$local_port $big_sum\$" "$out"
ok "the guest's server saw the remote client's own address and port (10.99.0.2:$local_port)"

# --- 3. a loopback client appears as the gateway ------------------------------------------------
small="$WORK/small.bin"
head -c 100000 /dev/urandom >"$small"
small_sum=$(sha256sum <"$small" | cut -d' ' -f1)
out=$(ns "$PYTHON" -u "$WORK/upload.py" 127.0.0.1 8082 "$small" 2>&1) \
  || fail "upload through tcp:127.0.0.1:8082 failed" "exit 0" "$out"
expect_match "a client on netstackd's loopback is the gateway 10.0.2.2 in the guest" \
  "^answer 10\.0\.2\.2:[0-9]+ $small_sum\$" "$out"
out=$(ns "$PYTHON" -u "$WORK/upload.py" 10.99.0.1 8080 "$small" 2>&1) \
  || fail "upload from netstackd's namespace to 10.99.0.1:8080 failed" "exit 0" "$out"
expect_match "a client on netstackd's own veth address is shown with that address" \
  "^answer 10\.99\.0\.1:[0-9]+ $small_sum\$" "$out"
if ns curl -sS --max-time 5 -o /dev/null http://10.99.0.1:8082/ 2>/dev/null; then
  fail "tcp:127.0.0.1:8082 answered on another address"
fi
ok "tcp:127.0.0.1:8082 listens on the loopback only"

# The guest's half-close: its FIN reaches the client, whose data still flows in after it.
head -c 1000000 /dev/urandom >"$WORK/mega.bin"
out=$(remote "$PYTHON" -u "$WORK/after-fin.py" 10.99.0.1 8084 "$WORK/mega.bin" 2>&1) \
  || fail "the after-FIN client through tcp:8084 failed" "exit 0" "$out"
expect_eq "the guest's half-close reached the client (EOF after 'first')" "got first" "$out"
line=$(wait_for_line "$WORK/first.log" "^after-fin " 20)
expect_eq "1 MB from the client reached the guest after the guest's FIN, sha256" \
  "after-fin $(sha256sum <"$WORK/mega.bin" | cut -d' ' -f1)" "$line"

# --- 4. the guest refuses: the client is reset -------------------------------------------------
start=$SECONDS
status=0
ns curl -sS --max-time 20 -o /dev/null http://127.0.0.1:8083/ 2>"$WORK/curl.err" || status=$?
# The host kernel completes the client's handshake before netstackd accepts, so the reset comes
# after it: curl says "connection reset" or "empty reply" (56, 52), or 7 when the RST arrives
# before it looked at its connected socket.
expect_match "a closed guest port resets the published connection (curl 7, 52 or 56)" '^(7|52|56)$' "$status"
expect_le "and at once, not after a timeout (seconds)" 5 $((SECONDS - start))
expect_eq "status counts the guest's refusal on tcp:8083" 1 \
  "$(status_value '[p for p in s["published"]["ports"] if p["host"] == "0.0.0.0:8083"][0]["counters"]["connections_refused_by_guest"]')"

# --- 5. UDP ---------------------------------------------------------------------------------
out=$(ns "$PYTHON" -u "$WORK/udp-client.py" 127.0.0.1 7070 hello-one)
expect_eq "udp:7070 echoes through the guest (netstackd's namespace)" "hello-one" "$(tail -n 1 <<<"$out")"
out=$(remote "$PYTHON" -u "$WORK/udp-client.py" 10.99.0.1 7070 hello-two)
expect_eq "udp:7070 echoes through the guest (remote namespace)" "hello-two" "$(tail -n 1 <<<"$out")"
expect_match "the guest's UDP server saw the loopback client as the gateway 10.0.2.2" \
  "^from 10\.0\.2\.2:" "$(cat "$WORK/udp-echo.log")"
expect_match "the guest's UDP server saw the remote client's own address 10.99.0.2" \
  "^from 10\.99\.0\.2:" "$(cat "$WORK/udp-echo.log")"

# --- 6. status ---------------------------------------------------------------------------------
ip netns exec "$REMOTE" "$PYTHON" -u "$WORK/hold.py" 10.99.0.1 8080 >"$WORK/hold.out" 2>&1 </dev/null &
hold_pid=$!
HELPER_PIDS+=("$hold_pid")
hold_port=$(wait_for_line "$WORK/hold.out" "^local " 10 | awk '{ print $2 }')
deadline=$((SECONDS + 10))
while :; do
  json=$(daemon_status_json)
  flows=$(status_value '[f["client"] for p in s["published"]["ports"] for f in p["flows"]]' "$json")
  [[ "$flows" == *"10.99.0.2:$hold_port"* ]] && break
  ((SECONDS < deadline)) || fail "status --json lists the held flow" "10.99.0.2:$hold_port" "$flows"
  sleep 0.2
done
ok "status --json lists the open flow with its client 10.99.0.2:$hold_port"
expect_eq "status --json lists the six published ports" 6 "$(status_value 'len(s["published"]["ports"])' "$json")"
expect_ge "status --json counts the client addresses shown" 2 \
  "$(status_value '[p for p in s["published"]["ports"] if p["host"] == "0.0.0.0:8080"][0]["counters"]["client_address_shown"]' "$json")"
text=$(timeout 10 "$NETSTACKD" status --control "$CONTROL")
expect_match "status (text) lists the flow" "10\.99\.0\.2:$hold_port => 10\.99\.0\.2:$hold_port -> 10\.0\.2\.15:8000" "$text"
helper_stop "$hold_pid"

# The bound: 256 flows a port. 266 held connections: 256 relayed, the other 10 reset, counted.
# A connection past the bound is reset as soon as it is accepted, which can be before its
# connect() has returned (then ECONNRESET): the helper counts those and goes on.
cat >"$WORK/hold-many.py" <<'PY'
import socket, sys, time
held = []
reset = 0
for _ in range(int(sys.argv[3])):
    try:
        held.append(socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30))
    except ConnectionResetError:
        reset += 1
print("tried %d: %d held, %d reset while connecting" % (len(held) + reset, len(held), reset),
      flush=True)
time.sleep(120)
PY
port_8080='[p for p in s["published"]["ports"] if p["host"] == "0.0.0.0:8080"][0]'
deadline=$((SECONDS + 30))
until [[ "$(status_value "len($port_8080[\"flows\"])")" == 0 ]]; do
  ((SECONDS < deadline)) || fail "the held flow ends when its client goes"
  sleep 0.2
done
refused_before=$(status_value "$port_8080[\"counters\"][\"connections_refused_full\"]")
ip netns exec "$REMOTE" "$PYTHON" -u "$WORK/hold-many.py" 10.99.0.1 8080 266 >"$WORK/hold-many.out" 2>&1 </dev/null &
many_pid=$!
HELPER_PIDS+=("$many_pid")
wait_for_line "$WORK/hold-many.out" "^tried 266:" 30 >/dev/null
deadline=$((SECONDS + 30))
while :; do
  seen=$(status_value "(len($port_8080[\"flows\"]), $port_8080[\"counters\"][\"connections_refused_full\"] - $refused_before)")
  [[ "$seen" == "(256, 10)" ]] && break
  ((SECONDS < deadline)) || fail "266 connections to tcp:8080: 256 flows, 10 more refused" "(256, 10)" "$seen"
  sleep 0.5
done
ok "266 connections to tcp:8080: 256 flows relayed, 10 reset and counted (connections_refused_full)"
helper_stop "$many_pid"
deadline=$((SECONDS + 30))
until [[ "$(status_value "len($port_8080[\"flows\"])")" == 0 ]]; do
  ((SECONDS < deadline)) || fail "the held flows end when their clients go"
  sleep 0.5
done
ok "the flows end when their clients go"

# --- 7. at run time -----------------------------------------------------------------------------
publish() { timeout 15 "$NETSTACKD" publish --control "$CONTROL" "$@"; }
out=$(publish add tcp:9090=10.0.2.15:8001 2>&1) || fail "publish add tcp:9090" "exit 0" "$out"
expect_match "publish add answers" "^published tcp:0\.0\.0\.0:9090=10\.0\.2\.15:8001" "$out"
body=$(ns curl -sS --max-time 10 http://127.0.0.1:9090/ 2>&1) || fail "curl to the added port" "a page" "$body"
expect_match "the added port reaches the guest's HTTP server" "big\.bin" "$body"
out=$(publish list)
expect_match "publish list shows the added port" "tcp 0\.0\.0\.0:9090 -> 10\.0\.2\.15:8001" "$out"
json=$(publish list --json)
expect_eq "publish list --json shows seven ports, the added one among them" "7 True" \
  "$(status_value '"%d %s" % (len(s["published"]["ports"]), any(p["spec"] == "tcp:0.0.0.0:9090=10.0.2.15:8001" for p in s["published"]["ports"]))' "$json")"
out=$(publish remove tcp:9090=10.0.2.15:8001 2>&1) || fail "publish remove tcp:9090" "exit 0" "$out"
expect_match "publish remove answers" "^removed tcp:0\.0\.0\.0:9090" "$out"
status=0
ns curl -sS --max-time 10 -o /dev/null http://127.0.0.1:9090/ 2>/dev/null || status=$?
expect_eq "the removed port is refused (curl 7)" 7 "$status"
expect_no_match "publish list no longer shows it" "9090" "$(publish list)"

status=0
out=$(publish add tcp:99999=10.0.2.15:80 2>&1) || status=$?
expect_eq "a bad spec: exit status 1" 1 "$status"
expect_match "a bad spec: a clear error" "host port is not a number from 1 to 65535" "$out"
status=0
out=$(printf 'publish add tcp:70000=10.0.2.15:80\n' | ns timeout 5 "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read())
print(s.recv(4096).decode().strip())' "$CONTROL")
expect_match "a bad spec sent raw on the control socket: the daemon's error" "^error: .*host port is not a number" "$out"
status=0
out=$(publish add tcp:8080=10.0.2.15:8001 2>&1) || status=$?
expect_eq "a port published already: exit status 1" 1 "$status"
expect_match "a port published already: a clear error" "already published" "$out"
ns "$PYTHON" -c '
import socket, time
s = socket.socket(); s.bind(("0.0.0.0", 9191)); s.listen(1); print("held", flush=True); time.sleep(60)' \
  >"$WORK/holder.out" 2>&1 </dev/null &
holder=$!
HELPER_PIDS+=("$holder")
wait_for_line "$WORK/holder.out" "^held" 10 >/dev/null
status=0
out=$(publish add tcp:9191=10.0.2.15:8001 2>&1) || status=$?
expect_eq "a port another process holds: exit status 1" 1 "$status"
expect_match "a port another process holds: a clear error" "cannot listen on tcp 0\.0\.0\.0:9191: .*in use" "$out"
helper_stop "$holder"
status=0
out=$(publish remove tcp:9999=10.0.2.15:80 2>&1) || status=$?
expect_eq "removing a port not published: exit status 1" 1 "$status"

# The daemon still works, and stops cleanly.
out=$(ns "$PYTHON" -u "$WORK/upload.py" 127.0.0.1 8080 "$small" 2>&1) || fail "upload after the changes" "exit 0" "$out"
expect_match "tcp:8080 still works after the run-time changes" "$small_sum\$" "$out"
daemon_stop
expect_eq "netstackd exits 0" 0 "$DAEMON_STATUS"
expect_counters_printed
