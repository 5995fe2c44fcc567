#!/usr/bin/env bash
# --ip6-secret-file (issue 13): the secret of the RFC 7217 interface identifiers kept across
# restarts. Without it each run draws a new secret, so the stack's IPv6 addresses (link-local
# and SLAAC alike: both come from the same identifiers) change at every restart.
# - a first run with a missing file creates it: mode 0600, 32 hexadecimal digits and a newline;
# - a second run with the same file has the same link-local address and the same MAC (the MAC
#   is derived from the secret when --mac is not given; the identifiers hash it too);
# - a run with that MAC given by --mac but no secret file has another link-local address (what
#   the file prevents);
# - a file with anything else makes the daemon exit 2 with a message naming the option.
source "$(dirname "$0")/lib.sh"
e2e_begin ipv6-secret-file

SECRET="$WORK/secret"

# run_once ARGS...: starts the daemon, waits until its link-local address is preferred, sets
# LINK_LOCAL and MAC, checks that ping -6 reaches the address, stops the daemon.
run_once() {
  daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" \
    --control "$WORK/control" "$@"
  daemon_wait_ready
  local deadline=$((SECONDS + 30)) state
  while ((SECONDS < deadline)); do
    state=$(status_value "[a['state'] for a in s['ipv6']['addresses'] if a['origin'] == 'link-local']")
    # The host side's own link-local address must be through its detection too (tap0 is new).
    [[ "$state" == "['preferred']" && -z "$(ns ip -6 addr show dev tap0 tentative)" ]] && break
    sleep 0.2
  done
  expect_eq "the link-local address is preferred" "['preferred']" "$state"
  LINK_LOCAL=$(status_value "[a['address'] for a in s['ipv6']['addresses'] if a['origin'] == 'link-local'][0]")
  MAC=$(sed -nE 's/.*: mac ([0-9a-f:]{17}),.*/\1/p' "$DAEMON_OUT" | head -n 1)
  [[ -n "$MAC" ]] || fail "no MAC in the daemon's first line" "mac ..." "$(head -n 1 "$DAEMON_OUT")"
  ns ping -c 1 -w 10 -q "${LINK_LOCAL%/*}%tap0" >/dev/null || fail "no answer to ping -6 ${LINK_LOCAL%/*}%tap0"
  log "link-local $LINK_LOCAL, mac $MAC"
  daemon_stop TERM
  expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
}

run_once --ip6-secret-file "$SECRET"
first_link_local=$LINK_LOCAL
first_mac=$MAC
expect_eq "the secret file was created, mode 600" "600" "$(stat -c %a "$SECRET" 2>/dev/null)"
expect_match "it holds 32 hexadecimal digits" '^[0-9a-f]{32}$' "$(cat "$SECRET")"
expect_eq "and a newline (33 bytes)" 33 "$(stat -c %s "$SECRET")"
secret=$(cat "$SECRET")

run_once --ip6-secret-file "$SECRET"
expect_eq "a restart with the file: the same link-local address" "$first_link_local" "$LINK_LOCAL"
expect_eq "a restart with the file: the same MAC" "$first_mac" "$MAC"
expect_same "the file is left as it was" "$secret" "$(cat "$SECRET")"

run_once --mac "$first_mac"
if [[ "$LINK_LOCAL" == "$first_link_local" ]]; then
  fail "without the file (same MAC) the link-local address should come from a new secret" \
    "not $first_link_local" "$LINK_LOCAL"
fi
ok "without the file, the same MAC gets another link-local address ($LINK_LOCAL)"

echo "not a secret" >"$WORK/bad-secret"
status=0
ns "$NETSTACKD" --tap tap0 --ip "$STACK_IP/$PREFIX" --ip6-secret-file "$WORK/bad-secret" \
  >"$WORK/bad.out" 2>"$WORK/bad.err" </dev/null || status=$?
expect_eq "a file with anything else: exit status" 2 "$status"
expect_match "the message names the option and the file" \
  "^netstackd: --ip6-secret-file: '$WORK/bad-secret': " "$(cat "$WORK/bad.err")"
