#!/bin/bash
# Links Embedded Swift objects (and any other aarch64 objects or archives: the shared runtime,
# libswiftUnicodeDataTables.a, ...) with the arm64 start-of-day code into a Xen arm64 guest
# image in the arm64 Linux Image format that xl loads.
#
#   Unikernel/arch/arm64/build.sh OUTDIR INPUT.o|INPUT.a...
#
# Inputs: objects built for aarch64-none-none-elf, e.g. with
#   swiftc -enable-experimental-feature Embedded -wmo -parse-as-library \
#     -target aarch64-none-none-elf -Osize -Xcc -ffreestanding -Xfrontend -disable-stack-protector -c ...
# and C with "$SWIFT_BIN/clang" $ARM64_CFLAGS (printed by `build.sh --cflags`).
# Together they must define unikernel_main and what Embedded Swift asks for (malloc, memcpy...).
# Outputs: OUTDIR/unikernel-arm64.elf (with symbols), OUTDIR/Image (what xl's kernel= takes).
# Environment: SWIFT_BIN (folder with clang, ld.lld, llvm-objcopy; default: next to swiftc).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
C=${SWIFT_BIN:-$(dirname "$(command -v swiftc)")}
# the same flags as Unikernel/build.sh
CFLAGS="--target=aarch64-none-none-elf -ffreestanding -fno-builtin -nostdlib -fno-stack-protector -O2 -Wall -Werror"
if [ "${1:-}" = "--cflags" ]; then echo "$CFLAGS"; exit 0; fi
[ $# -ge 2 ] || { echo "usage: $0 OUTDIR INPUT.o|INPUT.a..." >&2; exit 2; }
OUT=$1; shift
mkdir -p "$OUT/arch"
"$C/clang" $CFLAGS -c "$HERE/start.S" -o "$OUT/arch/start.o"
"$C/clang" $CFLAGS -c "$HERE/arch.c" -o "$OUT/arch/arch.o"
"$C/ld.lld" -static -nostdlib -T "$HERE/linker.ld" --gc-sections -Map "$OUT/unikernel-arm64.map" \
  "$OUT/arch/start.o" "$OUT/arch/arch.o" --start-group "$@" --end-group -o "$OUT/unikernel-arm64.elf"
"$C/llvm-objcopy" -O binary "$OUT/unikernel-arm64.elf" "$OUT/Image"
echo "$OUT/Image: $(stat -c %s "$OUT/Image") bytes (image_size with .bss, stack and page tables:" \
  "$(( $("$C/llvm-nm" "$OUT/unikernel-arm64.elf" | awk '$3=="_image_end"{print "0x"$1}') - 0x40080000 )))"
