#!/bin/bash
# The arm64 start-of-day probe, from scratch: fetch the lab's Debian arm64 packages (once, cached
# in $XENLAB_ARM), build the probe (Embedded Swift + ../start.S + ../arch.c) into an arm64 Image,
# build a dom0 initramfs that runs `xl create` on it, boot Xen 4.17 arm64 + dom0 in
# qemu-system-aarch64 (TCG, -nic none), and check the guest's console.
#   Unikernel/arch/arm64/probe/run-probe.sh        (exit status 0 when every check passed)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
export XENLAB_ARM=${XENLAB_ARM:-/var/cache/netstack-unikernel-arm64}
C=${SWIFT_BIN:-$(dirname "$(command -v swiftc)")}
B=${BUILD:-$ROOT/.build-unikernel-arm64/probe}
LOG=${LOG:-$B/serial.log}
mkdir -p "$B"

[ -e "$XENLAB_ARM/stage/boot/xen-4.17-arm64" ] && [ -e "$XENLAB_ARM/bb/bin/busybox" ] ||
  bash "$HERE/lab-prepare.sh"

T0=$EPOCHREALTIME
"$C/swiftc" -enable-experimental-feature Embedded -enable-experimental-feature Extern -wmo -parse-as-library \
  -target aarch64-none-none-elf -Osize -Xcc -ffreestanding -Xfrontend -disable-stack-protector \
  -c "$HERE/probe.swift" -o "$B/probe.o"
"$C/clang" $("$HERE/../build.sh" --cflags) -c "$HERE/runtime.c" -o "$B/runtime.o"
"$HERE/../build.sh" "$B" "$B/probe.o" "$B/runtime.o"
echo "build: $(echo "$EPOCHREALTIME - $T0" | bc) s"

# PROBE_TRAP=1: the probe ends in a Swift trap instead (checks the exception path; expect the
# trap checks to pass and "shutdown requested" to fail)
GUEST_EXTRA="ip=10.0.0.2/24 probe${PROBE_TRAP:+ trap!}"
GUEST_IMAGE=$B/Image DOM0_TEST=$HERE/dom0-probe-test.sh GUEST_EXTRA="$GUEST_EXTRA" \
  DOM0_CPIO=$B/dom0-initrd.cpio DOM0_ROOT=$B/dom0-root "$HERE/lab-dom0.sh" >/dev/null
LOG=$LOG DOM0_CPIO=$B/dom0-initrd.cpio "$HERE/lab-run.sh"
sed -n '/DOM0: xl create at/,/end unikernel console/p' "$LOG"

fail=0
check() { grep -q -- "$1" "$LOG" && echo "ok:   $2" || { echo "FAIL: $2"; fail=1; }; }
check "hello from Swift on arm64" "hello on the Xen console"
check "clock: [0-9]* ns, then [0-9]* ns" "clock read twice"
check "xenstore name = unikernel" "xenstore name"
check "xenstore device/vif/0/backend = /local/domain/0/backend/vif/" "xenstore device/vif/0/backend"
check "SCHEDOP_shutdown(poweroff)" "shutdown requested"
check "DOM0: unikernel gone" "domain gone (powered off, on_poweroff=destroy)"
if [ -n "${PROBE_TRAP:-}" ]; then
  check "unikernel: synchronous exception from EL1: ESR 0x00000000f2" "the trap reported (ESR class 0x3c, brk)"
  check "probe: CRASH: Swift trap (brk) at pc 0x" "runtime_crash called"
else
  grep -q "unikernel: .* exception" "$LOG" && { echo "FAIL: exception in the guest"; fail=1; }
fi
exit $fail
