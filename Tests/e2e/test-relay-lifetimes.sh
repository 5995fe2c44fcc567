#!/usr/bin/env bash
# Relayed and published TCP flows whose peers stop, half-way or altogether, are freed. Three
# namespaces, all the test's own, as in test-relay-tcp: netstackd's (a veth to the remote one,
# 10.99.0.1 - 10.99.0.2 and 10.99.0.3), the guest's (netstackd's TAP through --netns; 10.0.2.15
# by hand, routed through 10.0.2.2) and the remote one with the servers. The timeouts are made
# short by the options (--relay-half-closed-timeout 8, --tcp-keepalive 2,1,2,
# --tcp-user-timeout 5). Checked, all at once:
#   1. the guest half-closes and the remote server never answers (nor closes): the flow is
#      reset after the half-closed timeout, the remote's socket leaves CLOSE-WAIT and the guest
#      sees the reset;
#   2. the remote server sends and closes (the guest gets FIN) and the guest never closes: the
#      flow is reset after the timeout and the guest's socket leaves CLOSE-WAIT;
#   3. the guest vanishes (its namespace drops every segment of the flow) while the flow is
#      idle: the stack's keepalive gives up, the remote server's connection is reset;
#   4. the remote vanishes without a RST (its namespace drops 10.99.0.3) while the flow is
#      idle: the host socket's keepalive (and user timeout) gives up, the guest gets a RST;
#   5. a published TCP port whose client half-closes into a guest server that never answers:
#      reset after the timeout, the client sees it;
#   6. status shows no relayed or published flow left, and the counters say why
#      (relay_tcp.half_closed_timeouts 2, guest_timeouts, host_timeouts, the port's
#      half_closed_timeouts 1), in status and in the exit report.
source "$(dirname "$0")/lib.sh"
e2e_begin relay-lifetimes
for tool in nft ss; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

e2e_namespace GUEST guest
e2e_namespace REMOTE remote
guest() { ip netns exec "$GUEST" "$@"; }
remote() { ip netns exec "$REMOTE" "$@"; }
CONTROL="$WORK/control" # the path daemon_status_json reads
MAC=02:00:00:0e:14:0e

ip -n "$NS" link add veth0 type veth peer name veth1 netns "$REMOTE"
ip -n "$NS" addr add 10.99.0.1/24 dev veth0
ip -n "$REMOTE" addr add 10.99.0.2/24 dev veth1
ip -n "$REMOTE" addr add 10.99.0.3/24 dev veth1
ip -n "$NS" link set veth0 up
ip -n "$REMOTE" link set veth1 up

# The remote servers: 9500 reads to EOF and then holds the connection without a word; 9501
# sends a line and its FIN, then waits for the guest; 9502 (10.99.0.2) and 9503 (10.99.0.3)
# hold what they are given. Each logs how its connection ended.
cat >"$WORK/servers.py" <<'PY'
import asyncio
async def silent_after_eof(reader, writer):
    while await reader.read(65536):
        pass
    print("9500 eof", flush=True)
    await asyncio.sleep(3600)
def ended(port):
    async def handler(reader, writer):
        try:
            while await reader.read(65536):
                pass
            print("%d eof" % port, flush=True)
        except ConnectionResetError:
            print("%d reset" % port, flush=True)
        except OSError as error:
            print("%d error %s" % (port, error), flush=True)
    return handler
async def fin_first(reader, writer):
    writer.write(b"hello\n")
    await writer.drain()
    writer.write_eof()
    await ended(9501)(reader, writer)
async def main():
    servers = [
        await asyncio.start_server(silent_after_eof, "10.99.0.2", 9500),
        await asyncio.start_server(fin_first, "10.99.0.2", 9501),
        await asyncio.start_server(ended(9502), "10.99.0.2", 9502),
        await asyncio.start_server(ended(9503), "10.99.0.3", 9503),
    ]
    print("listening", flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))
