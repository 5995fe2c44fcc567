#!/usr/bin/env bash
# QEMU interop: a Linux guest (Debian's kernel, a busybox initramfs built by tools/build-guest.sh
# and cached in $E2E_GUEST_CACHE) runs under qemu-system-x86_64 with TCG, its only network a
# virtio-net device on `-netdev stream` to netstackd --unix-listen (a socket in the test's
# private work directory). The guest's init (tools/guest-init.sh) configures its address, pings
# the Swift stack, fetches its page and /bytes/N with busybox wget, asks for a missing page, and
# powers off; the test reads the results from the guest's serial output and checks the daemon's
# counters and pcap. QEMU and the daemon both run inside the test's namespace (QEMU has no other
# network device: -nodefaults -nic none), so nothing can reach beyond it.
#
# Environment: E2E_GUEST_CACHE  where the kernel and initramfs are kept (default
#                               .build-e2e-guest in the repository, git-ignored).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/qemu-guest.sh"
e2e_begin qemu

for tool in qemu-system-x86_64 apt-get dpkg-deb cpio gzip flock md5sum tshark; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
GUEST_IP=10.77.0.10
BYTES=1048576
MAC=02:00:00:e2:e0:9e
GUEST_MAC=52:54:00:e2:e0:9f

# --- The guest: kernel and initramfs, from the cache when they are there. ---------------------
qemu_guest_build
sed 's/^/    /' "$WORK/build-guest.err"

# --- The daemon, listening on a socket only this test can reach. ------------------------------
mkdir -m 700 "$WORK/link"
SOCKET="$WORK/link/netstackd.sock"
daemon_start --unix-listen "$SOCKET" --ip "$STACK_IP/$PREFIX" --mac "$MAC" \
  --pcap "$WORK/stack.pcap" --control "$WORK/control.sock"
wait_for_line "$DAEMON_OUT" "serving" 20 >/dev/null
[[ -S "$SOCKET" ]] || fail "netstackd listens on $SOCKET"
ok "netstackd listens on $SOCKET"

# --- The guest boots, works, powers off. ------------------------------------------------------
qemu_guest_run "$SOCKET" "$GUEST_MAC" 180 \
  "console=ttyS0 panic=-1 quiet e2e.ip=$GUEST_IP/$PREFIX e2e.stack=$STACK_IP e2e.bytes=$BYTES"
serial=$SERIAL
log "--- guest serial output (its E2E lines and the page wget fetched) ---"
awk '/^E2E-WGET-BEGIN$/ { page = 1 } page || /^E2E-/ { print "    | " $0 } /^E2E-WGET-END/ { page = 0 }' \
  <<<"$serial"

expect_match "the guest booted" "^E2E-BOOT: kernel [0-9]" "$serial"
expect_no_match "no step of the guest failed" "^E2E-FAIL" "$serial"
expect_match "the guest has eth0 with its address" "^E2E-NET: eth0 $GUEST_MAC $GUEST_IP/$PREFIX$" "$serial"
expect_match "ping: 3 echo replies from the stack" \
  "^E2E-PING: 3 packets transmitted, 3 packets received, 0% packet loss$" "$serial"
expect_match "ping: a reply line" "^E2E-PING: [0-9]+ bytes from $STACK_IP: seq=0 ttl=64 time=" "$serial"
expect_match "ping: once more after the exchange" "^E2E-PING-STATUS: ok$" "$serial"
page=$(sed -n '/^E2E-WGET-BEGIN$/,/^E2E-WGET-END/p' <<<"$serial")
expect_match "wget: the page's heading" "^<body><h1>netstack</h1>$" "$page"
expect_match "wget: served by the stack over the socket" \
  "served by netstack, a TCP/IP stack written in Swift, running on netstack over Unix socket $SOCKET" \
  "$page"
expect_match "wget: the page ends" "^</body></html>$" "$page"
expect_match "wget exited 0" "^E2E-WGET-END: status 0$" "$page"
expected_md5=$("$PYTHON" - "$BYTES" <<'EOF'
import hashlib, sys
line = b"netstack: a TCP/IP stack in Swift. 0123456789abcdefghijklmnopqrstuvwxyz\n"
n = int(sys.argv[1])
data = (line * (n // len(line) + 1))[:n]
print(hashlib.md5(data).hexdigest())
EOF
)
expect_match "wget /bytes/$BYTES: the exact size and content" \
  "^E2E-BYTES: status 0 size $BYTES md5 $expected_md5$" "$serial"
expect_match "wget of a missing page: 404" "^E2E-404: .*404 Not Found" "$serial"
expect_match "the guest finished its steps" "^E2E-DONE: up [0-9.]+ s$" "$serial"

# The daemon saw the guest come and go, and keeps listening for the next one.
status_text=$("$NETSTACKD" status --control "$WORK/control.sock")
expect_match "status: the guest's address in the ARP table" "^  $GUEST_IP  $GUEST_MAC  " "$status_text"
daemon_alive || fail "netstackd still runs after the guest left"
ok "netstackd still runs after the guest left"
daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
[[ ! -e "$SOCKET" ]] || fail "the socket file is removed on exit" "no $SOCKET" "it is there"
ok "the socket file is removed on exit"
expect_ge "icmp.echo_replies_sent" 4 "$(counter icmp.echo_replies_sent)"
expect_ge "tcp.passive_opens (page, bytes, 404)" 3 "$(counter tcp.passive_opens)"

# The pcap: ping and HTTP as tshark reads them, nothing malformed. tshark must read the file:
# an error is a failure, not an empty (and so passing) answer.
TSHARK=(tshark -n -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE)
# pcap_fields OUT FILTER FIELD: FIELD of every frame of the pcap that matches FILTER, into OUT.
pcap_fields() {
  "${TSHARK[@]}" -r "$WORK/stack.pcap" -Y "$2" -T fields -e "$3" >"$1" 2>"$WORK/tshark.err" \
    || fail "tshark could not read stack.pcap (filter $2)" "exit 0" "$(cat "$WORK/tshark.err")"
}
pcap_fields "$WORK/replies" "eth.src == $MAC && icmp.type == 0 && ip.dst == $GUEST_IP && icmp.checksum.status == 1" frame.number
expect_ge "echo replies to the guest in the pcap" 4 "$(wc -l <"$WORK/replies")"
pcap_fields "$WORK/codes" "eth.src == $MAC && http.response" http.response.code
expect_eq "HTTP responses in the pcap" "200x2 404x1" "$(sort "$WORK/codes" | uniq -c | awk '{print $2 "x" $1}' | xargs)"
pcap_fields "$WORK/bad" "_ws.malformed || (eth.src == $MAC && (ip.checksum.status == 0 || tcp.checksum.status == 0))" frame.number
expect_eq "malformed frames or bad checksums from the stack" "" "$(xargs <"$WORK/bad")"
