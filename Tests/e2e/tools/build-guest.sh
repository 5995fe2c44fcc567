#!/usr/bin/env bash
# Builds (or finds in its cache) the QEMU guest of Tests/e2e/test-qemu.sh: Debian's kernel and a
# busybox initramfs whose /init is tools/guest-init.sh (and /relay.sh tools/guest-relay.sh, the
# steps of test-qemu-relay).
#
# Usage: build-guest.sh CACHE_DIR
#
# The kernel comes from the package linux-image-amd64 depends on (linux-image-<abi>-amd64):
# its .deb is downloaded with `apt-get download` and only unpacked (vmlinuz and the eight
# virtio-net modules) into CACHE_DIR; nothing is installed on the host. busybox is the host's
# busybox-static. The initramfs is rebuilt when the kernel, busybox, guest-init.sh or
# guest-relay.sh change.
# Prints two lines: "kernel PATH" and "initramfs PATH". Runs under flock, so concurrent runs
# share one cache.
set -euo pipefail

CACHE=${1:?usage: build-guest.sh CACHE_DIR}
TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net"

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9

# The kernel package: what linux-image-amd64 depends on.
kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null \
    | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
package=$(kernel_package)
if [[ -z "$package" ]]; then
  apt-get update -qq >&2
  package=$(kernel_package)
fi
[[ -n "$package" ]] || { echo "build-guest: apt knows no linux-image-amd64" >&2; exit 1; }
version=$(apt-cache policy "$package" | awk '$1 == "Candidate:" { print $2 }')
kernel_dir="$CACHE/$package-$version"

if [[ ! -f "$kernel_dir/done" ]]; then
  echo "build-guest: downloading $package $version" >&2
  rm -rf "$kernel_dir"
  mkdir -p "$kernel_dir/deb" "$kernel_dir/modules"
  # apt-get download runs its fetcher as user _apt, which must be able to write here.
  chmod 777 "$kernel_dir/deb"
  (cd "$kernel_dir/deb" && apt-get download -q "$package=$version" >&2)
  deb=$(ls "$kernel_dir"/deb/*.deb)
  mkdir -p "$kernel_dir/tree"
  # Only the kernel and the modules ('*' matches across directories).
  patterns=(--wildcards './boot/vmlinuz-*')
  for module in $MODULES; do patterns+=("*/$module.ko"); done
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kernel_dir/tree" "${patterns[@]}"
  cp "$kernel_dir"/tree/boot/vmlinuz-* "$kernel_dir/vmlinuz"
  for module in $MODULES; do
    file=$(find "$kernel_dir/tree/lib/modules" -name "$module.ko" | head -n 1)
    [[ -n "$file" ]] || { echo "build-guest: $package has no $module.ko" >&2; exit 1; }
    cp "$file" "$kernel_dir/modules/"
  done
  rm -rf "$kernel_dir/tree" "$kernel_dir/deb"
  touch "$kernel_dir/done"
fi

# The initramfs: busybox, the modules, /init; named by what it is made of.
busybox=/bin/busybox
[[ -x "$busybox" ]] || { echo "build-guest: $busybox missing (busybox-static)" >&2; exit 1; }
key=$( (sha256sum "$TOOLS/guest-init.sh" "$TOOLS/guest-relay.sh" "$busybox" \
  "$kernel_dir/modules"/*.ko; echo "$MODULES") \
  | sha256sum | cut -c1-16)
initramfs="$CACHE/initramfs-$key.cpio.gz"
if [[ ! -f "$initramfs" ]]; then
  echo "build-guest: packing $initramfs" >&2
  root=$(mktemp -d "$CACHE/root.XXXXXX")
  mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,lib/modules}
  cp "$busybox" "$root/bin/busybox"
  cp "$kernel_dir"/modules/*.ko "$root/lib/modules/"
  cp "$TOOLS/guest-init.sh" "$root/init"
  cp "$TOOLS/guest-relay.sh" "$root/relay.sh"
  chmod 755 "$root/init" "$root/bin/busybox"
  mknod -m 600 "$root/dev/console" c 5 1
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$initramfs.tmp"
  mv "$initramfs.tmp" "$initramfs"
  rm -rf "$root"
  # Old initramfs files of other inputs are of no further use.
  find "$CACHE" -maxdepth 1 -name 'initramfs-*.cpio.gz' ! -name "$(basename "$initramfs")" -delete
fi
echo "kernel $kernel_dir/vmlinuz"
echo "initramfs $initramfs"
