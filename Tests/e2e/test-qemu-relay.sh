#!/usr/bin/env bash
# --relay with a QEMU guest over --unix-listen: the guest of test-qemu (Debian's kernel, a
# busybox initramfs built by tools/build-guest.sh, TCG, no network but a virtio-net device on
# `-netdev stream` to netstackd's socket) uses netstackd as its whole network, from its own init
# (tools/guest-init.sh with e2e.mode=relay runs tools/guest-relay.sh). Two namespaces, both the
# test's own: the test's, where netstackd and QEMU run, routed by a veth pair (10.99.0.1 -
# 10.99.0.2) to a "remote" one with dnsmasq (web.relay.test -> 10.99.0.2), an HTTP server with
# a file of QEMU_RELAY_DOWNLOAD bytes (default 4 MiB), a TCP sink on 9100 that logs and answers
# the sha256 of what it read, and a UDP echo server on 7007. netstackd's resolv.conf is the test's
# own file naming that dnsmasq; ping sockets are allowed in netstackd's namespace only. Nothing
# reaches the machine's network or resolver. Checked, from the guest's serial console:
#   1. udhcpc gets the lease of the relay's address plan (10.0.2.15, router 10.0.2.2, DNS
#      10.0.2.3) and configures it;
#   2. nslookup resolves web.relay.test through 10.0.2.3 (dnsmasq saw the query from netstackd's
#      namespace);
#   3. wget downloads the file by name; its sha256 is the file's;
#   4. nc uploads QEMU_RELAY_UPLOAD bytes (default 2 MiB) to the sink; the sink's sha256 (in its
#      log, and the answer the guest got after its half-close) is the guest's;
#   5. ping of the remote host: three replies;
#   6. a UDP datagram to the echo server comes back (busybox nc has no -u: nslookup's query to
#      10.99.0.2:7007, sent back unchanged); one to a closed port is refused (ICMP port
#      unreachable);
#   7. a closed remote TCP port is refused within 5 s (a RST; the guest gives up after 30 s);
#   8. the daemon's counters (relay_tcp, relay_udp, relay_icmp, dns) say the same.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/qemu-guest.sh"
e2e_begin qemu-relay

for tool in qemu-system-x86_64 apt-get dpkg-deb cpio gzip flock dnsmasq sha256sum; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
DOWNLOAD=${QEMU_RELAY_DOWNLOAD:-$((4 << 20))}
UPLOAD=${QEMU_RELAY_UPLOAD:-$((2 << 20))}
MAC=02:00:00:0e:14:0e
GUEST_MAC=52:54:00:0e:14:0f
CONTROL="$WORK/control" # the path daemon_status_json reads

e2e_namespace REMOTE remote
remote() { ip netns exec "$REMOTE" "$@"; }

# --- The guest: kernel and initramfs, from the cache when they are there. ---------------------
qemu_guest_build

# --- netstackd's namespace and the remote one -------------------------------------------------
ip -n "$NS" link add veth0 type veth peer name veth1 netns "$REMOTE"
ip -n "$NS" addr add 10.99.0.1/24 dev veth0
ip -n "$REMOTE" addr add 10.99.0.2/24 dev veth1
ip -n "$NS" link set veth0 up
ip -n "$REMOTE" link set veth1 up
ns sysctl -qw net.ipv4.ping_group_range="0 2147483647"

printf '10.99.0.2 web.relay.test\n' >"$WORK/hosts"
chmod 644 "$WORK/hosts"
ip netns exec "$REMOTE" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --addn-hosts="$WORK/hosts" \
  --local=/relay.test/ --listen-address=10.99.0.2 --bind-interfaces \
  --pid-file="$WORK/dnsmasq.pid" --log-queries --log-facility="$WORK/dnsmasq.log" </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/dnsmasq.log" "started, version" 10 >/dev/null
printf 'nameserver 10.99.0.2\noptions timeout:2 attempts:2\n' >"$WORK/resolv.conf"

