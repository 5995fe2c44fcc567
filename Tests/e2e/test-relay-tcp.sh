#!/usr/bin/env bash
# --relay, TCP: a guest's connections to other hosts relayed through host sockets. Three
# namespaces, all the test's own, as in test-relay-basics: netstackd's (with a veth to the
# remote one, 10.99.0.1 - 10.99.0.2, 10.99.0.3 to deny, and an "unreachable" route for
# 10.98.0.0/24), the guest's (netstackd's TAP, configured by DHCP; its resolv.conf, through
# /etc/netns/GUEST, names the stack's DNS 10.0.2.3) and the remote one with dnsmasq (the name
# web.relay.test) and the servers. Nothing reaches the machine's network or resolver. Checked:
#   1. curl from the guest fetches a page from an HTTP server in the remote namespace by name
#      (resolved through the stack's DNS); the server saw netstackd's namespace's address;
#   2. bulk guest -> remote and remote -> guest (RELAY_TCP_BYTES, default 1 GiB) with sha256
#      checked on both ends;
#   3. half-close: the guest sends, shuts down its write side and still receives the server's
#      answer (the sha256 of what the server read until EOF), and the flow is freed;
#   4. a closed remote port: the guest's curl fails at once with "Connection refused" (RST);
#   5. an unreachable address (no route in netstackd's namespace): curl fails at once with "No
#      route to host" (ICMP host unreachable); a denied one (--deny) too (ICMP prohibited);
#   5b. a reset from the remote server reaches the guest as a reset and the guest's reaches the
#      server; a guest that does not read holds the relay to its window and the stack's send
#      buffer (the host socket is no longer read), and gets every byte once it reads;
#   6. RELAY_TCP_CONNECTIONS (default 10,000) concurrent relayed connections each echo a line;
#      status (JSON and text) lists them while they are open, and they are freed after; the
#      daemon stays within its memory budget (--memory-limit 256M: the budget's peak, and
#      resident memory within the budget plus a fixed overhead);
#   7. the counters (opened, refused, unreachable, closed) in status and the exit report.
source "$(dirname "$0")/lib.sh"
e2e_begin relay-tcp
for tool in dnsmasq udhcpc curl nc sha256sum; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
BYTES=${RELAY_TCP_BYTES:-$((1 << 30))}
CONNECTIONS=${RELAY_TCP_CONNECTIONS:-10000}
LIMIT_MIB=256
OVERHEAD_MIB=64 # the daemon's code, runtime, thread stacks, the allocator's slack, the flows' tasks

e2e_namespace GUEST guest
e2e_namespace REMOTE remote
# ip netns exec bind-mounts /etc/netns/NAME/resolv.conf over the guest's /etc/resolv.conf.
mkdir -p "/etc/netns/$GUEST"
printf 'nameserver 10.0.2.3\noptions timeout:2 attempts:2\n' >"/etc/netns/$GUEST/resolv.conf"
guest() { ip netns exec "$GUEST" "$@"; }
remote() { ip netns exec "$REMOTE" "$@"; }
CONTROL="$WORK/control" # the path daemon_status_json reads
MAC=02:00:00:0e:14:03

ip -n "$NS" link add veth0 type veth peer name veth1 netns "$REMOTE"
ip -n "$NS" addr add 10.99.0.1/24 dev veth0
ip -n "$REMOTE" addr add 10.99.0.2/24 dev veth1
ip -n "$REMOTE" addr add 10.99.0.3/24 dev veth1
ip -n "$NS" link set veth0 up
ip -n "$REMOTE" link set veth1 up
ip -n "$NS" route add unreachable 10.98.0.0/24

printf '10.99.0.2 web.relay.test\n' >"$WORK/hosts"
chmod 644 "$WORK/hosts"
ip netns exec "$REMOTE" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --addn-hosts="$WORK/hosts" \
  --local=/relay.test/ --listen-address=10.99.0.2 --bind-interfaces \
  --pid-file="$WORK/dnsmasq.pid" --log-queries --log-facility="$WORK/dnsmasq.log" </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/dnsmasq.log" "started, version" 10 >/dev/null
