# The QEMU guest of the e2e tests (sourced after lib.sh by test-qemu.sh and test-qemu-relay.sh):
# Debian's kernel and a busybox initramfs built by tools/build-guest.sh and cached in
# $E2E_GUEST_CACHE (default .build-e2e-guest in the repository, git-ignored), booted under
# qemu-system-x86_64 with TCG. Its only network is a virtio-net device on `-netdev stream` to a
# netstackd --unix-listen socket; -nodefaults -nic none gives it no other, so nothing it sends
# can go anywhere else. Its init (tools/guest-init.sh) reads its steps from the kernel command
# line, prints E2E-... lines on the serial console and powers off.

# qemu_guest_build: builds (or takes from the cache) the guest's kernel and initramfs and sets
# KERNEL and INITRAMFS.
qemu_guest_build() {
  local cache=${E2E_GUEST_CACHE:-$REPO/.build-e2e-guest} started=$SECONDS guest
  guest=$("$TOOLS/build-guest.sh" "$cache" 2>"$WORK/build-guest.err") \
    || fail "building the guest" "exit 0" "$(tail -n 20 "$WORK/build-guest.err")"
  KERNEL=$(awk '$1 == "kernel" { print $2 }' <<<"$guest")
  INITRAMFS=$(awk '$1 == "initramfs" { print $2 }' <<<"$guest")
  [[ -f "$KERNEL" && -f "$INITRAMFS" ]] \
    || fail "the guest's files" "a kernel and an initramfs" "$guest"
  ok "guest ready in $((SECONDS - started)) s: $(basename "$(dirname "$KERNEL")"), $(basename "$INITRAMFS")"
}

# qemu_guest_run SOCKET GUEST_MAC SECONDS APPEND: boots the guest in the test's namespace with
# APPEND as its kernel command line, its network on netstackd's SOCKET, and waits up to SECONDS
# for it to power off; the guest that powered off (QEMU's exit status 0) is checked. Sets
# SERIAL (its serial console, without CRs) and prints how long it ran and anything QEMU said.
qemu_guest_run() {
  local socket=$1 mac=$2 seconds=$3 append=$4 started i status=0 took
  started=$(date +%s.%N)
  ip netns exec "$NS" qemu-system-x86_64 -accel tcg -m 256 -smp 1 -nodefaults -no-user-config \
    -display none -serial "file:$WORK/serial.log" -no-reboot \
    -kernel "$KERNEL" -initrd "$INITRAMFS" -append "$append" \
    -netdev "stream,id=n0,server=off,addr.type=unix,addr.path=$socket" \
    -device "virtio-net-pci,netdev=n0,mac=$mac" -nic none \
    >"$WORK/qemu.out" 2>&1 </dev/null &
  local qemu=$!
  HELPER_PIDS+=("$qemu")
  log "started qemu-system-x86_64 (pid $qemu)"
  for ((i = 0; i < seconds * 10; i++)); do
    kill -0 "$qemu" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$qemu" 2>/dev/null; then
    fail "the guest powers off within $seconds s" "E2E-DONE" "$(tail -n 30 "$WORK/serial.log")"
  fi
  wait "$qemu" || status=$?
  unset 'HELPER_PIDS[-1]'
  took=$(awk -v start="$started" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f", now - start }')
  expect_eq "qemu exit status (the guest powered off)" 0 "$status"
  log "guest boot to power-off: $took s"
  SERIAL=$(tr -d '\r' <"$WORK/serial.log")
  [[ -s "$WORK/qemu.out" ]] && sed 's/^/    qemu: /' "$WORK/qemu.out"
  return 0
}
