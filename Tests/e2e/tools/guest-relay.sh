# The relay steps of the QEMU guest of Tests/e2e/test-qemu-relay.sh, sourced by /init
# (tools/guest-init.sh) when the kernel command line says e2e.mode=relay, once eth0 is up and
# before any address is set. busybox only; every result is a line starting with "E2E-" on the
# serial console. Parameters (kernel command line):
#   e2e.name=NAME        the name of the remote host, resolved through the stack's DNS
#   e2e.remote=ADDR      the remote host's address (ping, the sink, the UDP echo server)
#   e2e.file=PATH        the file to download: http://NAME:8080/PATH
#   e2e.upload=N         bytes to upload to the sink (remote port 9100, answers their sha256)
#   e2e.closed=PORT      a closed TCP port of the remote host
# (busybox-static 1.35's nc has no -u: the UDP echo goes through nslookup, whose query to
# ADDR:PORT the echo server sends back unchanged.)

name=""
remote=""
file=""
upload=0
closed=""
for word in $(cat /proc/cmdline); do
  case "$word" in
    e2e.name=*) name=${word#e2e.name=} ;;
    e2e.remote=*) remote=${word#e2e.remote=} ;;
    e2e.file=*) file=${word#e2e.file=} ;;
    e2e.upload=*) upload=${word#e2e.upload=} ;;
    e2e.closed=*) closed=${word#e2e.closed=} ;;
  esac
done

# uptime_ms: the time since boot, in milliseconds.
uptime_ms() {
  awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# 1. The lease, by DHCP: udhcpc runs the script below, which prints the lease and configures it.
cat >/tmp/udhcpc.script <<'SCRIPT'
#!/bin/sh
case "$1" in
  bound|renew)
    echo "E2E-LEASE: $1 ip=$ip mask=$mask router=$router dns=$dns" >/dev/console
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    ip route replace default via "$router" dev "$interface"
    : >/etc/resolv.conf
    for server in $dns; do echo "nameserver $server" >>/etc/resolv.conf; done
    ;;
esac
SCRIPT
chmod 755 /tmp/udhcpc.script
mkdir -p /etc
timeout 60 udhcpc -f -q -n -i eth0 -t 10 -T 2 -s /tmp/udhcpc.script >/tmp/udhcpc.out 2>&1
echo "E2E-DHCP-STATUS: $?"
sed 's/^/E2E-UDHCPC: /' /tmp/udhcpc.out
echo "E2E-ROUTE: $(ip route show default)"
echo "E2E-RESOLV: $(cat /etc/resolv.conf | tr '\n' ' ')"

# 2. The name, through the DNS address of the lease (/etc/resolv.conf).
timeout 20 nslookup -type=a "$name" 2>&1 | sed 's/^/E2E-NSLOOKUP: /'

# 3. The download, by name.
started=$(uptime_ms)
timeout 90 wget -q -O /tmp/download "http://$name:8080/$file" 2>&1 | sed 's/^/E2E-WGET-ERROR: /'
took=$(($(uptime_ms) - started))
sum=$(sha256sum </tmp/download | cut -d' ' -f1)
echo "E2E-DOWNLOAD: size $(wc -c </tmp/download) sha256 $sum in $took ms"
rm -f /tmp/download

# 4. The upload: the sink answers the sha256 of what it read until the guest's end of stream
# (busybox nc shuts down its sending side at the end of its input).
head -c "$upload" /dev/urandom >/tmp/upload
echo "E2E-UPLOAD-SENT: size $(wc -c </tmp/upload) sha256 $(sha256sum </tmp/upload | cut -d' ' -f1)"
started=$(uptime_ms)
answer=$(timeout 90 nc "$remote" 9100 </tmp/upload 2>&1)
echo "E2E-UPLOAD-ANSWER: $answer in $(($(uptime_ms) - started)) ms"
rm -f /tmp/upload

# 5. Ping the remote host.
ping -c 3 -W 5 "$remote" 2>&1 | sed 's/^/E2E-PING: /'

# 6. UDP: a datagram to the echo server comes back; one to a closed port is refused.
timeout 20 nslookup -type=a echo.test "$remote:7007" >/tmp/udp.out 2>&1
echo "E2E-UDP-ECHO: status $? $(tr '\n' ' ' </tmp/udp.out)"
timeout 20 nslookup -type=a echo.test "$remote:7008" >/tmp/udp.out 2>&1
echo "E2E-UDP-CLOSED: status $? $(tr '\n' ' ' </tmp/udp.out)"

# 7. A closed TCP port: refused at once (a RST), not after a timeout.
started=$(uptime_ms)
answer=$(timeout 30 nc "$remote" "$closed" </dev/null 2>&1)
status=$?
echo "E2E-REFUSED: status $status in $(($(uptime_ms) - started)) ms: $answer"
