# Sourced by Unikernel/build.sh: how to build for x86_64 PVH (see ../ABI.md, "Building").
TRIPLE=x86_64-unknown-none-elf
ARCH_CFLAGS=(-mno-red-zone)
ARCH_SWIFTFLAGS=(-Xcc -mno-red-zone)
# xl loads the ELF image itself (PVH: XEN_ELFNOTE_PHYS32_ENTRY).
IMAGE_FORMAT=elf
