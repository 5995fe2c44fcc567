#!/bin/bash
# The shared unikernel (Unikernel/Main) on the arm64 lab, from scratch: build it with
# Unikernel/build.sh arm64 (into $UNIKERNEL_OUT, default .build-unikernel-arm64), boot Xen 4.17
# arm64 + dom0 under QEMU TCG (-nic none) with a dom0 that runs `xl create` on it
# (extra="ip=10.0.0.2/24"; the vif hotplug script gives dom0 10.0.0.1/24), pings it until it
# answers, pings 20 times, fetches / and /bytes/1000000 and echoes a line, then `xl shutdown`.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
export XENLAB_ARM=${XENLAB_ARM:-/var/cache/netstack-unikernel-arm64}
export UNIKERNEL_OUT=${UNIKERNEL_OUT:-$ROOT/.build-unikernel-arm64}
B=$UNIKERNEL_OUT/lab
LOG=${LOG:-$B/serial.log}
mkdir -p "$B"
[ -e "$XENLAB_ARM/stage/boot/xen-4.17-arm64" ] && [ -e "$XENLAB_ARM/bb/bin/busybox" ] ||
  bash "$HERE/lab-prepare.sh"
(cd "$ROOT" && Unikernel/build.sh arm64)
IMAGE=$UNIKERNEL_OUT/arm64/netstack-unikernel.img
GUEST_IMAGE=$IMAGE DOM0_TEST=$HERE/dom0-ping-test.sh GUEST_EXTRA="ip=10.0.0.2/24" \
  DOM0_CPIO=$B/dom0-initrd.cpio DOM0_ROOT=$B/dom0-root "$HERE/lab-dom0.sh" >/dev/null
LOG=$LOG DOM0_CPIO=$B/dom0-initrd.cpio "$HERE/lab-run.sh"
sed -n '/DOM0: xl create at/,/end unikernel console/p' "$LOG"
echo "image: $IMAGE, $(stat -c %s "$IMAGE") bytes"
fail=0
check() { grep -q -- "$1" "$LOG" && echo "ok:   $2" || { echo "FAIL: $2"; fail=1; }; }
check "DOM0: first ping answered" "first ping answered"
check "20 packets transmitted, 20 packets received" "ping -c 20: 20/20"
check "DOM0: echo: hello-echo" "TCP echo"
check "body 1000000 bytes" "GET /bytes/1000000: 1000000 bytes"
check "DOM0: BYTES-MD5-OK" "GET /bytes/1000000: md5 of the pattern"
check "netfront vif 0: Closed, backend Closed" "netfront closed (Closed, backend Closed)"
check "DOM0: unikernel gone" "xl shutdown: domain gone"
grep -q "CRASH\|FATAL" "$LOG" && { echo "FAIL: the unikernel crashed"; fail=1; }
exit $fail
