#!/usr/bin/env bash
# Every bad option value, an unknown option, a missing --tap, and no permission: the daemon
# prints exactly one line on standard error naming the option (followed, for command-line
# errors, by exactly the line "Try 'netstackd --help' for more information."), nothing on
# standard output, exits with status 2, and leaves nothing behind in the namespace: no TAP
# device, no address. A failure after the TAP device was set up (an unwritable --pcap) also
# takes back what it did, on a new and on a pre-existing persistent TAP.
source "$(dirname "$0")/lib.sh"
e2e_begin options

TRY="Try 'netstackd --help' for more information."

# expect_clean_namespace WHAT: only the loopback device and its address are in the namespace
# (plus, when given, the persistent TAP $1, without any IPv4 address).
expect_clean_namespace() {
  local what=$1 keep=${2:-} links addresses
  links=$(ns ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -vx lo | grep -vx "${keep:-lo}" || true)
  addresses=$(ns ip -o -4 addr show | awk '{print $2, $4}' | grep -v '^lo ' || true)
  expect_eq "$what: no interface left behind" "" "$links"
  expect_eq "$what: no IPv4 address left behind" "" "$addresses"
}

# bad_option OPTION-REGEX TRY-LINE(yes|no) [--as-nobody] ARGS...: runs the daemon with ARGS and
# checks the one-line message, the status and the clean namespace.
bad_option() {
  local option=$1 try=$2 prefix=() what status stdout stderr first
  shift 2
  if [[ "${1:-}" == --as-nobody ]]; then
    prefix=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    shift
  fi
  what="netstackd $*${prefix:+ (as nobody)}"
  status=0
  ns timeout 10 "${prefix[@]}" "$BINARY" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || status=$?
  stdout=$(cat "$WORK/out")
  stderr=$(cat "$WORK/err")
  first=$(head -n 1 "$WORK/err")
  expect_eq "$what: exit status" 2 "$status"
  expect_eq "$what: standard output" "" "$stdout"
  if [[ "$first" =~ ^netstackd:\ .*$option ]]; then
    ok "$what: message names $option: $first"
  else
    fail "$what: message names the option" "netstackd: ...$option..." "$first"
  fi
  if [[ "$try" == yes ]]; then
    [[ "$stderr" == "$first"$'\n'"$TRY" ]] && ok "$what: then only the line: $TRY" \
      || fail "$what: standard error is the message and the help hint" "$first / $TRY" "$stderr"
  else
    [[ "$stderr" == "$first" ]] && ok "$what: standard error is exactly one line" \
      || fail "$what: standard error is exactly one line" "$first" "$stderr"
  fi
  expect_clean_namespace "$what"
}

# A copy that user nobody can run (the build tree may not be readable to it).
BINARY="$WORK/netstackd"
cp "$NETSTACKD" "$BINARY"
chmod 755 "$BINARY"

expect_clean_namespace "before any run"