printf 'nameserver 10.99.0.2\noptions timeout:2 attempts:2\n' >"$WORK/resolv.conf"

# The remote servers (10.99.0.2): HTTP on 8080 (logs each client), the half-close server on
# 9100 (reads to EOF, answers the sha256 of what it read), and a line echo server on 9200
# that holds many connections (asyncio).
mkdir -p "$WORK/www"
echo "relayed page" >"$WORK/www/page.txt"
cat >"$WORK/servers.py" <<'PY'
import asyncio, hashlib, http.server, resource, socket, socketserver, struct, sys, threading
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        print("http from %s" % self.client_address[0], flush=True)
class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
handler = lambda *a, **k: Quiet(*a, directory=sys.argv[1], **k)
threading.Thread(target=Server(("10.99.0.2", 8080), handler).serve_forever, daemon=True).start()
async def digest(reader, writer):
    h = hashlib.sha256()
    while True:
        data = await reader.read(65536)
        if not data:
            break
        h.update(data)
    writer.write((h.hexdigest() + "\n").encode())
    await writer.drain()
    writer.close()
async def echo(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line)
        await writer.drain()
    writer.close()
async def reset_at_once(reader, writer):
    await reader.readline()
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
async def expect_reset(reader, writer):
    try:
        while await reader.read(65536):
            pass
        print("9301 eof", flush=True)
    except ConnectionResetError:
        print("9301 reset", flush=True)
    writer.close()
async def flood(reader, writer):
    chunk = bytes(range(256)) * 256
    for _ in range(1024):  # 64 MiB
        writer.write(chunk)
        await writer.drain()
    writer.close()
async def main():
    servers = [
        await asyncio.start_server(digest, "10.99.0.2", 9100),
        await asyncio.start_server(echo, "10.99.0.2", 9200, backlog=4096),
        await asyncio.start_server(reset_at_once, "10.99.0.2", 9300),
        await asyncio.start_server(expect_reset, "10.99.0.2", 9301),
        await asyncio.start_server(flood, "10.99.0.2", 9400),
    ]
    print("listening", flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))
asyncio.run(main())
PY
ip netns exec "$REMOTE" "$PYTHON" -u "$WORK/servers.py" "$WORK/www" >"$WORK/servers.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/servers.log" "^listening" 20 >/dev/null
ok "dnsmasq, HTTP, half-close and echo servers in the remote namespace"

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

ulimit -Sn "$(ulimit -Hn)"
daemon_start --tap tap0 --netns "/run/netns/$GUEST" --relay --mac "$MAC" \
  --resolv-conf "$WORK/resolv.conf" --deny 10.99.0.3/32 --control "$CONTROL" \
  --relay-flows $((CONNECTIONS + 64)) --memory-limit "${LIMIT_MIB}M"
daemon_wait_serving 30
guest ip link set tap0 up
guest udhcpc -f -q -i tap0 -s "$WORK/udhcpc.script" -t 10 -T 2 -n >"$WORK/udhcpc.out" 2>&1 </dev/null \
  || fail "udhcpc got no lease" "a lease" "$(cat "$WORK/udhcpc.out")"
expect_match "the guest's address" "inet 10\.0\.2\.15/24" "$(guest ip -4 addr show dev tap0)"