# The remote servers (10.99.0.2): HTTP on 8080 serving $WORK/www, the sink on 9100 (reads to
# EOF, logs and answers the sha256), UDP echo on 7007 (logs each datagram).
mkdir -p "$WORK/www"
head -c "$DOWNLOAD" /dev/urandom >"$WORK/www/file.bin"
download_sum=$(sha256sum <"$WORK/www/file.bin" | cut -d' ' -f1)
cat >"$WORK/servers.py" <<'PY'
import asyncio, hashlib, http.server, socket, socketserver, sys, threading
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        print("http from %s: %s" % (self.client_address[0], fmt % args), flush=True)
class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
handler = lambda *a, **k: Quiet(*a, directory=sys.argv[1], **k)
threading.Thread(target=Server(("10.99.0.2", 8080), handler).serve_forever, daemon=True).start()
def udp_echo():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.99.0.2", 7007))
    while True:
        data, sender = s.recvfrom(65535)
        print("udp from %s:%d %d bytes" % (sender[0], sender[1], len(data)), flush=True)
        s.sendto(data, sender)
threading.Thread(target=udp_echo, daemon=True).start()
async def sink(reader, writer):
    h = hashlib.sha256()
    size = 0
    while True:
        data = await reader.read(65536)
        if not data:
            break
        h.update(data)
        size += len(data)
    client = writer.get_extra_info("peername")[0]
    print("sink from %s: size %d sha256 %s" % (client, size, h.hexdigest()), flush=True)
    writer.write((h.hexdigest() + "\n").encode())
    await writer.drain()
    writer.close()
async def main():
    server = await asyncio.start_server(sink, "10.99.0.2", 9100)
    print("listening", flush=True)
    await server.serve_forever()
asyncio.run(main())
PY
ip netns exec "$REMOTE" "$PYTHON" -u "$WORK/servers.py" "$WORK/www" >"$WORK/servers.log" 2>&1 </dev/null &
HELPER_PIDS+=($!)
wait_for_line "$WORK/servers.log" "^listening" 20 >/dev/null
ok "dnsmasq, HTTP, sink and UDP echo servers in the remote namespace"

# --- The daemon: --relay on a socket only this test can reach. --------------------------------
mkdir -m 700 "$WORK/link"
SOCKET="$WORK/link/netstackd.sock"
daemon_start --unix-listen "$SOCKET" --relay --mac "$MAC" --resolv-conf "$WORK/resolv.conf" \
  --control "$CONTROL"
wait_for_line "$DAEMON_OUT" "serving" 20 >/dev/null
[[ -S "$SOCKET" ]] || fail "netstackd listens on $SOCKET"
ok "netstackd --relay listens on $SOCKET"

# --- The guest boots, works, powers off. ------------------------------------------------------
# The guest's steps (tools/guest-relay.sh) and their parameters.
APPEND="console=ttyS0 panic=-1 quiet e2e.mode=relay e2e.name=web.relay.test e2e.remote=10.99.0.2"
APPEND+=" e2e.file=file.bin e2e.upload=$UPLOAD e2e.closed=8999"
qemu_guest_run "$SOCKET" "$GUEST_MAC" 240 "$APPEND"
serial=$SERIAL
log "--- guest serial output (its E2E lines) ---"
grep '^E2E-' <<<"$serial" | sed 's/^/    | /'

expect_match "the guest booted" "^E2E-BOOT: kernel [0-9]" "$serial"
expect_match "the guest finished its steps" "^E2E-DONE: up [0-9.]+ s$" "$serial"
expect_no_match "no step of the guest failed" "^E2E-FAIL" "$serial"

# 1. DHCP.
expect_match "udhcpc: the relay's address plan" \
  "^E2E-LEASE: bound ip=10\.0\.2\.15 mask=24 router=10\.0\.2\.2 dns=10\.0\.2\.3$" "$serial"
expect_match "udhcpc exited 0" "^E2E-DHCP-STATUS: 0$" "$serial"
expect_match "the default route through 10.0.2.2" "^E2E-ROUTE: default via 10\.0\.2\.2 dev eth0" "$serial"

# 2. DNS.
expect_match "nslookup asked 10.0.2.3" "^E2E-NSLOOKUP: Server:[[:space:]]+10\.0\.2\.3$" "$serial"
expect_match "nslookup: web.relay.test is 10.99.0.2" "^E2E-NSLOOKUP: Address: 10\.99\.0\.2$" "$serial"
expect_match "dnsmasq got the query from netstackd's namespace" \
  "query\[A\] web\.relay\.test from 10\.99\.0\.1" "$(cat "$WORK/dnsmasq.log")"

# 3. Download by name.
expect_no_match "wget reported no error" "^E2E-WGET-ERROR" "$serial"
expect_match "wget http://web.relay.test:8080/file.bin: $DOWNLOAD bytes, the file's sha256" \
  "^E2E-DOWNLOAD: size $DOWNLOAD sha256 $download_sum in [0-9]+ ms$" "$serial"