bad_option --ip yes --tap tap0 --ip bad
bad_option --ip yes --tap tap0 --ip 10.77.0.2/33
bad_option --ip yes --tap tap0 --ip 10.77.0.0/24          # the network address
bad_option --ip yes --tap tap0 --ip 10.77.0.255/24        # the broadcast address
bad_option --gateway yes --tap tap0 --gateway 10.78.0.1   # outside 10.77.0.0/24
bad_option --gateway yes --tap tap0 --gateway 10.77.0.2   # the stack's own address
bad_option --gateway yes --tap tap0 --gateway nonsense
bad_option --mac yes --tap tap0 --mac bad
bad_option --mac yes --tap tap0 --mac 02:00:00:00:00      # five bytes
bad_option --mac yes --tap tap0 --mac 01:00:5e:00:00:01   # multicast
bad_option --mac yes --tap tap0 --mac ff:ff:ff:ff:ff:ff   # broadcast
bad_option --mtu yes --tap tap0 --mtu 0
bad_option --mtu yes --tap tap0 --mtu 67
bad_option --mtu yes --tap tap0 --mtu 70000
bad_option --mtu yes --tap tap0 --mtu abc
bad_option --busy-poll yes --tap tap0 --busy-poll -1
bad_option --busy-poll yes --tap tap0 --busy-poll 100001
bad_option --busy-poll yes --tap tap0 --busy-poll soon
bad_option --tap-writes yes --tap tap0 --tap-writes uring
bad_option --busy-poll-share yes --tap tap0 --busy-poll-share 0
bad_option --busy-poll-share yes --tap tap0 --busy-poll-share 101
bad_option --tap-writes yes --tap tap0 --tap-writes ""
bad_option --host-ip yes --tap tap0 --host-ip bad
bad_option --host-ip yes --tap tap0 --host-ip 10.77.0.2/24  # equal to --ip
bad_option --host-ip yes --tap tap0 --host-ip 10.78.0.1/24  # outside the --ip network
bad_option --ip6 yes --tap tap0 --ip6 bad
bad_option --ip6 yes --tap tap0 --ip6 fd77::2/129
bad_option --ip6 yes --tap tap0 --ip6 ff02::1/64           # multicast
bad_option --ip6 yes --tap tap0 --ip6 fd77::2/64 --ip6 fd77::2/64
bad_option --gateway6 yes --tap tap0 --gateway6 fd78::1    # not link-local, no --ip6 prefix
bad_option --gateway6 yes --tap tap0 --gateway6 nonsense
bad_option --host-ip6 yes --tap tap0 --host-ip6 bad
bad_option --host-ip6 yes --tap tap0 --ip6 fd77::2/64 --host-ip6 fd77::2/64  # equal to --ip6
bad_option --log-level yes --tap tap0 --log-level bad
bad_option --impair yes --tap tap0 --impair bad
bad_option --impair yes --tap tap0 --impair loss=200%
bad_option --impair-seed yes --tap tap0 --impair-seed -1
bad_option --memory-limit yes --tap tap0 --memory-limit 3M
bad_option --memory-limit yes --tap tap0 --memory-limit lots
bad_option --memory-limit yes --tap tap0 --memory-limit 10T
bad_option --max-connections yes --tap tap0 --max-connections 0
bad_option --max-connections yes --tap tap0 --max-connections 2000000
bad_option --tcp-user-timeout yes --tap tap0 --tcp-user-timeout -5
bad_option --tcp-user-timeout yes --tap tap0 --tcp-user-timeout 86401
bad_option --tcp-time-wait yes --tap tap0 --tcp-time-wait 0
bad_option --tcp-time-wait yes --tap tap0 --tcp-time-wait 241
bad_option --tcp-keepalive yes --tap tap0 --tcp-keepalive 60
bad_option --tcp-keepalive yes --tap tap0 --tcp-keepalive 60,10,0
bad_option --tcp-keepalive yes --tap tap0 --tcp-keepalive on
bad_option --http-header-timeout yes --tap tap0 --http-header-timeout 0
bad_option --http-keepalive-timeout yes --tap tap0 --http-keepalive-timeout soon
bad_option --http-send-timeout yes --tap tap0 --http-send-timeout 1.5
bad_option --serve yes --tap tap0 --serve bogus
bad_option --serve yes --tap tap0 --serve http:0
bad_option --serve yes --tap tap0 --serve http:80,echo:80
bad_option --http-root no --tap tap0 --http-root /nonexistent/dir
bad_option --relay yes --tap tap0 --relay --dhcp
bad_option --relay yes --backend socket --relay
bad_option --relay yes --tap tap0 --relay --ip 10.0.2.2/29
bad_option --dns-address yes --tap tap0 --dns-address 10.0.2.3
bad_option --dns-address yes --tap tap0 --relay --dns-address 10.0.3.3
bad_option --dns-address yes --tap tap0 --relay --dns-address bogus
bad_option --dns-address yes --tap tap0 --relay --ip 10.0.2.3/24
bad_option --resolv-conf yes --tap tap0 --relay --resolv-conf ""
bad_option --deny yes --tap tap0 --relay --deny 10.0.0.0/33
bad_option --deny yes --tap tap0 --deny 10.0.0.0/8
bad_option --host-loopback yes --tap tap0 --relay --host-loopback 127.0.0.1
bad_option --host-loopback yes --tap tap0 --relay --host-loopback 10.0.2.2
bad_option --dhcp-server yes --tap tap0 --relay --host-loopback 10.0.2.20
bad_option --relay-flows yes --tap tap0 --relay --relay-flows 0
bad_option --relay-flows yes --tap tap0 --relay-flows 8
bad_option --relay-idle-timeout yes --tap tap0 --relay --relay-idle-timeout never
bad_option --router-adv yes --tap tap0 --router-adv on
bad_option --router-adv yes --tap tap0 --relay --router-adv yes
bad_option --ra-prefix yes --tap tap0 --relay --ra-prefix fd00::/48
bad_option --ra-prefix yes --tap tap0 --relay --ra-prefix fe80::/64
bad_option --ra-dns yes --tap tap0 --relay --ra-dns ff02::1
bad_option --ra-dns yes --tap tap0 --relay --router-adv off --ra-dns fd00::3
bad_option --ip6 yes --tap tap0 --relay --ip6 auto
bad_option --dns-address6 yes --tap tap0 --dns-address6 fd00::3
# An IPv6 guest's published port on a link with no IPv6 (an MTU below 1280): never answered.
bad_option --publish yes --tap tap0 --relay --mtu 1200 --publish 'udp:7070=[fd00::100]:7007'
bad_option --publish yes --tap tap0 --relay --mtu 1200 --publish 'tcp:[::]:8080=[fd00::100]:80'
bad_option --dns-address6 yes --tap tap0 --relay --dns-address6 fd99::3
bad_option --dns-address6 yes --tap tap0 --relay --dns-address6 10.0.2.3
bad_option --dns-address6 yes --tap tap0 --relay --ip6 fd00::3/64
bad_option "'--bogus'" yes --tap tap0 --bogus
bad_option "'stray'" yes --tap tap0 stray
bad_option --tap yes                                       # missing --tap
bad_option --tap yes --ip 10.77.0.2/24                     # missing --tap
bad_option --tap yes --tap                                 # --tap without a value
bad_option --tap yes --tap ""                              # empty name
bad_option --tap no --tap name-longer-than-15            # checked when opening the device
bad_option --tap no --as-nobody --tap tap0                 # no permission
bad_option --pcap no --tap tap0 --pcap /nonexistent/dir/frames.pcap

