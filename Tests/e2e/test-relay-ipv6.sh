#!/usr/bin/env bash
# --relay over IPv6: a guest's TCP connections, UDP flows and pings to other hosts' IPv6
# addresses relayed through AF_INET6 host sockets. Three namespaces, all the test's own, as in
# test-relay-tcp: netstackd's (a veth to the remote one, fd01::1/64 - fd01::2/64, fd01::3 to
# deny, and an "unreachable" route for fd02::/64), the guest's (netstackd's TAP, with the static
# address fd00::100/64 and its default route via the stack's fd00::2, --ip6 fd00::2/64) and the
# remote one with the servers. Ping sockets are allowed in netstackd's namespace only. Nothing
# reaches the machine's network. Checked:
#   1. curl from the guest fetches http://[fd01::2]:8080/ from the remote namespace; the server
#      saw netstackd's namespace's address fd01::1;
#   2. bulk guest -> remote and remote -> guest (RELAY_IPV6_BYTES, default 128 MiB) with sha256
#      checked on both ends;
#   3. half-close: the guest sends, shuts down its write side and still gets the answer; while
#      a connection is open, status lists it as [fd00::100]:PORT -> [fd01::2]:9100;
#   4. a closed remote port: curl fails at once (RST, ECONNREFUSED); an unreachable address
#      (fd02::5, an unreachable route in netstackd's namespace): curl fails at once (ICMPv6
#      address unreachable, EHOSTUNREACH); a denied one (--deny fd01::3/128): curl fails at
#      once (ICMPv6 administratively prohibited, EACCES), counted;
#   5. UDP: a datagram to an echo server in the remote namespace comes back from the server's
#      address and port (the server saw fd01::1); one to a closed port comes back as ICMPv6
#      port unreachable ("refused"); status lists the flows as [fd01::2]:7007; a 4000-byte
#      datagram, fragmented by the guest, is reassembled, relayed and comes back whole;
#   6. ping -6 through the relay: answered from fd01::2 (through an ICMPv6 ping socket), a
#      4000-byte one too (fragments both ways); a ping of the denied address is refused
#      (administratively prohibited) and counted;
#   7. a datagram from the guest's link-local address to the remote host is refused (not
#      routable off the link) and counted as relay.refused_link_local_source, not as a
#      reserved destination;
#   8. the counters in status and the exit report.
# DNS at the relay's DNS address is IPv4 only (the address plan has no IPv6 DNS address yet).
source "$(dirname "$0")/lib.sh"
e2e_begin relay-ipv6
for tool in curl nc ping sha256sum; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
BYTES=${RELAY_IPV6_BYTES:-$((128 << 20))}

e2e_namespace GUEST guest
e2e_namespace REMOTE remote
guest() { ip netns exec "$GUEST" "$@"; }
remote() { ip netns exec "$REMOTE" "$@"; }
CONTROL="$WORK/control" # the path daemon_status_json reads
MAC=02:00:00:0e:14:06

ip -n "$NS" link add veth0 type veth peer name veth1 netns "$REMOTE"
ip -n "$NS" addr add fd01::1/64 dev veth0 nodad
ip -n "$REMOTE" addr add fd01::2/64 dev veth1 nodad
ip -n "$REMOTE" addr add fd01::3/64 dev veth1 nodad
ip -n "$NS" link set veth0 up
ip -n "$REMOTE" link set veth1 up
ip -n "$NS" -6 route add unreachable fd02::/64
ns sysctl -qw net.ipv4.ping_group_range="0 2147483647"

# The remote servers (fd01::2): HTTP on 8080 (logs each client), the half-close server on 9100
# (reads to EOF, answers the sha256 of what it read), a UDP echo server on 7007.
mkdir -p "$WORK/www"
echo "relayed page over IPv6" >"$WORK/www/page.txt"
cat >"$WORK/servers.py" <<'PY'
import asyncio, hashlib, http.server, socket, socketserver, sys, threading
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        print("http from %s" % self.client_address[0], flush=True)
class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    address_family = socket.AF_INET6
handler = lambda *a, **k: Quiet(*a, directory=sys.argv[1], **k)
threading.Thread(target=Server(("fd01::2", 8080), handler).serve_forever, daemon=True).start()
def udp_echo():
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("fd01::2", 7007))
    while True:
        data, sender = s.recvfrom(65535)
        print("udp from [%s]:%d %d bytes" % (sender[0], sender[1], len(data)), flush=True)
        s.sendto(data, sender)
