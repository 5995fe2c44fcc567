#!/usr/bin/env bash
# Every bad value of the DHCP options (--dhcp, --dhcp-server, --dhcp-dns, --dhcp-lease) and
# every bad combination: the daemon prints one line on standard error naming the option, then
# "Try 'netstackd --help' for more information.", nothing on standard output, exits with
# status 2, and leaves no device or address behind. The help text lists the options.
source "$(dirname "$0")/lib.sh"
e2e_begin dhcp-options

TRY="Try 'netstackd --help' for more information."

# bad_option OPTION ARGS...: runs the daemon with ARGS and checks the message and the exit.
bad_option() {
  local option=$1 status=0 first
  shift
  ns timeout 10 "$NETSTACKD" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || status=$?
  first=$(head -n 1 "$WORK/err")
  expect_eq "netstackd $*: exit status" 2 "$status"
  expect_eq "netstackd $*: standard output" "" "$(cat "$WORK/out")"
  if [[ "$first" == "netstackd: $option"* && "$(cat "$WORK/err")" == "$first"$'\n'"$TRY" ]]; then
    ok "netstackd $*: $first"
  else
    fail "netstackd $*: one line naming $option, then the hint" "netstackd: $option ..." "$(cat "$WORK/err")"
  fi
  expect_eq "netstackd $*: nothing left in the namespace" "" \
    "$(ns ip -o link show | awk -F': ' '{print $2}' | grep -vx lo || true)"
}

bad_option --dhcp --tap tap0 --dhcp --ip 10.77.0.2/24
bad_option --dhcp --tap tap0 --dhcp --gateway 10.77.0.1
bad_option --dhcp --backend socket --dhcp
bad_option --dhcp-server --tap tap0 --dhcp --dhcp-server 10.77.0.100-10.77.0.120
bad_option --dhcp-server --tap tap0 --dhcp-server 10.77.0.100
bad_option --dhcp-server --tap tap0 --dhcp-server 10.77.0.100-
bad_option --dhcp-server --tap tap0 --dhcp-server 10.77.0.100-10.77.0.300
bad_option --dhcp-server --tap tap0 --dhcp-server 10.77.0.120-10.77.0.100
bad_option --dhcp-server --tap tap0 --ip 10.77.0.2/24 --dhcp-server 10.77.1.100-10.77.1.120
bad_option --dhcp-server --tap tap0 --ip 10.77.0.2/24 --dhcp-server 10.77.0.0-10.77.0.10
bad_option --dhcp-server --tap tap0 --ip 10.77.0.2/24 --dhcp-server 10.77.0.200-10.77.0.255
bad_option --dhcp-server --tap tap0 --ip 10.77.0.2/24 --dhcp-server 10.77.0.1-10.77.0.10
bad_option --dhcp-server --tap tap0 --ip 10.77.0.2/31 --dhcp-server 10.77.0.3-10.77.0.3
bad_option --dhcp-server --backend socket --dhcp-server 127.0.0.2-127.0.0.9
bad_option --dhcp-server --tap tap0 --dhcp-server
bad_option --dhcp-dns --tap tap0 --dhcp-dns 10.77.0.53
bad_option --dhcp-dns --tap tap0 --dhcp-server 10.77.0.100-10.77.0.120 --dhcp-dns 10.77.0.53,
bad_option --dhcp-dns --tap tap0 --dhcp-server 10.77.0.100-10.77.0.120 --dhcp-dns 224.0.0.1
bad_option --dhcp-dns --tap tap0 --dhcp-server 10.77.0.100-10.77.0.120 --dhcp-dns dns.example
bad_option --dhcp-lease --tap tap0 --dhcp-lease 3600
bad_option --dhcp-lease --tap tap0 --dhcp-server 10.77.0.100-10.77.0.120 --dhcp-lease 9
bad_option --dhcp-lease --tap tap0 --dhcp-server 10.77.0.100-10.77.0.120 --dhcp-lease 1h
bad_option --dhcp-lease --tap tap0 --dhcp-server 10.77.0.100-10.77.0.120 --dhcp-lease 4294967295

help=$("$NETSTACKD" --help)
for option in --dhcp --dhcp-server --dhcp-dns --dhcp-lease; do
  expect_match "--help lists $option" "^ +$option( |$)" "$help"
done