# A pre-existing persistent TAP: after a failure it is still there, without the address the
# daemon gave it.
ns ip tuntap add dev e2etap mode tap
bad_option_kept() {
  local status=0
  ns timeout 10 "$BINARY" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || status=$?
  expect_eq "netstackd $*: exit status" 2 "$status"
  expect_match "netstackd $*: message names --pcap" '^netstackd: --pcap: ' "$(cat "$WORK/err")"
  expect_eq "netstackd $*: standard error is exactly one line" 1 "$(wc -l <"$WORK/err")"
  expect_eq "the persistent TAP is still there" e2etap "$(ns ip -o link show dev e2etap | awk -F': ' '{print $2}')"
  expect_clean_namespace "netstackd $*" e2etap
}
bad_option_kept --tap e2etap --host-ip 10.77.0.1/24 --pcap /nonexistent/dir/frames.pcap
bad_option_kept --tap e2etap --pcap /nonexistent/dir/frames.pcap
ns ip tuntap del dev e2etap mode tap

# --host-ip6 on a host side whose IPv6 is off: the kernel refuses the address after the TAP
# and its IPv4 address were set up; the daemon takes them back and exits 2 naming --host-ip6.
ns sysctl -q -w net.ipv6.conf.default.disable_ipv6=1
bad_option --host-ip6 no --tap tap0 --host-ip 10.77.0.1/24 --host-ip6 fd77::1/64
ns sysctl -q -w net.ipv6.conf.default.disable_ipv6=0
expect_clean_namespace "at the end"