threading.Thread(target=udp_echo, daemon=True).start()
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
async def main():
    server = await asyncio.start_server(digest, "fd01::2", 9100)
    print("listening", flush=True)
    await server.serve_forever()
asyncio.run(main())
PY
remote "$PYTHON" -u "$WORK/servers.py" "$WORK/www" >"$WORK/servers.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/servers.log" "^listening" 20 >/dev/null
ok "HTTP, half-close and UDP echo servers on fd01::2 in the remote namespace"

daemon_start --tap tap0 --netns "/run/netns/$GUEST" --relay --ip6 fd00::2/64 --mac "$MAC" \
  --dns-address none --deny fd01::3/128 --control "$CONTROL"
daemon_wait_serving 30
expect_match "the startup line names the denied IPv6 range" "denied fd01::3/128" "$(grep "relay:" "$DAEMON_OUT")"
guest sysctl -qw net.ipv6.conf.tap0.accept_ra=0
guest ip link set tap0 up
guest ip -6 addr add fd00::100/64 dev tap0 nodad
guest ip -6 route add default via fd00::2 dev tap0
# The stack's fd00::2 answers once its duplicate address detection is over.
deadline=$((SECONDS + 30))
until guest ping -6 -c 1 -W 1 -q fd00::2 >/dev/null 2>&1; do
  ((SECONDS < deadline)) || fail "the stack's fd00::2 answers the guest's ping within 30 s"
  sleep 0.2
done
ok "the guest (fd00::100) reaches the stack's fd00::2"

# --- 1. curl ----------------------------------------------------------------------------------
out=$(guest curl -g -sS --max-time 20 "http://[fd01::2]:8080/page.txt" 2>&1 || true)
expect_eq "curl http://[fd01::2]:8080/page.txt from the guest" "relayed page over IPv6" "$out"
expect_match "the HTTP server saw netstackd's namespace's address" "^http from fd01::1$" \
  "$(cat "$WORK/servers.log")"

# --- 2. Bulk both ways ------------------------------------------------------------------------
wait_for_port() { # wait_for_port PORT: until the remote namespace listens on PORT
  local deadline=$((SECONDS + 20))
  until remote ss -Hltn "sport = :$1" | grep -q LISTEN; do
    ((SECONDS < deadline)) || fail "the remote server did not listen on port $1"
    sleep 0.1
  done
}
head -c "$BYTES" /dev/urandom >"$WORK/bulk"
sum=$(sha256sum <"$WORK/bulk" | cut -d' ' -f1)
remote sh -c "nc -6 -l fd01::2 9001 | sha256sum | cut -d' ' -f1 >'$WORK/up.sum'" </dev/null &
up_pid=$!
HELPER_PIDS+=($up_pid)
wait_for_port 9001
start=$(date +%s.%N)
guest timeout 300 nc -6 -N fd01::2 9001 <"$WORK/bulk" || fail "the guest's upload failed"
wait "$up_pid"
up_time=$(awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }')
expect_eq "guest -> remote: $BYTES bytes, sha256 on the remote side (${up_time} s)" "$sum" "$(cat "$WORK/up.sum")"

remote sh -c "nc -6 -N -l fd01::2 9002 <'$WORK/bulk'" </dev/null &
down_pid=$!
HELPER_PIDS+=($down_pid)
wait_for_port 9002
start=$(date +%s.%N)
down=$(guest timeout 300 nc -6 fd01::2 9002 </dev/null | sha256sum | cut -d' ' -f1)
down_time=$(awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }')
expect_eq "remote -> guest: $BYTES bytes, sha256 in the guest (${down_time} s)" "$sum" "$down"
wait "$down_pid" 2>/dev/null || true
rm -f "$WORK/bulk"

# --- 3. Half-close, and the flow in status ----------------------------------------------------
cat >"$WORK/half-close.py" <<'PY'
import hashlib, os, socket, sys
data = os.urandom(300000)
s = socket.create_connection(("fd01::2", 9100), timeout=20)
s.sendall(data)
print("connected", flush=True)
sys.stdin.readline()  # the test has looked at the status
s.shutdown(socket.SHUT_WR)
answer = b""
while True:
    piece = s.recv(4096)
    if not piece:
        break
    answer += piece
