#!/bin/busybox sh
# /init of the QEMU guest that Tests/e2e/test-qemu.sh boots (packed by build-guest.sh).
#
# Loads the virtio-net modules, gives eth0 the address from the kernel command line, pings the
# Swift stack, fetches its HTTP page and a /bytes/N download with busybox wget, and prints
# what happened on the serial console as lines starting with "E2E-" for the test to read;
# then powers off. With e2e.mode=relay (Tests/e2e/test-qemu-relay.sh) it runs the steps of
# /relay.sh (tools/guest-relay.sh) instead, once eth0 is up. Parameters (kernel command line):
#   e2e.mode=relay       the relay steps instead of the ones below
#   e2e.ip=ADDR/PREFIX   the guest's address
#   e2e.stack=ADDR       the stack's address
#   e2e.bytes=N          the size of the /bytes/N download
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys

mode=""
ip=""
stack=""
bytes=1048576
for word in $(cat /proc/cmdline); do
  case "$word" in
    e2e.mode=*) mode=${word#e2e.mode=} ;;
    e2e.ip=*) ip=${word#e2e.ip=} ;;
    e2e.stack=*) stack=${word#e2e.stack=} ;;
    e2e.bytes=*) bytes=${word#e2e.bytes=} ;;
  esac
done
echo "E2E-BOOT: kernel $(uname -r), up $(cut -d' ' -f1 /proc/uptime) s, ip $ip, stack $stack"

finish() {
  echo "E2E-DONE: up $(cut -d' ' -f1 /proc/uptime) s"
  sync
  poweroff -f
}

for module in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover \
  net_failover virtio_net; do
  insmod "/lib/modules/$module.ko" || echo "E2E-FAIL: insmod $module"
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do
  sleep 0.1
  i=$((i + 1))
done
if [ ! -e /sys/class/net/eth0 ]; then
  echo "E2E-FAIL: no eth0 (interfaces: $(ls /sys/class/net))"
  finish
fi
ip link set lo up
ip link set eth0 up
if [ "$mode" = relay ]; then
  . /relay.sh
  finish
fi
ip addr add "$ip" dev eth0
echo "E2E-NET: eth0 $(cat /sys/class/net/eth0/address) $ip"

# ping: the first echo may wait for ARP; three must come back.
ping -c 3 -W 5 "$stack" 2>&1 | sed 's/^/E2E-PING: /'
echo "E2E-PING-STATUS: $(ping -c 1 -W 5 "$stack" >/dev/null 2>&1 && echo ok || echo failed)"

# The page, between markers, as wget got it. (No wget -T: Debian's busybox-static 1.35 wget
# crashes with it; busybox timeout bounds each transfer instead.)
echo "E2E-WGET-BEGIN"
timeout 20 wget -q -O - "http://$stack/" 2>&1
echo "E2E-WGET-END: status $?"

# A download: its size and MD5, compared by the test with what /bytes/N must be.
timeout 60 wget -q -O /tmp/bytes "http://$stack/bytes/$bytes" 2>&1
status=$?
echo "E2E-BYTES: status $status size $(wc -c </tmp/bytes) md5 $(md5sum </tmp/bytes | cut -d' ' -f1)"

# A missing page: wget reports the 404.
echo "E2E-404: $(timeout 20 wget -q -O /dev/null "http://$stack/no-such-page" 2>&1 || true)"
finish
