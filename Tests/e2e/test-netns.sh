#!/usr/bin/env bash
# --netns PATH: netstackd runs in its own namespace (the test's) and makes its TAP device in a
# second, "guest" namespace, which the test also creates and deletes. From the guest: ping, the
# HTTP page, TCP echo and UDP echo; tap0 (with the host-side address) is in the guest and not
# in netstackd's namespace, and every thread of netstackd is back in its own namespace; the
# control socket answers and shows the namespace (text and JSON). SIGTERM: exit 0, the created
# TAP gone from the guest. A persistent TAP that already existed in the guest, named through
# /proc/PID/ns/net: after SIGTERM it is still there, without the address netstackd gave it and
# down again (the undo ran in the guest). Bad paths: exit 2 and one line naming --netns, with
# nothing made in either namespace; as nobody: a clear permission message. Without root: a
# user namespace made with `unshare -rn` by nobody, joined by netstackd (running as nobody)
# through `nsenter --user`: the TAP is made in that user's network namespace, answers ping and
# HTTP there, and is gone after SIGTERM; started by nobody outside that user namespace, netstackd
# is refused with the permission message.
source "$(dirname "$0")/lib.sh"
e2e_begin netns
for tool in nsenter unshare setpriv mknod mount; do
  command -v "$tool" >/dev/null || fail "the tool $tool is missing (util-linux, coreutils, mount)"
done

GUEST="ns-e2e-netns-guest-$$"
ip netns add "$GUEST"
trap 'status=$?; set +e; ip netns del "$GUEST" 2>/dev/null; (exit $status); e2e_cleanup' EXIT
ip -n "$GUEST" link set lo up
guest() { ip netns exec "$GUEST" "$@"; }
CONTROL="$WORK/control" # the path daemon_status_json reads
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# links [COMMAND...]: the interface names in the namespace COMMAND runs in (ns, guest, an
# nsenter), one a line, without lo.
links() { "$@" ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -vx lo || true; }

# namespace_of /proc/PID[/task/TID]: the network namespace of a process (or thread).
namespace_of() { readlink "$1/ns/net"; }

# guest_wait_ready ADDRESS SECONDS COMMAND...: waits until netstackd has printed its "serving"
# line and answers a ping sent through COMMAND (guest, an nsenter) from the namespace of its
# TAP (daemon_wait_ready pings from netstackd's own namespace).
guest_wait_ready() {
  local address=$1 seconds=$2 deadline
  shift 2
  deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    daemon_running || fail "netstackd exited during startup" "running" "$(cat "$DAEMON_ERR")"
    if grep -q "serving" "$DAEMON_OUT" && "$@" ping -c 1 -W 1 -q "$address" >/dev/null 2>&1; then
      ok "netstackd is up and answers ping from the guest at $address"
      return 0
    fi
    sleep 0.2
  done
  fail "netstackd did not answer ping from the guest at $address within ${seconds}s"
}

# --- Bad paths --------------------------------------------------------------------------------

# bad_netns WHAT MESSAGE-REGEX LINES [PREFIX...] -- ARGS...: netstackd ARGS exits 2 with its
# first line on standard error matching, LINES lines in all, and leaves nothing anywhere.
bad_netns() {
  local what=$1 pattern=$2 lines=$3 prefix=() status=0
  shift 3
  while [[ "$1" != -- ]]; do prefix+=("$1"); shift; done
  shift
  ns timeout 10 "${prefix[@]}" "$NETSTACKD" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || status=$?
  expect_eq "$what: exit status" 2 "$status"
  expect_eq "$what: nothing on standard output" "" "$(cat "$WORK/out")"
  expect_match "$what: the message" "$pattern" "$(head -n 1 "$WORK/err")"
  expect_eq "$what: lines on standard error" "$lines" "$(wc -l <"$WORK/err")"
  expect_eq "$what: no interface in netstackd's namespace" "" "$(links ns)"
  expect_eq "$what: no interface in the guest" "" "$(links guest)"
}

touch "$WORK/plain-file"
bad_netns "a namespace that does not exist" \
  "^netstackd: --netns: '/run/netns/absent-$$' does not exist$" 1 -- \
  --tap tap0 --netns "/run/netns/absent-$$"
bad_netns "a regular file" \
  "^netstackd: --netns: '$WORK/plain-file' is not a network namespace$" 1 -- \
  --tap tap0 --netns "$WORK/plain-file"