print("sent %s got %s" % (hashlib.sha256(data).hexdigest(), answer.decode().strip()), flush=True)
PY
mkfifo "$WORK/half.in"
guest "$PYTHON" -u "$WORK/half-close.py" <"$WORK/half.in" >"$WORK/half.out" 2>&1 &
half_pid=$!
HELPER_PIDS+=($half_pid)
exec 7>"$WORK/half.in"
wait_for_line "$WORK/half.out" "^connected$" 20 >/dev/null || fail "the half-close client connected" "connected" "$(cat "$WORK/half.out")"
json=$(daemon_status_json)
expect_match "status --json lists the relayed IPv6 connection" "^\[fd00::100\]:[0-9]+ \[fd01::2\]:9100 open$" \
  "$(status_value '"\n".join("%s %s %s" % (f["guest"], f["destination"], f["state"]) for f in s["relay"]["tcp"]["flows"])' "$json")"
text=$(timeout 20 "$NETSTACKD" status --control "$CONTROL")
expect_match "text status: the flow" "^  \[fd00::100\]:[0-9]+ -> \[fd01::2\]:9100  host :[0-9]+ -> \[fd01::2\]:9100  open " "$text"
echo go >&7
exec 7>&-
wait_for_line "$WORK/half.out" "^sent " 30 >/dev/null || true
expect_match "after shutting down its side the guest still gets the answer to what it sent" \
  "^sent ([0-9a-f]{64}) got \1$" "$(grep '^sent ' "$WORK/half.out" || cat "$WORK/half.out")"

# --- 4. Refused, unreachable, denied ----------------------------------------------------------
# connect.py HOST PORT: what connect() says, as the errno's name ("connected" if it connects).
cat >"$WORK/connect.py" <<'PY'
import errno, socket, sys
s = socket.socket(socket.AF_INET6)
s.settimeout(20)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("connected")
except socket.timeout:
    print("timeout")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e)))
PY
# expect_fast_failure WHAT HOST PORT ERRNO: curl fails with exit 7 within 5 s, connect() with ERRNO.
expect_fast_failure() {
  local what=$1 host=$2 port=$3 expected=$4 start code=0 out
  start=$SECONDS
  out=$(guest curl -g -sS --max-time 20 "http://[$host]:$port/" 2>&1) || code=$?
  expect_eq "curl to $what: exit 7 (could not connect)" 7 "$code"
  expect_le "  ... within 5 s, not a timeout ($out)" 5 $((SECONDS - start))
  expect_eq "  ... connect() says $expected" "$expected" "$(guest "$PYTHON" "$WORK/connect.py" "$host" "$port")"
}
expect_fast_failure "a closed remote port (RST)" fd01::2 8999 ECONNREFUSED
expect_fast_failure "an unreachable address (ICMPv6 address unreachable)" fd02::5 8080 EHOSTUNREACH
expect_fast_failure "a denied address, --deny fd01::3/128 (ICMPv6 prohibited)" fd01::3 8080 EACCES

# --- 5. UDP -----------------------------------------------------------------------------------
cat >"$WORK/udp-client.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
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
answer=$(guest "$PYTHON" "$WORK/udp-client.py" fd01::2 7007 relayed-udp-over-ipv6 2>&1 || true)
expect_eq "a UDP datagram to the remote echo server comes back" "relayed-udp-over-ipv6" "$answer"
expect_match "the echo server saw netstackd's namespace's address" "^udp from \[fd01::1\]:[0-9]+ 21 bytes$" \
  "$(cat "$WORK/servers.log")"
answer=$(guest "$PYTHON" "$WORK/udp-client.py" fd01::2 7008 nobody-listens 2>&1 || true)
expect_eq "a closed remote port: ICMPv6 port unreachable to the guest" "refused" "$answer"
json=$(daemon_status_json)
expect_eq "status lists the UDP flows" "[fd01::2]:7007 1 1,[fd01::2]:7008 1 0" \
  "$(status_value '",".join("%s %d %d" % (f["destination"], f["datagrams_out"], f["datagrams_in"]) for f in s["relay"]["udp_flows"])' "$json")"
expect_match "  ... from the guest's address and port" "^\[fd00::100\]:[0-9]+$" \
  "$(status_value 's["relay"]["udp_flows"][0]["guest"]' "$json")"
expect_eq "relay_udp.refusals_sent" 1 "$(status_value 's["counters"]["relay_udp"]["refusals_sent"]' "$json")"
big=$(head -c 4000 /dev/zero | tr '\0' 'f')
answer=$(guest "$PYTHON" "$WORK/udp-client.py" fd01::2 7007 "$big" 2>&1 || true)
expect_eq "a 4000-byte UDP datagram (fragments from the guest, reassembled, relayed) comes back whole" "$big" "$answer"
expect_match "  ... the echo server got it whole" "^udp from \[fd01::1\]:[0-9]+ 4000 bytes$" "$(cat "$WORK/servers.log")"