asyncio.run(main())
PY
# A client: connects to HOST PORT; "half-close" sends a line, shuts down its writing side and
# waits for the answer; "read-to-eof-and-hold" reads until the server's FIN and then keeps the
# socket open without closing it; "hold" sends a line and waits. Logs how its wait ended.
cat >"$WORK/client.py" <<'PY'
import socket, sys, time
name, host, port, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s = socket.create_connection((host, port), timeout=10)
s.settimeout(None)
print("%s connected" % name, flush=True)
try:
    if mode == "read-to-eof-and-hold":
        while s.recv(65536):
            pass
        print("%s eof" % name, flush=True)
        time.sleep(120)
    else:
        s.sendall(b"question\n")
        if mode == "half-close":
            s.shutdown(socket.SHUT_WR)
        data = s.recv(65536)
        print("%s %s" % (name, "eof" if not data else "data"), flush=True)
except ConnectionResetError:
    print("%s reset" % name, flush=True)
except OSError as error:
    print("%s error %s" % (name, error), flush=True)
PY
# The guest's server behind the published port: reads to EOF, then holds without a word.
cat >"$WORK/guest-server.py" <<'PY'
import socket, threading, time
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("10.0.2.15", 8000))
server.listen(8)
print("listening", flush=True)
def serve(connection):
    while connection.recv(65536):
        pass
    print("8000 eof", flush=True)
    time.sleep(3600)
while True:
    connection, _ = server.accept()
    threading.Thread(target=serve, args=(connection,), daemon=True).start()
PY
ip netns exec "$REMOTE" "$PYTHON" -u "$WORK/servers.py" >"$WORK/servers.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/servers.log" "^listening" 20 >/dev/null

daemon_start --tap tap0 --netns "/run/netns/$GUEST" --relay --mac "$MAC" --dns-address none \
  --control "$CONTROL" --publish tcp:127.0.0.1:8090=10.0.2.15:8000 \
  --relay-half-closed-timeout 8 --tcp-keepalive 2,1,2 --tcp-user-timeout 5
daemon_wait_serving 30
guest ip link set tap0 up
guest ip addr add 10.0.2.15/24 dev tap0
guest ip route add default via 10.0.2.2
guest ping -c 1 -W 5 -q 10.0.2.2 >/dev/null || fail "the guest does not reach the gateway 10.0.2.2"
ip netns exec "$GUEST" "$PYTHON" -u "$WORK/guest-server.py" >"$WORK/guest-server.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/guest-server.log" "^listening" 20 >/dev/null
ok "netstackd relays for the guest; servers in the remote namespace and the guest"

# --- The four relayed flows and the published one ---------------------------------------------
client() { # client NAME NAMESPACE-COMMAND HOST PORT MODE: in the background, logging to NAME.log
  local name=$1 namespace=$2
  shift 2
  ip netns exec "$namespace" "$PYTHON" -u "$WORK/client.py" "$name" "$@" >"$WORK/$name.log" 2>&1 </dev/null &
  HELPER_PIDS+=($!)
}
client half-closed "$GUEST" 10.99.0.2 9500 half-close
client fin-received "$GUEST" 10.99.0.2 9501 read-to-eof-and-hold
client guest-gone "$GUEST" 10.99.0.2 9502 hold
client remote-gone "$GUEST" 10.99.0.3 9503 hold
client published "$NS" 127.0.0.1 8090 half-close
for name in half-closed fin-received guest-gone remote-gone published; do
  wait_for_line "$WORK/$name.log" "^$name connected" 20 >/dev/null
done
wait_for_line "$WORK/fin-received.log" "^fin-received eof" 20 >/dev/null
wait_for_line "$WORK/servers.log" "^9500 eof" 20 >/dev/null
wait_for_line "$WORK/guest-server.log" "^8000 eof" 20 >/dev/null
json=$(daemon_status_json)
states=$(status_value 'sorted(f["destination"] + " " + f["state"] for f in s["relay"]["tcp"]["flows"])' "$json")
expect_eq "status: the four relayed flows, two half-closed" \
  "['10.99.0.2:9500 guest-finished', '10.99.0.2:9501 host-finished', '10.99.0.2:9502 open', '10.99.0.3:9503 open']" \
  "$states"
expect_eq "status: the published flow" 1 \
  "$(status_value 'sum(len(p["flows"]) for p in s["published"]["ports"])' "$json")"
expect_eq "the remote's socket of the silent server is in CLOSE-WAIT" 1 \
  "$(remote ss -Htn state close-wait '( sport = :9500 )' | wc -l)"
expect_eq "the guest's socket that got the FIN is in CLOSE-WAIT" 1 \
  "$(guest ss -Htn state close-wait '( dport = :9501 )' | wc -l)"

