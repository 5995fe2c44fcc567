#!/usr/bin/env bash
# --publish over IPv6, published UDP showing the guest its client, and --host-loopback's IPv6
# address for the host's ::1. Three namespaces, all the test's own: netstackd's (a veth to the
# remote one: fd01::1/64 - fd01::2/64 and 10.99.0.1/24 - 10.99.0.2/24), the guest's
# (netstackd's TAP through --netns --relay: static fd00::100/64 via the stack's fd00::2 and
# 10.0.2.15/24 via 10.0.2.2) and the remote one with the clients. Every server runs in the
# guest, but the ::1 one in netstackd's namespace; nothing reaches the machine's network.
# Checked:
#   1. tcp:[::]:8080=[fd00::100]:8000 from the remote namespace over IPv6: 1 MB echoed back by
#      the guest's server, sha256 equal both ways; the server saw the client's own address
#      fd01::2 and port;
#   2. udp:[::]:7070=[fd00::100]:7007: a datagram echoed back over IPv6; the guest's server saw
#      the client's fd01::2 and port; two clients on ports of their own each get their answers;
#      the stack counts the datagrams it sent the guest in udp.datagrams_sent, and status
#      (text and JSON) shows each flow's guest side as the client's own address and port;
#   3. udp:7071=10.0.2.15:7007 (IPv4): the guest's server saw the remote client's 10.99.0.2
#      and port, not the gateway;
#   4. tcp:[::1]:8082=[fd00::100]:8000: a client on netstackd's ::1 appears in the guest at
#      the --host-loopback address fd00::4;
#   5. at run time, in IPv6 form: `publish add tcp:[::]:8085=[fd00::100]:8000` makes the port
#      reachable over IPv6, `list` and `list --json` show [::]:8085 and [fd00::100]:8000,
#      `remove` makes it refused; a spec with an unbracketed IPv6 address is refused clearly;
#   6. the host's ::1: with --host-loopback fd00::4, the guest reaches a TCP server and a UDP
#      echo server on ::1 of netstackd's namespace at [fd00::4] and pings fd00::4; fd00::5 (not
#      mapped, inside the guests' prefix, routed by the guest through the stack) is refused
#      and counted; the stack's advertisements for fd00::4, a proxy's, have the override flag
#      clear (RFC 4861 §7.2.8; its pcap);
#   7. status (text and JSON) names the ports as [addr]:port and the ::1 mapping.
source "$(dirname "$0")/lib.sh"
e2e_begin publish-ipv6
for tool in curl nc ping sha256sum tshark; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

e2e_namespace GUEST guest
e2e_namespace REMOTE remote
guest() { ip netns exec "$GUEST" "$@"; }
remote() { ip netns exec "$REMOTE" "$@"; }
CONTROL="$WORK/control"
MAC=02:00:00:0e:14:16

ip -n "$NS" link add veth0 type veth peer name veth1 netns "$REMOTE"
ip -n "$NS" addr add fd01::1/64 dev veth0 nodad
ip -n "$REMOTE" addr add fd01::2/64 dev veth1 nodad
ip -n "$NS" addr add 10.99.0.1/24 dev veth0
ip -n "$REMOTE" addr add 10.99.0.2/24 dev veth1
ip -n "$NS" link set veth0 up
ip -n "$REMOTE" link set veth1 up
ns sysctl -qw net.ipv4.ping_group_range="0 2147483647"

# Guest servers: a TCP echo server on [::]:8000 (logs each peer), UDP echo servers on
# [::]:7007 and 0.0.0.0:7007 (log each sender). Host servers on netstackd's ::1: TCP 9000
# answers "host-loopback-tcp", UDP 9001 echoes.
cat >"$WORK/guest-servers.py" <<'PY'
import socket, threading
def tcp_echo():
    server = socket.socket(socket.AF_INET6)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    server.bind(("::", 8000))
    server.listen(16)
    while True:
        connection, peer = server.accept()
        print("tcp from [%s]:%d" % peer[:2], flush=True)
        threading.Thread(target=echo, args=(connection,), daemon=True).start()
def echo(connection):
    while True:
        data = connection.recv(1 << 16)
        if not data:
            break
        connection.sendall(data)
    connection.close()
def udp_echo(family, address):
    s = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((address, 7007))
    while True:
        data, sender = s.recvfrom(65535)
        print("udp from %s %s:%d" % ("v6" if family == socket.AF_INET6 else "v4", sender[0], sender[1]), flush=True)
        s.sendto(data, sender)
