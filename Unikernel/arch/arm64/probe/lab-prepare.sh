#!/bin/bash
# One-time preparation (what was actually run). Host: Debian 12 x86_64, root.
# arm64 .debs are fetched with a private lists dir; the system apt config is untouched; nothing arm64 is installed.
set -e
P=${XENLAB_ARM:-/var/cache/netstack-unikernel-arm64}; mkdir -p $P/lists/partial $P/debs $P/stage $P/bb; cd $P
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends qemu-system-arm cpio xz-utils kmod bc binutils
o="-oAPT::Architecture=arm64 -oAPT::Architectures=arm64 -oDir::State::Lists=$P/lists"
apt-get $o update
KPKG=$(apt-cache $o search '^linux-image-6.1.0-[0-9]+-arm64-unsigned$' | awk '{print $1}' | sort -V | tail -1)
(cd debs && apt-get $o download xen-hypervisor-4.17-arm64 $KPKG busybox-static xen-utils-4.17 xen-utils-common \
   xenstore-utils libxencall1 libxendevicemodel1 libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenhypfs1 \
   libxenmisc4.17 libxenstore4 libxentoollog1 libxentoolcore1 libyajl2 libc6 libgcc-s1 libext2fs2 libfdt1 \
   libncurses6 libtinfo6 libuuid1 zlib1g libcom-err2 libblkid1 liblzma5 libzstd1 libbz2-1.0 liblzo2-2 libgnutls30)
for d in debs/*.deb; do case $d in *busybox*) dpkg-deb -x $d bb ;; *) dpkg-deb -x $d stage ;; esac; done
KV=$(ls stage/lib/modules | head -1); depmod -b stage $KV
# stage/boot/xen-4.17-arm64 is an arm64 "Image" (Linux boot protocol): qemu -kernel loads it as is.
# stage/boot/vmlinuz-$KV is an uncompressed arm64 Image (~32 MB).