bad_netns "a namespace of another type (UTS)" \
  "^netstackd: --netns: '/proc/self/ns/uts' is not a network namespace$" 1 -- \
  --tap tap0 --netns /proc/self/ns/uts
bad_netns "--netns without --tap" \
  "^netstackd: --netns: only applies to a TAP device \(--tap\)$" 2 -- \
  --netns "/run/netns/$GUEST"
bad_netns "--netns with --unix" \
  "^netstackd: --netns: only applies to a TAP device \(--tap\)$" 2 -- \
  --unix "$WORK/nothing.sock" --netns "/run/netns/$GUEST"
bad_netns "--netns with no value" "^netstackd: --netns: needs a value$" 2 -- --tap tap0 --netns
bad_netns "as nobody (no CAP_SYS_ADMIN)" \
  "^netstackd: --netns: cannot enter '/run/netns/$GUEST': permission denied \(joining a network namespace needs CAP_SYS_ADMIN" \
  1 "${NOBODY[@]}" -- --tap tap0 --netns "/run/netns/$GUEST"

# --- A TAP made in the guest ------------------------------------------------------------------

daemon_start --tap tap0 --netns "/run/netns/$GUEST" --ip "$STACK_IP/$PREFIX" \
  --host-ip "$HOST_IP/$PREFIX" --control "$CONTROL"
guest_wait_ready "$STACK_IP" 30 guest
expect_match "the startup line names the namespace" \
  "^netstackd: tap0 \(created\) in network namespace /run/netns/$GUEST: .*; host side $HOST_IP/$PREFIX$" \
  "$(cat "$DAEMON_OUT")"
expect_eq "tap0 is in the guest" "tap0" "$(links guest)"
expect_eq "no interface in netstackd's namespace" "" "$(links ns)"
expect_match "the guest's tap0 has the host-side address" "inet $HOST_IP/$PREFIX " \
  "$(guest ip -o -4 addr show dev tap0)"
expect_match "the guest's tap0 is up, mtu 1500" "<[^>]*\bUP\b[^>]*> mtu 1500 " \
  "$(guest ip -o link show dev tap0)"
