#!/usr/bin/env bash
# netstackd --netfront outside a Xen guest and with bad values: one line on standard error
# naming the option (plus the help hint for command-line errors), nothing on standard output,
# exit status 2, nothing left behind in the namespace. The driver itself is tested against the
# simulated netback (Tests/NetfrontTests) and against Linux's netback (scripts/xen-netfront-test).
source "$(dirname "$0")/lib.sh"
e2e_begin netfront-options

TRY="Try 'netstackd --help' for more information."

# run_bad OPTION-REGEX TRY(yes|no) ARGS...
run_bad() {
  local option=$1 try=$2 status=0 first stderr what
  shift 2
  what="netstackd $*"
  ns timeout 10 "$NETSTACKD" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || status=$?
  first=$(head -n 1 "$WORK/err")
  stderr=$(cat "$WORK/err")
  expect_eq "$what: exit status" 2 "$status"
  expect_eq "$what: standard output" "" "$(cat "$WORK/out")"
  expect_match "$what: message names $option" "^netstackd: .*$option" "$first"
  if [[ $try == yes ]]; then
    expect_eq "$what: then the help hint" "$first"$'\n'"$TRY" "$stderr"
  else
    expect_eq "$what: one line" "$first" "$stderr"
  fi
  expect_eq "$what: no interface left behind" "lo" "$(ns ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ' | sed 's/ $//')"
}

run_bad "--netfront: 'x7' is not a vif index" yes --netfront=x7
run_bad "--netfront: '70000' is not a vif index" yes --netfront=70000
run_bad "--netfront: '-1' is not a vif index" yes --netfront=-1
run_bad "--tap: cannot be combined with --netfront" yes --netfront --tap e2etap
run_bad "--netfront: cannot be combined with --unix" yes --unix /tmp/x.sock --netfront 1
run_bad "--host-ip: only applies to a TAP device" yes --netfront 0 --host-ip 10.77.0.1/24
run_bad "--netfront: has no meaning with --backend socket" yes --backend socket --netfront
run_bad "unexpected argument 'eth0'" yes --netfront eth0

# This host is not a Xen guest: the device nodes do not exist, and the message says what is
# missing (index 3 taken from the next argument).
if [[ -e /dev/xen/gntalloc ]]; then
  fail "this host has /dev/xen/gntalloc: the not-a-guest case cannot be checked here" "" ""
fi
run_bad "--netfront 3: cannot open /dev/xen/gntalloc: No such file or directory \(is this a Xen guest" \
  no --netfront 3 --ip 10.0.0.2/24
run_bad "--netfront 0: cannot open /dev/xen/gntalloc" no --netfront
