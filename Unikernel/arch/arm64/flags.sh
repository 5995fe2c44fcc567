# Sourced by Unikernel/build.sh: how to build for a Xen arm64 guest (see README.md here).
TRIPLE=aarch64-none-none-elf
# start.S and arch.c set up their own state; nothing special for the Swift code (FP/SIMD is on,
# unaligned accesses and atomics are fine: RAM is mapped Normal write-back).
ARCH_CFLAGS=()
ARCH_SWIFTFLAGS=()
# xl loads arm64 guests in the Linux Image format: linker.ld puts the Image header first and
# links at 0x40080000; llvm-objcopy -O binary gives the file xl's kernel= takes.
IMAGE_FORMAT=binary