own=$(ns readlink /proc/self/ns/net)
expect_eq "netstackd runs in its own namespace" "$own" "$(namespace_of "/proc/$DAEMON_PID")"
threads=$(for task in /proc/"$DAEMON_PID"/task/*; do namespace_of "$task"; done | sort -u)
expect_eq "every thread of netstackd is in its own namespace" "$own" "$threads"

output=$(guest ping -c 5 -i 0.2 -W 2 -w 20 "$STACK_IP" 2>&1) || true
expect_match "ping from the guest: 5 sent, 5 received" '^5 packets transmitted, 5 received, 0% packet loss' "$output"
page=$(guest curl -sS -m 10 "http://$STACK_IP/") || fail "curl http://$STACK_IP/ from the guest"
expect_match "HTTP from the guest: the page" "^<body><h1>netstack</h1>$" "$page"
message="netns-echo-$$"
echoed=$(printf '%s\n' "$message" | guest timeout 10 nc -N -w 5 "$STACK_IP" 7) || true
expect_eq "TCP echo from the guest" "$message" "$echoed"
echoed=$(printf '%s\n' "$message-udp" | guest timeout 10 nc -u -w 2 "$STACK_IP" 7) || true
expect_eq "UDP echo from the guest" "$message-udp" "$echoed"

text=$("$NETSTACKD" status --control "$CONTROL") || fail "netstackd status --control" "exit 0" "$text"
expect_match "status: the namespace" "^network namespace: /run/netns/$GUEST$" "$text"
expect_match "status: the device" "^netstackd [0-9.]+: direct backend on netstack over TAP tap0, up" "$text"
expect_eq "status --json: network_namespace" "/run/netns/$GUEST" "$(status_value 's["network_namespace"]')"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_counters_printed
expect_eq "the created tap0 is gone from the guest" "" "$(links guest)"
expect_eq "nothing in netstackd's namespace" "" "$(links ns)"

# --- A persistent TAP of the guest, through /proc/PID/ns/net -------------------------------

guest ip tuntap add dev tap1 mode tap vnet_hdr
ip netns exec "$GUEST" sleep 600 </dev/null >/dev/null 2>&1 &
HOLDER=$!
HELPER_PIDS+=("$HOLDER")
daemon_start --tap tap1 --netns "/proc/$HOLDER/ns/net" --ip "$STACK_IP/$PREFIX" \
  --host-ip "$HOST_IP/$PREFIX"
guest_wait_ready "$STACK_IP" 30 guest
expect_match "the startup line: tap1, not created, in /proc/$HOLDER/ns/net" \
  "^netstackd: tap1 in network namespace /proc/$HOLDER/ns/net: " "$(cat "$DAEMON_OUT")"
expect_match "tap1 has the host-side address" "inet $HOST_IP/$PREFIX" "$(guest ip -o -4 addr show dev tap1)"
daemon_stop TERM
expect_eq "tap1: exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_eq "tap1 is still in the guest (it was not netstackd's)" "tap1" "$(links guest)"
expect_eq "tap1: the address netstackd gave it is gone" "" "$(guest ip -o -4 addr show dev tap1)"
expect_no_match "tap1: down again" "<[^>]*\bUP\b" "$(guest ip -o link show dev tap1)"
helper_stop "$HOLDER"
guest ip link del tap1

# --- Without root: a namespace the user owns --------------------------------------------------

ip netns exec "$NS" "${NOBODY[@]}" unshare --user --map-root-user --net sleep 600 \
  </dev/null >/dev/null 2>&1 &
USERNS=$!
HELPER_PIDS+=("$USERNS")
for ((i = 0; i < 100; i++)); do
  [[ "$(readlink "/proc/$USERNS/exe" 2>/dev/null)" == *sleep ]] && break
  sleep 0.1
done
[[ "$(readlink "/proc/$USERNS/exe")" == *sleep ]] || fail "nobody's user namespace did not start"
expect_eq "nobody owns the user namespace" 65534 "$(stat -c %u "/proc/$USERNS")"
owned=(nsenter --target "$USERNS" --net)

# Straight from nobody's shell: setns needs CAP_SYS_ADMIN in netstackd's own user namespace.
bad_netns "as nobody, into nobody's own namespace, outside its user namespace" \
  "^netstackd: --netns: cannot enter '/proc/$USERNS/ns/net': permission denied" \
  1 "${NOBODY[@]}" -- --tap tap0 --netns "/proc/$USERNS/ns/net"
expect_eq "as nobody, outside its user namespace: no interface in nobody's namespace" "" \
  "$(links "${owned[@]}")"

# netstackd as nobody, joined to nobody's user namespace (and only to it: its network namespace
# stays the test's). It opens /dev/net/tun, which is 0600 on these machines (0666 on most
# distributions): in a mount namespace of the test's own, a node of the same device with mode
# 0666 is bound over it.
mknod -m 666 "$WORK/tun" c 10 200
: >"$DAEMON_OUT"
: >"$DAEMON_ERR"
ip netns exec "$NS" unshare --mount sh -c 'mount --bind "$1" /dev/net/tun && shift && exec "$@"' \
  sh "$WORK/tun" "${NOBODY[@]}" nsenter --target "$USERNS" --user --preserve-credentials \
  "$NETSTACKD" --tap tap0 --netns "/proc/$USERNS/ns/net" --ip "$STACK_IP/$PREFIX" \
  --host-ip "$HOST_IP/$PREFIX" >"$DAEMON_OUT" 2>"$DAEMON_ERR" </dev/null &
DAEMON_PID=$!
log "started netstackd as nobody in nobody's user namespace (pid $DAEMON_PID)"
guest_wait_ready "$STACK_IP" 30 "${owned[@]}"
expect_eq "rootless: tap0 is in nobody's namespace" "tap0" "$(links "${owned[@]}")"
expect_eq "rootless: netstackd runs in the test's namespace" "$own" "$(namespace_of "/proc/$DAEMON_PID")"
expect_eq "rootless: netstackd runs as nobody" 65534 "$(awk '/^Uid:/ {print $3}' "/proc/$DAEMON_PID/status")"
page=$("${owned[@]}" curl -sS -m 10 "http://$STACK_IP/") || fail "rootless: curl"
expect_match "rootless: HTTP from nobody's namespace" "^<body><h1>netstack</h1>$" "$page"
daemon_stop TERM
expect_eq "rootless: exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_eq "rootless: the created tap0 is gone" "" "$(links "${owned[@]}")"
