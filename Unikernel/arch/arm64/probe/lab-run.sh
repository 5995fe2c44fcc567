#!/bin/bash
# Boots Xen 4.17 arm64 + the Linux arm64 dom0 with the initramfs of lab-dom0.sh under QEMU TCG
# (adapted from the lab's arm64/run.sh); QEMU has no network device (-nic none).
# The serial console, timestamped in seconds since QEMU started, goes to $LOG.
P=${XENLAB_ARM:-/var/cache/netstack-unikernel-arm64}
KV=$(ls $P/stage/lib/modules | head -1)
LOG=${LOG:-$P/serial.log}
TMO=${TMO:-300}
XENCMD="console=dtuart dtuart=/pl011@9000000 loglvl=all guest_loglvl=all dom0_mem=512M,max:512M dom0_max_vcpus=1 ${XENEXTRA:-}"
DOM0CMD="console=hvc0 earlycon=xenboot rdinit=/init quiet ${DOM0EXTRA:-}"
T0=$EPOCHREALTIME
timeout -k 5 $TMO nice -n 10 qemu-system-aarch64 \
  -M virt,virtualization=on,gic-version=3 -cpu ${CPU:-cortex-a57} -smp ${SMP:-1} -m 2048 \
  -display none -monitor none -nic none -no-reboot \
  -serial stdio \
  -kernel $P/stage/boot/xen-4.17-arm64 -append "$XENCMD" \
  -device guest-loader,addr=0x49000000,kernel=$P/stage/boot/vmlinuz-$KV,bootargs="$DOM0CMD" \
  -device guest-loader,addr=0x50000000,initrd=${DOM0_CPIO:-$P/dom0-initrd.cpio} </dev/null 2>&1 |
while IFS= read -r l; do printf '[%7.2f] %s\n' "$(echo "$EPOCHREALTIME - $T0" | bc)" "${l%$'\r'}"; done > $LOG
rc=${PIPESTATUS[0]}
echo "qemu rc=$rc wall=$(echo "$EPOCHREALTIME - $T0" | bc)s" | tee -a $LOG