# --- 1. curl by name --------------------------------------------------------------------------
out=$(guest curl -sS --max-time 20 http://web.relay.test:8080/page.txt 2>&1 || true)
expect_eq "curl http://web.relay.test:8080/page.txt from the guest" "relayed page" "$out"
expect_match "the name was resolved through the stack's DNS" "query\[A\] web\.relay\.test from 10\.99\.0\.1" \
  "$(cat "$WORK/dnsmasq.log")"
expect_match "the HTTP server saw netstackd's namespace's address" "^http from 10\.99\.0\.1$" \
  "$(cat "$WORK/servers.log")"

# --- 2. Bulk both ways ------------------------------------------------------------------------
head -c "$BYTES" /dev/urandom >"$WORK/bulk"
sum=$(sha256sum <"$WORK/bulk" | cut -d' ' -f1)
ip netns exec "$REMOTE" sh -c "nc -l 10.99.0.2 9001 | sha256sum | cut -d' ' -f1 >'$WORK/up.sum'" </dev/null &
up_pid=$!
HELPER_PIDS+=($up_pid)
wait_for_port() { # wait_for_port PORT: until the remote namespace listens on PORT
  local deadline=$((SECONDS + 20))
  until remote ss -Hltn "sport = :$1" | grep -q LISTEN; do
    ((SECONDS < deadline)) || fail "the remote server did not listen on port $1"
    sleep 0.1
  done
}
wait_for_port 9001
start=$(date +%s.%N)
guest timeout 300 nc -N 10.99.0.2 9001 <"$WORK/bulk" || fail "the guest's upload failed"
wait "$up_pid"
up_time=$(awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }')
expect_eq "guest -> remote: $BYTES bytes, sha256 on the remote side (${up_time} s)" "$sum" "$(cat "$WORK/up.sum")"

ip netns exec "$REMOTE" sh -c "nc -N -l 10.99.0.2 9002 <'$WORK/bulk'" </dev/null &
down_pid=$!
HELPER_PIDS+=($down_pid)
wait_for_port 9002
start=$(date +%s.%N)
down=$(guest timeout 300 nc 10.99.0.2 9002 </dev/null | sha256sum | cut -d' ' -f1)
down_time=$(awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }')
expect_eq "remote -> guest: $BYTES bytes, sha256 in the guest (${down_time} s)" "$sum" "$down"
wait "$down_pid" 2>/dev/null || true
rm -f "$WORK/bulk"

# --- 3. Half-close ----------------------------------------------------------------------------
cat >"$WORK/half-close.py" <<'PY'
import hashlib, os, socket
data = os.urandom(300000)
s = socket.create_connection(("10.99.0.2", 9100), timeout=20)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
answer = b""
while True:
    piece = s.recv(4096)
    if not piece:
        break
    answer += piece
print("sent %s got %s" % (hashlib.sha256(data).hexdigest(), answer.decode().strip()))
PY
out=$(guest "$PYTHON" "$WORK/half-close.py" 2>&1 || true)
expect_match "after shutting down its side the guest still gets the answer to what it sent" \
  "^sent ([0-9a-f]{64}) got \1$" "$out"

# --- 4. A refused port ------------------------------------------------------------------------
# connect.py HOST PORT: what connect() says, as the errno's name ("connected" if it connects).
cat >"$WORK/connect.py" <<'PY'
import errno, socket, sys
s = socket.socket()
s.settimeout(20)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("connected")
except socket.timeout:
    print("timeout")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e)))
PY
# expect_fast_failure WHAT URL ERRNO: curl fails with exit 7 within 5 s, and connect() with ERRNO.
expect_fast_failure() {
  local what=$1 host=$2 port=$3 expected=$4 start code=0 out
  start=$SECONDS
  out=$(guest curl -sS --max-time 20 "http://$host:$port/" 2>&1) || code=$?
  expect_eq "curl to $what: exit 7 (could not connect)" 7 "$code"
  expect_le "  ... within 5 s, not a timeout ($out)" 5 $((SECONDS - start))
  expect_eq "  ... connect() says $expected" "$expected" "$(guest "$PYTHON" "$WORK/connect.py" "$host" "$port")"
}
expect_fast_failure "a closed remote port (RST)" 10.99.0.2 8999 ECONNREFUSED

# --- 5. Unreachable and denied ----------------------------------------------------------------
expect_fast_failure "an unreachable address (ICMP host unreachable)" 10.98.0.5 8080 EHOSTUNREACH
expect_fast_failure "a denied address, --deny 10.99.0.3/32 (ICMP prohibited)" 10.99.0.3 8080 EHOSTUNREACH

