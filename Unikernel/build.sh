#!/usr/bin/env bash
# Builds the unikernel image for one architecture: the protocol modules, Drivers/Netfront,
# Unikernel/XenBareMetal and Unikernel/Main as Embedded Swift, the entry file
# (Unikernel/arch/include/Entry.swift), the shared C runtime (Unikernel/runtime) and the
# architecture's start-of-day code (Unikernel/arch/ARCH: *.S, *.c, linker.ld, flags.sh),
# linked with ld.lld into one static image. Prints the image's path and size.
#
# Usage: Unikernel/build.sh [x86_64|arm64]    (default x86_64)
#
# Output: .build-unikernel/ARCH/netstack-unikernel (ELF), and for IMAGE_FORMAT=binary (arm64)
# .build-unikernel/ARCH/netstack-unikernel.img (the raw image xl loads). Environment: SWIFTC,
# CLANG, LLD (default: the toolchain's), UNIKERNEL_OUT (default .build-unikernel),
# UNIKERNEL_OPTIMIZATION (swiftc's -Osize by default, or -O, for measuring).
set -euo pipefail

ARCH=${1:-x86_64}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
command -v swiftc >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
SWIFTC=${SWIFTC:-swiftc}
CLANG=${CLANG:-clang}
LLD=${LLD:-ld.lld}
ARCH_DIR=Unikernel/arch/$ARCH
[[ -f $ARCH_DIR/flags.sh ]] || { echo "build.sh: no $ARCH_DIR/flags.sh: unknown architecture '$ARCH'" >&2; exit 2; }
TRIPLE="" ARCH_CFLAGS=() ARCH_SWIFTFLAGS=() IMAGE_FORMAT=elf
# shellcheck source=/dev/null
source "$ARCH_DIR/flags.sh"
OUT=${UNIKERNEL_OUT:-.build-unikernel}/$ARCH
mkdir -p "$OUT"

# The Swift modules, in dependency order (as scripts/embedded-check builds them).
MODULES=(
  "NetCore Sources/NetCore" "Ethernet Sources/Ethernet" "ARP Sources/ARP"
  "IPv4OverEthernet Sources/IPv4OverEthernet" "IPv4 Sources/IPv4" "IPv6 Sources/IPv6" "UDP Sources/UDP"
  "TCP Sources/TCP" "DHCP Sources/DHCP" "Applications Sources/Applications"
  "NetStack Sources/NetStack" "Netfront Drivers/Netfront" "XenBareMetal Unikernel/XenBareMetal"
  "UnikernelMain Unikernel/Main"
)
case ${UNIKERNEL_OPTIMIZATION:--Osize} in
-Osize | -O) ;;
*) echo "build.sh: UNIKERNEL_OPTIMIZATION is -Osize or -O" >&2; exit 2 ;;
esac
SWIFTFLAGS=(-enable-experimental-feature Embedded -enable-experimental-feature Lifetimes
  -wmo -parse-as-library "${UNIKERNEL_OPTIMIZATION:--Osize}" -target "$TRIPLE" -I "$OUT" -Xcc -ffreestanding
  -Xfrontend -disable-stack-protector -Xfrontend -function-sections "${ARCH_SWIFTFLAGS[@]}")
CFLAGS=(--target="$TRIPLE" -ffreestanding -fno-builtin -nostdlib -fno-stack-protector -O2
  -ffunction-sections -fdata-sections
  -Wall -Werror "${ARCH_CFLAGS[@]}")

# Objects built with other flags (UNIKERNEL_OPTIMIZATION) are rebuilt: the flags are stamped.
flags_stamp=$OUT/swiftflags.stamp
if [[ "$(cat "$flags_stamp" 2>/dev/null)" != "${SWIFTFLAGS[*]}" ]]; then
  rebuilt=1
fi
objects=()
for entry in "${MODULES[@]}"; do
  read -r name folder <<<"$entry"
  mapfile -t files < <(find "$folder" -name '*.swift' -type f | LC_ALL=C sort)
  object=$OUT/$name.o
  # Rebuild a module when one of its files or a module before it changed.
  if [[ ! -f $object ]] || [[ -n $(find "${files[@]}" -newer "$object" 2>/dev/null) ]] ||
    [[ -n ${rebuilt:-} ]]; then
    echo "build.sh: $ARCH: swiftc $name"
    "$SWIFTC" "${SWIFTFLAGS[@]}" -module-name "$name" -emit-module \
      -emit-module-path "$OUT/$name.swiftmodule" -c "${files[@]}" -o "$object"
    rebuilt=1
  fi
  objects+=("$object")
done
printf '%s\n' "${SWIFTFLAGS[*]}" >"$flags_stamp"
echo "build.sh: $ARCH: swiftc Entry"
"$SWIFTC" "${SWIFTFLAGS[@]}" -module-name UnikernelEntry -I Unikernel/arch/include \
  -c Unikernel/arch/include/Entry.swift -o "$OUT/Entry.o"
objects+=("$OUT/Entry.o")
for source in Unikernel/runtime/*.c "$ARCH_DIR"/*.c "$ARCH_DIR"/*.S; do
  [[ -f $source ]] || continue
  object=$OUT/c-$(basename "$(dirname "$source")")-$(basename "$source").o
  "$CLANG" "${CFLAGS[@]}" -c "$source" -o "$object"
  objects+=("$object")
done

IMAGE=$OUT/netstack-unikernel
UNICODE=$("$SWIFTC" -print-target-info 2>/dev/null | sed -n 's/.*"runtimeResourcePath": "\(.*\)".*/\1/p' | head -1)
UNICODE=${UNICODE:-/opt/swift/usr/lib/swift}/embedded/$TRIPLE/libswiftUnicodeDataTables.a
"$LLD" -static -nostdlib --gc-sections -T "$ARCH_DIR/linker.ld" -o "$IMAGE" "${objects[@]}" \
  $([[ -f $UNICODE ]] && echo "$UNICODE")
if [[ $IMAGE_FORMAT == binary ]]; then
  llvm-objcopy -O binary "$IMAGE" "$IMAGE.img"
  IMAGE=$IMAGE.img
else
  llvm-objcopy --strip-all "$IMAGE" "$IMAGE.stripped"
fi
size=$(stat -c %s "$IMAGE")
echo "build.sh: $ARCH image $IMAGE: $size bytes ($((size / 1024)) KiB)"
[[ -f $IMAGE.stripped ]] && echo "build.sh: $ARCH stripped: $(stat -c %s "$IMAGE.stripped") bytes"
llvm-size "$OUT/netstack-unikernel" 2>/dev/null | sed 's/^/build.sh: /' || true