# --- 6. ping -6 -------------------------------------------------------------------------------
out=$(guest ping -6 -c 3 -i 0.3 -W 2 fd01::2 2>&1 || true)
expect_match "the guest's ping -6 of the remote host is answered" "3 packets transmitted, 3 received" "$out"
expect_match "the replies come from the remote host's address" "bytes from fd01::2: icmp_seq=3" "$out"
json=$(daemon_status_json)
expect_eq "status lists the echo flow (guest, destination, replies)" "fd00::100 fd01::2 3" \
  "$(status_value '" ".join(str(f[k]) for f in s["relay"]["echo_flows"] for k in ("guest", "destination", "replies"))' "$json")"
expect_eq "relay.echo_requests_relayed" 3 "$(status_value 's["counters"]["relay"]["echo_requests_relayed"]' "$json")"
out=$(guest ping -6 -c 1 -W 3 -s 4000 fd01::2 2>&1 || true)
expect_match "a 4000-byte ping -6 (fragments both ways) is answered" "4008 bytes from fd01::2" "$out"
expect_ge "ipv6.packets_reassembled (the datagram's and the ping's)" 2 \
  "$(status_value 's["counters"]["ipv6"]["packets_reassembled"]')"
out=$(guest ping -6 -c 2 -i 0.3 -W 2 fd01::3 2>&1 || true)
expect_match "the guest's ping of the denied address is refused" "Administratively prohibited" "$out"
expect_match "  ... unanswered" "2 packets transmitted, 0 received" "$out"

# --- 7. A link-local source ------------------------------------------------------------------
linklocal=$(guest ip -6 -o addr show dev tap0 scope link | awk '{ sub("/.*", "", $4); print $4; exit }')
[[ "$linklocal" == fe80:* ]] || fail "the guest's tap0 has a link-local address" "fe80::..." "$linklocal"
reserved_before=$(status_value 's["counters"]["relay"]["refused_reserved"]')
guest "$PYTHON" - "$linklocal" <<'PY' || fail "the guest sends a datagram from its link-local address"
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0, 0, socket.if_nametoindex("tap0")))
s.sendto(b"from link-local", ("fd01::2", 7007))
PY
deadline=$((SECONDS + 20))
until [[ "$(status_value 's["counters"]["relay"].get("refused_link_local_source", 0)')" -ge 1 ]]; do
  ((SECONDS < deadline)) || fail "relay.refused_link_local_source counts the guest's datagram from $linklocal" ">= 1" \
    "$(status_value 's["counters"]["relay"].get("refused_link_local_source", 0)')"
  sleep 0.2
done
ok "a datagram from the guest's $linklocal is refused and counted as relay.refused_link_local_source"
expect_eq "  ... not as a reserved destination" "$reserved_before" \
  "$(status_value 's["counters"]["relay"]["refused_reserved"]')"

# --- 8. Counters ------------------------------------------------------------------------------
json=$(daemon_status_json)
expect_ge "relay.refused_denied (2 opens, 2 pings)" 4 "$(status_value 's["counters"]["relay"]["refused_denied"]' "$json")"
expect_eq "relay_tcp.refused" 2 "$(status_value 's["counters"]["relay_tcp"]["refused"]' "$json")"
# Two opens of the unreachable address (curl, connect.py); the guest's kernel takes the ICMPv6
# error as a soft one when it arrives while the socket is busy (tcp_v6_err, SYN-SENT and
# sock_owned_by_user) and sends its SYN again, which the relay tries and counts again: at
# least 2, and not many more.
unreachable=$(status_value 's["counters"]["relay_tcp"]["unreachable"]' "$json")
expect_ge "relay_tcp.unreachable (2 opens)" 2 "$unreachable"
expect_le "relay_tcp.unreachable (2 opens, a SYN sent again each at most)" 4 "$unreachable"
expect_ge "relay_tcp.opened" 4 "$(status_value 's["counters"]["relay_tcp"]["opened"]' "$json")"
expect_ge "ipv6.packets_relayed" 1000 "$(status_value 's["counters"]["ipv6"]["packets_relayed"]' "$json")"
expect_eq "relay.dropped_unsupported_protocol" 0 "$(status_value 's["counters"]["relay"].get("dropped_unsupported_protocol", 0)' "$json")"
daemon_stop TERM
expect_eq "netstackd exit status" 0 "$DAEMON_STATUS"
expect_counters_printed
expect_ge "relay_icmp.replies_received (exit report)" 3 "$(counter relay_icmp.replies_received)"
expect_ge "relay_tcp.closed (exit report)" 4 "$(counter relay_tcp.closed)"