# --- 5b. Resets both ways, and back-pressure -----------------------------------------------------
cat >"$WORK/resets.py" <<'PY'
import socket, struct, time
s = socket.create_connection(("10.99.0.2", 9300), timeout=20)
s.sendall(b"reset me\n")
try:
    print("host reset: got %r" % s.recv(100))
except ConnectionResetError:
    print("host reset: ECONNRESET")
s = socket.create_connection(("10.99.0.2", 9301), timeout=20)
s.sendall(b"some bytes")
time.sleep(0.2)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
print("guest reset sent")
PY
out=$(guest "$PYTHON" "$WORK/resets.py" 2>&1 || true)
expect_match "the remote server's reset reaches the guest as a reset" "^host reset: ECONNRESET$" "$out"
wait_for_line "$WORK/servers.log" "^9301 " 20 >/dev/null
expect_eq "the guest's reset reaches the remote server as a reset" "9301 reset" "$(grep '^9301 ' "$WORK/servers.log")"

# A guest that does not read while the server sends 64 MiB: the relay stops reading the host
# socket once the guest's window and the stack's send buffer are full (about 10 MiB), then
# everything arrives once the guest reads.
cat >"$WORK/slow-reader.py" <<'PY'
import socket, sys
s = socket.create_connection(("10.99.0.2", 9400), timeout=60)
print("connected", flush=True)
sys.stdin.readline()
total = 0
while True:
    piece = s.recv(1 << 20)
    if not piece:
        break
    total += len(piece)
print("read %d" % total, flush=True)
PY
mkfifo "$WORK/slow.in"
ip netns exec "$GUEST" "$PYTHON" -u "$WORK/slow-reader.py" <"$WORK/slow.in" >"$WORK/slow.out" 2>&1 &
slow_pid=$!
HELPER_PIDS+=($slow_pid)
exec 8>"$WORK/slow.in"
wait_for_line "$WORK/slow.out" "^connected$" 20 >/dev/null
relayed_in() { status_value 'sum(f["bytes_host_to_guest"] for f in s["relay"]["tcp"]["flows"] if f["destination"] == "10.99.0.2:9400")'; }
previous=-1
deadline=$((SECONDS + 60))
while :; do
  now_in=$(relayed_in)
  ((now_in > 0 && now_in == previous)) && break
  ((SECONDS < deadline)) || fail "the relayed bytes to a guest that does not read stop growing within 60 s" "steady" "$now_in"
  previous=$now_in
  sleep 1
done
log "bytes relayed to a guest that does not read: $now_in"
expect_le "  ... bounded by the guest's window and the stack's send buffer (12 MiB)" $((12 << 20)) "$now_in"
echo go >&8
exec 8>&-
wait_for_line "$WORK/slow.out" "^read " 60 >/dev/null
expect_eq "once the guest reads, all 64 MiB arrive" "read $((64 << 20))" "$(grep '^read ' "$WORK/slow.out")"

# --- 6. Many connections at once --------------------------------------------------------------
cat >"$WORK/many.py" <<'PY'
import asyncio, resource, sys
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
count = int(sys.argv[1])
async def main():
    gate = asyncio.Semaphore(256)
    async def open_one(i):
        async with gate:
            for attempt in range(5):
                try:
                    return await asyncio.wait_for(asyncio.open_connection("10.99.0.2", 9200), 30)
                except (OSError, asyncio.TimeoutError):
                    await asyncio.sleep(0.5)
            raise RuntimeError("connection %d failed" % i)
    pairs = await asyncio.gather(*(open_one(i) for i in range(count)))
    print("open %d" % len(pairs), flush=True)
    sys.stdin.readline()  # the test has looked at the status
    async def exchange(i, reader, writer):
        writer.write(b"line %d\n" % i)
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), 60) == b"line %d\n" % i
    results = await asyncio.gather(*(exchange(i, r, w) for i, (r, w) in enumerate(pairs)))
    for _, writer in pairs:
        writer.close()
    print("echoed %d" % sum(results), flush=True)