threading.Thread(target=tcp_echo, daemon=True).start()
threading.Thread(target=udp_echo, args=(socket.AF_INET6, "::"), daemon=True).start()
threading.Thread(target=udp_echo, args=(socket.AF_INET, "0.0.0.0"), daemon=True).start()
print("listening", flush=True)
threading.Event().wait()
PY
cat >"$WORK/host-servers.py" <<'PY'
import socket, threading
def tcp():
    server = socket.socket(socket.AF_INET6)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("::1", 9000))
    server.listen(8)
    while True:
        connection, peer = server.accept()
        print("tcp from [%s]:%d" % peer[:2], flush=True)
        connection.sendall(b"host-loopback-tcp\n")
        connection.close()
def udp():
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::1", 9001))
    while True:
        data, sender = s.recvfrom(65535)
        print("udp from [%s]:%d" % sender[:2], flush=True)
        s.sendto(data, sender)
threading.Thread(target=tcp, daemon=True).start()
threading.Thread(target=udp, daemon=True).start()
print("listening", flush=True)
threading.Event().wait()
PY
# A TCP client: sends SIZE random bytes, half-closes, reads the echo; prints its own port, the
# sha256 of what it sent and of what came back.
cat >"$WORK/tcp-client.py" <<'PY'
import hashlib, os, socket, sys
data = os.urandom(int(sys.argv[3]))
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
print("local %d" % s.getsockname()[1], flush=True)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
back = hashlib.sha256()
while True:
    chunk = s.recv(1 << 16)
    if not chunk:
        break
    back.update(chunk)
print("sent %s" % hashlib.sha256(data).hexdigest(), flush=True)
print("back %s" % back.hexdigest(), flush=True)
PY
# A UDP client: sends TEXT (retrying on a timeout), prints its own port and the answer.
cat >"$WORK/udp-client.py" <<'PY'
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
s.settimeout(2)
s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))
print("local %d" % s.getsockname()[1], flush=True)
for attempt in range(5):
    s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
    try:
        data, sender = s.recvfrom(65535)
        print("answer %s" % data.decode(), flush=True)
        break
    except socket.timeout:
        print("timeout", flush=True)
PY

daemon_start --tap tap0 --netns "/run/netns/$GUEST" --relay --ip6 fd00::2/64 --mac "$MAC" \
  --dns-address none --control "$CONTROL" --host-loopback fd00::4 --pcap "$WORK/stack.pcap" \
  --publish "tcp:[::]:8080=[fd00::100]:8000" --publish "udp:[::]:7070=[fd00::100]:7007" \
  --publish udp:7071=10.0.2.15:7007 --publish "tcp:[::1]:8082=[fd00::100]:8000"
daemon_wait_serving 30
expect_match "the startup line names the IPv6 ports in brackets" \
  'publishing tcp:\[::\]:8080=\[fd00::100\]:8000' "$(cat "$DAEMON_OUT")"
expect_match "the startup line names the ::1 mapping" "host loopback at fd00::4" \
  "$(grep "relay:" "$DAEMON_OUT")"
guest sysctl -qw net.ipv6.conf.tap0.accept_ra=0
guest ip link set tap0 up
guest ip -6 addr add fd00::100/64 dev tap0 nodad
guest ip -6 route add default via fd00::2 dev tap0
guest ip addr add 10.0.2.15/24 dev tap0
guest ip route add default via 10.0.2.2 dev tap0
deadline=$((SECONDS + 30))
until guest ping -6 -c 1 -W 1 -q fd00::2 >/dev/null 2>&1; do
  ((SECONDS < deadline)) || fail "the stack's fd00::2 answers the guest's ping within 30 s"
  sleep 0.2
done
ok "the guest (fd00::100, 10.0.2.15) reaches the stack's fd00::2"

guest "$PYTHON" -u "$WORK/guest-servers.py" >"$WORK/guest.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
ns "$PYTHON" -u "$WORK/host-servers.py" >"$WORK/host.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/guest.log" "^listening" 20 >/dev/null
wait_for_line "$WORK/host.log" "^listening" 20 >/dev/null
ok "guest servers on [::]:8000 (TCP echo) and 7007 (UDP echo, both families); host servers on ::1"

# --- 1. TCP over IPv6, the client's address ---------------------------------------------------
out=$(remote "$PYTHON" -u "$WORK/tcp-client.py" fd01::1 8080 1048576 2>&1 || true)
sent=$(sed -n 's/^sent //p' <<<"$out")
[[ -n "$sent" ]] || fail "the TCP client through tcp:[::]:8080 finished" "sent/back lines" "$out"
expect_eq "tcp:[::]:8080: 1 MB echoed by the guest, sha256 equal both ways" "$sent" \
  "$(sed -n 's/^back //p' <<<"$out")"
