#!/usr/bin/env bash
# The daemon's life cycle: --help (exit 0, every option listed) and --version; SIGTERM and
# SIGINT stop it with status 0 and its counters printed; a TAP device it created is gone after
# it exits; on a pre-existing persistent TAP the address it added is removed on exit, while an
# address that was already there is kept; a second daemon on a TAP in use is refused.
source "$(dirname "$0")/lib.sh"
e2e_begin lifecycle

# --- --help and --version ---
status=0
help=$("$NETSTACKD" --help 2>"$WORK/help.err") || status=$?
expect_eq "--help: exit status" 0 "$status"
expect_eq "--help: nothing on standard error" "" "$(cat "$WORK/help.err")"
expect_match "--help: usage line" '^Usage: netstackd --tap NAME' "$help"
# Every option the parser accepts (read from its source) and the ones the issue names.
# The options are the first strings of the entries in the parser's table.
table="$REPO/Sources/netstackd/DaemonOptions+Table.swift"
parsed=$(grep -oE '^ +"--[a-z0-9-]+"' "$table" | tr -d ' "' | sort -u)
[[ $(wc -l <<<"$parsed") -ge 20 ]] || fail "found fewer than 20 options in $table"
missing=""
for option in $parsed --tap --ip --gateway --mac --mtu --host-ip --pcap --log-level --impair \
  --impair-seed --help -h --version; do
  grep -qE -- "(^|[ ,])$option( |,|$)" <<<"$help" || missing+=" $option"
done
expect_eq "--help lists every option ($(xargs <<<"$parsed"))" "" "$missing"
short=$("$NETSTACKD" -h 2>&1) || fail "-h exited with an error"
expect_same "-h prints the same help" "$help" "$short"
status=0
version=$("$NETSTACKD" --version 2>&1) || status=$?
expect_eq "--version: exit status" 0 "$status"
expect_match "--version: prints the version" '^netstackd [0-9]+\.[0-9]+\.[0-9]+$' "$version"

# --- SIGTERM and SIGINT on a TAP the daemon creates ---
for signal in TERM INT; do
  daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX"
  daemon_wait_ready
  expect_match "SIG$signal run: the daemon says it created tap0" '^netstackd: tap0 \(created\): ' "$(cat "$DAEMON_OUT")"
  ns ping -c 3 -i 0.1 -W 2 -q "$STACK_IP" >/dev/null || fail "ping before SIG$signal"
  daemon_stop "$signal"
  expect_eq "SIG$signal: exit status" 0 "$DAEMON_STATUS"
  expect_match "SIG$signal: says why it stops" "^netstackd: stopping on SIG$signal\$" "$(cat "$DAEMON_OUT")"
  expect_counters_printed
  expect_ge "SIG$signal: icmp.echo_replies_sent in the counters" 4 "$(counter icmp.echo_replies_sent)"
  expect_eq "SIG$signal: nothing on standard error" "" "$(cat "$DAEMON_ERR")"
  if ns ip link show dev tap0 >/dev/null 2>&1; then
    fail "SIG$signal: tap0 is gone after exit" "no tap0" "$(ns ip -br link show dev tap0)"
  fi
  ok "SIG$signal: tap0, created by the daemon, is gone after it exits"
done

# --- A pre-existing persistent TAP ---
ns ip tuntap add dev tap0 mode tap
address_of() { ns ip -o -4 addr show dev tap0 | awk '{print $4}' | xargs; }

# The daemon adds the host-side address and removes it on exit; the device stays.
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX"
daemon_wait_ready
expect_match "persistent TAP: not marked as created" '^netstackd: tap0: ' "$(cat "$DAEMON_OUT")"
expect_eq "persistent TAP: the daemon gave it $HOST_IP/$PREFIX" "$HOST_IP/$PREFIX" "$(address_of)"

# A second daemon on the same TAP is refused, and the first goes on.
status=0
ns timeout 10 "$NETSTACKD" --tap tap0 --ip 10.77.0.3/24 --host-ip none >"$WORK/second.out" 2>"$WORK/second.err" </dev/null || status=$?
expect_eq "second daemon on a TAP in use: exit status" 2 "$status"
expect_match "second daemon on a TAP in use: says so naming --tap" '^netstackd: --tap tap0: .*busy' "$(cat "$WORK/second.err")"
expect_eq "second daemon on a TAP in use: one line on standard error" 1 "$(wc -l <"$WORK/second.err")"
expect_eq "second daemon on a TAP in use: the first one's address is untouched" "$HOST_IP/$PREFIX" "$(address_of)"
ns ping -c 2 -i 0.1 -W 2 -q "$STACK_IP" >/dev/null || fail "the first daemon answers ping after the second was refused"
ok "the first daemon still answers ping"

daemon_stop TERM
expect_eq "persistent TAP: exit status" 0 "$DAEMON_STATUS"
expect_counters_printed
ns ip link show dev tap0 >/dev/null 2>&1 || fail "persistent TAP: tap0 still exists after exit"
ok "persistent TAP: tap0 still exists after exit"
expect_eq "persistent TAP: the address the daemon added is removed on exit" "" "$(address_of)"

# Without --host-ip: the daemon picks the first free address, and removes it on exit.
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX"
daemon_wait_ready
expect_eq "persistent TAP, automatic host address: $HOST_IP/$PREFIX" "$HOST_IP/$PREFIX" "$(address_of)"
daemon_stop INT
expect_eq "persistent TAP, automatic host address: exit status" 0 "$DAEMON_STATUS"
expect_eq "persistent TAP, automatic host address: removed on exit" "" "$(address_of)"

# An address the TAP already had is the user's: the daemon keeps it and leaves it in place.
ns ip addr add "$HOST_IP/$PREFIX" dev tap0
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX"
daemon_wait_ready
expect_match "persistent TAP with an address: the daemon keeps it" 'host side keeps its address' "$(cat "$DAEMON_OUT")"
daemon_stop TERM
expect_eq "persistent TAP with an address: exit status" 0 "$DAEMON_STATUS"
expect_eq "persistent TAP with an address: the user's address is still there" "$HOST_IP/$PREFIX" "$(address_of)"
ns ip tuntap del dev tap0 mode tap