# The guest vanishes from the flow to 9502, the remote host 10.99.0.3 altogether: their
# namespaces drop every segment, in and out, without a RST.
guest nft -f - <<'RULES' || fail "nft: could not add the guest's drop rules"
table inet e2e_gone {
  chain in { type filter hook input priority 0; policy accept; tcp sport 9502 drop; }
  chain out { type filter hook output priority 0; policy accept; tcp dport 9502 drop; }
}
RULES
remote nft -f - <<'RULES' || fail "nft: could not add the remote's drop rules"
table inet e2e_gone {
  chain in { type filter hook input priority 0; policy accept; ip daddr 10.99.0.3 drop; }
  chain out { type filter hook output priority 0; policy accept; ip saddr 10.99.0.3 drop; }
}
RULES

# --- All of them are freed ---------------------------------------------------------------------
deadline=$((SECONDS + 40))
while :; do
  json=$(daemon_status_json)
  active=$(status_value 's["relay"]["tcp"]["active"]' "$json")
  published=$(status_value 'sum(len(p["flows"]) for p in s["published"]["ports"])' "$json")
  [[ "$active" == 0 && "$published" == 0 ]] && break
  ((SECONDS < deadline)) || fail "every flow is freed within 40 s" "0 relayed, 0 published" \
    "$active relayed, $published published: $(status_value 's["relay"]["tcp"]["flows"]' "$json")"
  sleep 0.5
done
ok "status: no relayed and no published flow left"
expect_eq "relay_tcp.half_closed_timeouts" 2 "$(status_value 's["relay"]["tcp"]["half_closed_timeouts"]' "$json")"
expect_ge "relay_tcp.guest_timeouts (the stack's keepalive)" 1 "$(status_value 's["relay"]["tcp"]["guest_timeouts"]' "$json")"
expect_ge "relay_tcp.host_timeouts (the host socket's keepalive)" 1 "$(status_value 's["relay"]["tcp"]["host_timeouts"]' "$json")"
expect_eq "published port: half_closed_timeouts" 1 \
  "$(status_value 's["published"]["ports"][0]["counters"]["half_closed_timeouts"]' "$json")"
expect_ge "tcp.keepalive_probes" 2 "$(status_value 's["counters"]["tcp"].get("keepalive_probes", 0)' "$json")"

expect_match "the guest that half-closed was reset" "^half-closed reset" "$(wait_for_line "$WORK/half-closed.log" "^half-closed (reset|eof|data|error)" 10)"
expect_match "the published port's client was reset" "^published reset" "$(wait_for_line "$WORK/published.log" "^published (reset|eof|data|error)" 10)"
expect_match "the guest that vanished: the remote server's connection was reset" "^9502 reset" \
  "$(wait_for_line "$WORK/servers.log" "^9502 (reset|eof|error)" 10)"
expect_match "the remote that vanished: the guest was reset" "^remote-gone reset" \
  "$(wait_for_line "$WORK/remote-gone.log" "^remote-gone (reset|eof|data|error)" 10)"
expect_eq "the silent server's socket left CLOSE-WAIT (the relay's RST)" 0 \
  "$(remote ss -Htn state close-wait '( sport = :9500 )' | wc -l)"
expect_eq "the guest's socket that got the FIN left CLOSE-WAIT (the stack's RST)" 0 \
  "$(guest ss -Htn state close-wait '( dport = :9501 )' | wc -l)"
ns ping -c 1 -W 5 -q 10.99.0.2 >/dev/null || fail "netstackd's namespace lost the remote"
guest ping -c 1 -W 5 -q 10.0.2.2 >/dev/null || fail "the stack stopped answering the guest"
ok "the stack still answers the guest"

daemon_stop TERM 20
expect_eq "netstackd exit status" 0 "$DAEMON_STATUS"
expect_counters_printed
expect_eq "exit report: relay_tcp.half_closed_timeouts" 2 "$(counter relay_tcp.half_closed_timeouts)"
expect_ge "exit report: relay_tcp.guest_timeouts" 1 "$(counter relay_tcp.guest_timeouts)"
expect_ge "exit report: relay_tcp.host_timeouts" 1 "$(counter relay_tcp.host_timeouts)"
