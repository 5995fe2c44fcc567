#!/bin/bash
# Builds the dom0 initramfs that boots a unikernel Image with xl (adapted from
# ../../../../../shared/xen-lab/arm64/build.sh: busybox-static + Debian arm64 binaries, no cross
# compiler; the domU Linux is gone).
#   GUEST_IMAGE=path/to/Image  GUEST_EXTRA="ip=10.0.0.2/24"  DOM0_TEST=path/to/script  lab-dom0.sh
# DOM0_TEST is a shell script run by dom0's init after the toolstack is up; it finds the guest
# at /guest/Image and its configuration at /guest/unikernel.cfg (domain name "unikernel").
set -euo pipefail
P=${XENLAB_ARM:-/var/cache/netstack-unikernel-arm64}
S=$P/stage
KV=$(ls $S/lib/modules | head -1)
M=$S/lib/modules/$KV/kernel
BB=$P/bb/bin/busybox
LA=usr/lib/aarch64-linux-gnu
D=${DOM0_ROOT:-$P/dom0-root}
OUTCPIO=$(realpath -m "${DOM0_CPIO:-$P/dom0-initrd.cpio}")

rm -rf "$D"; mkdir -p "$D"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,mods,usr/bin,usr/sbin,$LA,var,guest}
ln -s usr/lib "$D/lib"
cp $BB "$D/bin/busybox"
for a in sh ash mount umount echo cat ls mkdir rm ln cp mv sleep ip ping insmod modprobe lsmod dmesg grep sed awk \
         cut seq basename dirname readlink poweroff reboot sync find ps kill uname ifconfig tail head date true false \
         test [ printf env chmod hexdump xxd od wc tr mknod stat free uptime md5sum wget nc timeout expr; do
  [ -e "$D/bin/$a" ] || ln -s busybox "$D/bin/$a"
done
for m in drivers/xen/xen-evtchn drivers/xen/xen-gntdev drivers/xen/xen-gntalloc drivers/xen/xen-privcmd \
         drivers/xen/xenfs/xenfs drivers/net/xen-netback/xen-netback; do
  cp $M/$m.ko $D/mods/
done
XB=$S/usr/lib/xen-4.17/bin
mkdir -p $D/usr/lib/xen-4.17/bin $D/etc/xen/scripts $D/var/lib/xen $D/var/lib/xenstored $D/var/log/xen $D/var/lock
for b in xl xenstored xenconsoled xen-init-dom0; do cp $XB/$b $D/usr/lib/xen-4.17/bin/; ln -sf ../lib/xen-4.17/bin/$b $D/usr/sbin/$b; done
cp $S/usr/bin/xenstore $D/usr/bin/
for a in read write ls list rm exists chmod watch; do ln -sf xenstore $D/usr/bin/xenstore-$a; done
cp $S/etc/xen/xl.conf $D/etc/xen/
# shared-library closure of the arm64 binaries (readelf NEEDED, resolved in the staged libs)
todo=($D/usr/lib/xen-4.17/bin/* $D/usr/bin/xenstore); seen=" "
while [ ${#todo[@]} -gt 0 ]; do
  f=${todo[0]}; todo=("${todo[@]:1}")
  for n in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    case "$seen" in *" $n "*) continue ;; esac; seen="$seen$n "
    for p in $S/lib/aarch64-linux-gnu/$n $S/$LA/$n; do
      if [ -e "$p" ]; then cp -L "$p" "$D/$LA/$n"; todo+=("$p"); break; fi
    done
    [ -e "$D/$LA/$n" ] || echo "WARNING: $n not found" >&2
  done
done
cp -L $S/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1 "$D/$LA/"
ln -sf aarch64-linux-gnu/ld-linux-aarch64.so.1 "$D/usr/lib/ld-linux-aarch64.so.1"
cp -L $S/lib/aarch64-linux-gnu/libgcc_s.so.1 $D/$LA/   # glibc dlopen()s it for pthread_cancel

cp "$GUEST_IMAGE" $D/guest/Image
cat > $D/guest/unikernel.cfg <<CEOF
name = "unikernel"
type = "pvh"
kernel = "/guest/Image"
extra = "${GUEST_EXTRA:-}"
memory = ${GUEST_MEMORY:-64}
vcpus = 1
vif = [ 'mac=00:16:3e:00:00:02,script=/etc/xen/scripts/vif-probe' ]
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
CEOF
cat > $D/etc/xen/scripts/vif-probe <<'IEOF'
#!/bin/sh
echo "VIF-SCRIPT: $1 vif=$vif XENBUS_PATH=$XENBUS_PATH" > /dev/console
case "$1" in
  online|add)
    ip link set "$vif" up
    ip addr add 10.0.0.1/24 dev "$vif"
    xenstore-write "$XENBUS_PATH/hotplug-status" connected ;;
esac
exit 0
IEOF
chmod +x $D/etc/xen/scripts/vif-probe
cp "$DOM0_TEST" $D/dom0-test; chmod +x $D/dom0-test
cat > $D/init <<'IEOF'
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/pts; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /tmp
mkdir -p /run/xen /run/xenstored; rm -rf /var/run; ln -s /run /var/run
echo "DOM0: userspace up, uptime $(cut -d' ' -f1 /proc/uptime)"
for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-netback; do insmod /mods/$m.ko || echo "DOM0: insmod $m failed"; done
mount -t xenfs xenfs /proc/xen
ip link set lo up
xenstored --pid-file /run/xenstored.pid || echo "DOM0: xenstored failed"
xen-init-dom0 || echo "DOM0: xen-init-dom0 failed"
xenconsoled --log=guest --log-dir=/var/log/xen || echo "DOM0: xenconsoled failed"
echo "DOM0: toolstack up, uptime $(cut -d' ' -f1 /proc/uptime)"
/dom0-test
echo "DOM0: test finished, rc=$?, uptime $(cut -d' ' -f1 /proc/uptime)"
sync; reboot -f
IEOF
chmod +x $D/init
(cd $D && find . | cpio -o -H newc --quiet > "$OUTCPIO")
ls -la "$OUTCPIO"