port=$(sed -n 's/^local //p' <<<"$out")
expect_match "the guest's TCP server saw the client's own IPv6 address and port" \
  "^tcp from \[fd01::2\]:$port$" "$(cat "$WORK/guest.log")"

# --- 2. UDP over IPv6, the client's address ---------------------------------------------------
sent_before=$(status_value 's["counters"]["udp"]["datagrams_sent"]')
ports=()
for text in first-v6 second-v6; do
  out=$(remote "$PYTHON" -u "$WORK/udp-client.py" fd01::1 7070 "$text" 2>&1 || true)
  expect_eq "udp:[::]:7070 echoes '$text' through the guest" "answer $text" "$(tail -n 1 <<<"$out")"
  port=$(sed -n 's/^local //p' <<<"$out")
  ports+=("$port")
  expect_match "the guest's UDP server saw the client's own IPv6 address and port ($text)" \
    "^udp from v6 fd01::2:$port$" "$(cat "$WORK/guest.log")"
done
json=$(daemon_status_json)
expect_ge "udp.datagrams_sent counts the datagrams sent to the guest from the clients' addresses" \
  $((sent_before + 2)) "$(status_value 's["counters"]["udp"]["datagrams_sent"]' "$json")"
clients='("[fd01::2]:'"${ports[0]}"'", "[fd01::2]:'"${ports[1]}"'")'
guest_sides='",".join(sorted(f["guest_side"] for p in s["published"]["ports"] if p["host"] == "[::]:7070" for f in p["flows"] if f["client"] in '"$clients"'))'
expected=$(printf '%s\n' "[fd01::2]:${ports[0]} -> [fd00::100]:7007" \
  "[fd01::2]:${ports[1]} -> [fd00::100]:7007" | LC_ALL=C sort | paste -sd,)
expect_eq "status --json: each UDP flow's guest side is its client's own address and port" \
  "$expected" "$(status_value "$guest_sides" "$json")"
expect_match "status (text): the flow's guest side is its client's address and port" \
  "\[fd01::2\]:${ports[0]} => \[fd01::2\]:${ports[0]} -> \[fd00::100\]:7007" \
  "$(timeout 10 "$NETSTACKD" status --control "$CONTROL")"

# --- 3. UDP over IPv4, the client's address ---------------------------------------------------
out=$(remote "$PYTHON" -u "$WORK/udp-client.py" 10.99.0.1 7071 hello-v4 2>&1 || true)
expect_eq "udp:7071 echoes through the guest over IPv4" "answer hello-v4" "$(tail -n 1 <<<"$out")"
port=$(sed -n 's/^local //p' <<<"$out")
expect_match "the guest's UDP server saw the client's own IPv4 address and port" \
  "^udp from v4 10.99.0.2:$port$" "$(cat "$WORK/guest.log")"

# --- 4. A client on netstackd's ::1 ----------------------------------------------------------
out=$(ns "$PYTHON" -u "$WORK/tcp-client.py" ::1 8082 4096 2>&1 || true)
expect_eq "tcp:[::1]:8082 echoes through the guest" "$(sed -n 's/^sent //p' <<<"$out")" \
  "$(sed -n 's/^back //p' <<<"$out")"
expect_match "a client on netstackd's ::1 appears in the guest at --host-loopback's fd00::4" \
  '^tcp from \[fd00::4\]:' "$(cat "$WORK/guest.log")"

# --- 5. At run time, in IPv6 form -------------------------------------------------------------
publish() { timeout 10 "$NETSTACKD" publish --control "$CONTROL" "$@"; }
out=$(publish add "tcp:[::]:8085=[fd00::100]:8000" 2>&1) \
  || fail "publish add tcp:[::]:8085=[fd00::100]:8000" "exit 0" "$out"
expect_match "publish add answers in IPv6 form" 'published tcp:\[::\]:8085=\[fd00::100\]:8000' "$out"
out=$(remote "$PYTHON" -u "$WORK/tcp-client.py" fd01::1 8085 65536 2>&1 || true)
expect_eq "the port added at run time relays over IPv6" "$(sed -n 's/^sent //p' <<<"$out")" \
  "$(sed -n 's/^back //p' <<<"$out")"