log "$(grep '^E2E-DOWNLOAD' <<<"$serial")"
expect_match "the HTTP server saw netstackd's namespace's address" \
  "^http from 10\.99\.0\.1: \"GET /file\.bin HTTP/1\.[01]\" 200" "$(cat "$WORK/servers.log")"

# 4. Upload.
sent=$(sed -n 's/^E2E-UPLOAD-SENT: size \([0-9]*\) sha256 \([0-9a-f]\{64\}\)$/\1 \2/p' <<<"$serial")
[[ -n "$sent" ]] || fail "the guest says what it uploads" "E2E-UPLOAD-SENT: size N sha256 X" \
  "$(grep '^E2E-UPLOAD' <<<"$serial")"
upload_sum=${sent#* }
expect_eq "the guest uploads $UPLOAD bytes" "$UPLOAD" "${sent% *}"
expect_match "the sink got them all (its sha256)" \
  "^sink from 10\.99\.0\.1: size $UPLOAD sha256 $upload_sum$" "$(cat "$WORK/servers.log")"
expect_match "after its half-close the guest got the sink's answer" \
  "^E2E-UPLOAD-ANSWER: $upload_sum in [0-9]+ ms$" "$serial"
log "$(grep '^E2E-UPLOAD-ANSWER' <<<"$serial")"

# 5. Ping.
expect_match "ping of the remote host: three replies" \
  "^E2E-PING: 3 packets transmitted, 3 packets received, 0% packet loss$" "$serial"
expect_match "ping: the replies come from 10.99.0.2" "^E2E-PING: [0-9]+ bytes from 10\.99\.0\.2: seq=0" "$serial"

# 6. UDP.
expect_match "a UDP datagram to the echo server comes back" \
  "^E2E-UDP-ECHO: status 0 Server:[[:space:]]+10\.99\.0\.2:7007" "$serial"
expect_match "the echo server got it from netstackd's namespace" "^udp from 10\.99\.0\.1:[0-9]+ [0-9]+ bytes$" \
  "$(cat "$WORK/servers.log")"
expect_match "a UDP datagram to a closed port: refused (ICMP port unreachable)" \
  "^E2E-UDP-CLOSED: status 1 .*Connection refused" "$serial"

# 7. A closed TCP port.
refused=$(grep '^E2E-REFUSED' <<<"$serial" || true)
expect_match "nc to a closed port: connection refused" "^E2E-REFUSED: status 1 in [0-9]+ ms: .*Connection refused$" \
  "$refused"
refused_ms=$(sed -n 's/^E2E-REFUSED: status [0-9]* in \([0-9]*\) ms.*/\1/p' <<<"$refused")
expect_le "  ... within 5000 ms, a RST and not a timeout (ms)" 5000 "$refused_ms"

# 8. The daemon's view.
json=$(daemon_status_json)
expect_ge "relay_tcp.opened (download, upload)" 2 "$(status_value 's["counters"]["relay_tcp"]["opened"]' "$json")"
expect_eq "relay_tcp.refused" 1 "$(status_value 's["counters"]["relay_tcp"]["refused"]' "$json")"
expect_ge "relay_tcp.closed" 2 "$(status_value 's["counters"]["relay_tcp"]["closed"]' "$json")"
expect_ge "relay_udp.datagrams_sent" 2 "$(status_value 's["counters"]["relay_udp"]["datagrams_sent"]' "$json")"
expect_ge "relay_udp.datagrams_received" 1 "$(status_value 's["counters"]["relay_udp"]["datagrams_received"]' "$json")"
expect_ge "relay_udp.refusals_sent (nslookup asks twice)" 1 \
  "$(status_value 's["counters"]["relay_udp"]["refusals_sent"]' "$json")"
expect_ge "relay_icmp.replies_received" 3 "$(status_value 's["counters"]["relay_icmp"]["replies_received"]' "$json")"
expect_ge "dns.queries_udp" 2 "$(status_value 's["counters"]["dns"]["queries_udp"]' "$json")"
expect_ge "dns.answers" 2 "$(status_value 's["counters"]["dns"]["answers"]' "$json")"
expect_eq "the guest's lease in status" "10.0.2.15 $GUEST_MAC" \
  "$(status_value '" ".join(l["ip"] + " " + l["mac"] for l in s["dhcp_server"]["leases"])' "$json")"
daemon_alive || fail "netstackd still runs after the guest left"
ok "netstackd still runs after the guest left"
daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