asyncio.run(main())
PY
mkfifo "$WORK/many.in"
ip netns exec "$GUEST" "$PYTHON" -u "$WORK/many.py" "$CONNECTIONS" <"$WORK/many.in" >"$WORK/many.out" 2>&1 &
many_pid=$!
HELPER_PIDS+=($many_pid)
exec 7>"$WORK/many.in"
wait_for_line "$WORK/many.out" "^open $CONNECTIONS$" 120 >/dev/null \
  || fail "$CONNECTIONS connections opened" "open $CONNECTIONS" "$(cat "$WORK/many.out")"
json=$(daemon_status_json)
expect_eq "status --json lists the $CONNECTIONS relayed connections, open" "$CONNECTIONS" \
  "$(status_value 'sum(1 for f in s["relay"]["tcp"]["flows"] if f["destination"] == "10.99.0.2:9200" and f["state"] == "open")' "$json")"
expect_eq "  ... relay.tcp.active" "$CONNECTIONS" "$(status_value 's["relay"]["tcp"]["active"]' "$json")"
text=$(timeout 20 "$NETSTACKD" status --control "$CONTROL")
expect_match "text status: the relay tcp line" "^relay tcp: $CONNECTIONS of $((CONNECTIONS + 64)) flows" "$text"
expect_match "text status: a flow" "^  10\.0\.2\.15:[0-9]+ -> 10\.99\.0\.2:9200  host :[0-9]+ -> 10\.99\.0\.2:9200  open  out 0  in 0  age [0-9]+ s$" "$text"
echo go >&7
exec 7>&-
wait_for_line "$WORK/many.out" "^echoed " 120 >/dev/null || fail "the echo exchange finished" "echoed" "$(cat "$WORK/many.out")"
expect_eq "every connection echoed its line" "echoed $CONNECTIONS" "$(grep '^echoed' "$WORK/many.out")"
deadline=$((SECONDS + 60))
until [[ "$(status_value 's["relay"]["tcp"]["active"]')" == 0 ]]; do
  ((SECONDS < deadline)) || fail "the relayed flows are freed within 60 s" 0 "$(status_value 's["relay"]["tcp"]["active"]')"
  sleep 0.5
done
ok "every relayed flow freed after the guest and the server closed"
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DAEMON_PID/status")
expect_le "peak resident memory (kB) within the budget plus the fixed overhead" \
  $(((LIMIT_MIB + OVERHEAD_MIB) * 1024)) "$hwm"

# --- 7. Counters ------------------------------------------------------------------------------
json=$(daemon_status_json)
expect_ge "relay_tcp.opened" $((CONNECTIONS + 7)) "$(status_value 's["counters"]["relay_tcp"]["opened"]' "$json")"
expect_eq "relay_tcp.refused" 2 "$(status_value 's["counters"]["relay_tcp"]["refused"]' "$json")"
expect_eq "relay_tcp.unreachable" 2 "$(status_value 's["counters"]["relay_tcp"]["unreachable"]' "$json")"
expect_ge "relay.refused_denied" 2 "$(status_value 's["counters"]["relay"]["refused_denied"]' "$json")"
expect_ge "relay_tcp.reset_by_host" 1 "$(status_value 's["counters"]["relay_tcp"]["reset_by_host"]' "$json")"
expect_ge "relay_tcp.reset_by_guest" 1 "$(status_value 's["counters"]["relay_tcp"]["reset_by_guest"]' "$json")"
expect_eq "relay.dropped_unsupported_protocol" 0 "$(status_value 's["counters"]["relay"].get("dropped_unsupported_protocol", 0)' "$json")"
daemon_stop TERM
expect_eq "netstackd exit status" 0 "$DAEMON_STATUS"
expect_counters_printed
expect_ge "relay_tcp.closed (exit report)" $((CONNECTIONS + 4)) "$(counter relay_tcp.closed)"
expect_le "the budget's peak (bytes) within the limit" $((LIMIT_MIB << 20)) "$(counter memory.peak)"