expect_match "publish list shows it as [::]:8085 -> [fd00::100]:8000" \
  'tcp \[::\]:8085 -> \[fd00::100\]:8000' "$(publish list)"
json=$(publish list --json)
expect_eq "publish list --json has its host and guest sides in brackets" "[::]:8085 [fd00::100]:8000" \
  "$(status_value '" ".join(p["host"] + " " + p["guest"] for p in s["published"]["ports"] if p["host"] == "[::]:8085")' "$json")"
out=$(publish remove "tcp:[::]:8085=[fd00::100]:1" 2>&1) || fail "publish remove" "exit 0" "$out"
expect_match "publish remove answers in IPv6 form" 'removed tcp:\[::\]:8085=' "$out"
if remote timeout 10 nc -6 -z -w 5 fd01::1 8085; then
  fail "after remove, [::]:8085 refuses connections" "refused" "connected"
fi
ok "after remove, [::]:8085 refuses connections"
status=0
out=$(publish add "tcp:::1:8086=[fd00::100]:8000" 2>&1) || status=$?
expect_eq "an unbracketed IPv6 address is refused with status 1" 1 "$status"
expect_match "... and the error says brackets" "an IPv6 address in brackets" "$out"

# --- 6. The host's ::1 at fd00::4 -------------------------------------------------------------
out=$(guest timeout 20 nc -6 -w 10 fd00::4 9000 </dev/null 2>&1 || true)
expect_eq "the guest reaches TCP on netstackd's ::1 at [fd00::4]:9000" "host-loopback-tcp" "$out"
out=$(guest "$PYTHON" -u "$WORK/udp-client.py" fd00::4 9001 to-host-loopback 2>&1 || true)
expect_eq "the guest's UDP to [fd00::4]:9001 is echoed by netstackd's ::1" \
  "answer to-host-loopback" "$(tail -n 1 <<<"$out")"
guest ping -6 -c 1 -W 5 -q fd00::4 >/dev/null 2>&1 \
  || fail "the guest's ping of fd00::4 is answered (the host's ::1)"
ok "the guest's ping of fd00::4 is answered (the host's ::1)"
# fd00::5 is on the guest's link as far as it knows: a route through the stack sends it there.
guest ip -6 route add fd00::5/128 via fd00::2 dev tap0
refused_before=$(status_value 's["counters"]["relay"]["refused_guest_subnet"]')
out=$(guest timeout 20 nc -6 -w 5 fd00::5 9000 </dev/null 2>&1 || true)
expect_no_match "fd00::5 (not mapped) does not reach the host's ::1" "host-loopback-tcp" "$out"
refused_after=$(status_value 's["counters"]["relay"]["refused_guest_subnet"]')
expect_ge "... and is refused and counted" $((refused_before + 1)) "$refused_after"

# --- 7. Status ------------------------------------------------------------------------------
text=$(timeout 10 "$NETSTACKD" status --control "$CONTROL")
expect_match "status names the IPv6 ports in brackets" 'udp \[::\]:7070 -> \[fd00::100\]:7007' "$text"
expect_match "status names the ::1 mapping" "host loopback at fd00::4" "$text"
json=$(daemon_status_json)
expect_eq "status --json has the ::1 mapping" "fd00::4" "$(status_value 's["relay"]["host_loopback_ipv6"]' "$json")"
expect_ge "status --json counts UDP flows that showed the client" 3 \
  "$(status_value 'sum(p["counters"].get("client_address_shown", 0) for p in s["published"]["ports"] if p["transport"] == "udp")' "$json")"

daemon_stop TERM 20
expect_eq "netstackd exits 0 on SIGTERM" 0 "$DAEMON_STATUS"
expect_counters_printed

# The stack's advertisements of fd00::4 answer the guest as a proxy's: override clear.
flags=$(tshark -r "$WORK/stack.pcap" -Y "eth.src == $MAC && icmpv6.type == 136 && icmpv6.nd.na.target_address == fd00::4" \
  -T fields -e icmpv6.nd.na.flag.o 2>/dev/null | sort -u | tr '\n' ' ')
expect_match "the proxy advertisements of fd00::4 have the override flag clear (pcap)" '^(0|False) $' "$flags"
own=$(tshark -r "$WORK/stack.pcap" -Y "eth.src == $MAC && icmpv6.type == 136 && icmpv6.nd.na.target_address == fd00::2" \
  -T fields -e icmpv6.nd.na.flag.o 2>/dev/null | sort -u | tr '\n' ' ')
expect_match "... where those of its own fd00::2 have it set (pcap)" '^(1|True) $' "$own"
