# Shared helpers for the end-to-end tests: sourced by every Tests/e2e/test-*.sh.
#
# Each test runs netstackd inside a network namespace of its own (ns-e2e-<name>-<pid>), talks
# to it with the Linux kernel's tools from inside that namespace, and checks what happens.
# Network safety: everything a test creates (the namespace, the TAP device and addresses in
# it) lives in that namespace, which the EXIT trap deletes, also when a check fails; nothing
# is configured in the root namespace, and the only process the trap stops is the daemon the
# test started, by its PID.
#
# Environment:
#   NETSTACKD   path of the netstackd binary to test (Tests/e2e/run sets it).
#   E2E_KEEP    if set to 1, keep the work directory (logs, pcaps) after the test.

set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/../.." && pwd)
TOOLS="$E2E_DIR/tools"

if [[ -x /usr/bin/python3 ]]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi

# The stack's and the host side's addresses in every test, unless a test says otherwise.
STACK_IP=10.77.0.2
HOST_IP=10.77.0.1
PREFIX=24

NS=""              # the test's namespace
WORK=""            # the test's scratch directory (daemon output, pcaps)
DAEMON_PID=""      # netstackd, while it runs
DAEMON_STATUS=""   # its exit status, once it has stopped
DAEMON_OUT=""      # its standard output (the startup lines and the counters)
DAEMON_ERR=""      # its standard error
HELPER_PIDS=()     # other background processes the test started (tcpdump ...)
EXTRA_NAMESPACES=() # the test's other namespaces (e2e_namespace), deleted with its own
E2E_NAME=""
E2E_FAILED=0
E2E_CHECKS=0

# --- Reporting -------------------------------------------------------------------------------

log() { printf '  %s\n' "$*"; }

ok() {
  E2E_CHECKS=$((E2E_CHECKS + 1))
  printf '  ok: %s\n' "$*"
}

# fail WHAT [EXPECTED ACTUAL]: reports a failed check and ends the test (the trap cleans up).
fail() {
  E2E_FAILED=1
  printf '  FAIL: %s\n' "$1" >&2
  if (($# >= 3)); then
    printf '    expected: %s\n' "$2" >&2
    printf '    got:      %s\n' "$3" >&2
  fi
  exit 1
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
  if [[ "$3" == "$2" ]]; then ok "$1 ($3)"; else fail "$1" "$2" "$3"; fi
}

# expect_same WHAT EXPECTED ACTUAL: like expect_eq, for long texts (not repeated when they match).
expect_same() {
  if [[ "$3" == "$2" ]]; then ok "$1"; else fail "$1" "$2" "$3"; fi
}

# expect_match WHAT EXTENDED-REGEX TEXT: TEXT (one or more lines) has a line matching.
expect_match() {
  if grep -Eq -- "$2" <<<"$3"; then
    ok "$1"
  else
    fail "$1" "a line matching /$2/" "$(head -c 2000 <<<"$3")"
  fi
}

# expect_no_match WHAT EXTENDED-REGEX TEXT: no line of TEXT matches.
expect_no_match() {
  local hits
  hits=$(grep -E -- "$2" <<<"$3" || true)
  if [[ -z "$hits" ]]; then ok "$1"; else fail "$1" "no line matching /$2/" "$(head -c 2000 <<<"$hits")"; fi
}

# expect_ge WHAT MINIMUM ACTUAL (integers)
expect_ge() {
  if [[ "$3" =~ ^[0-9]+$ ]] && (($3 >= $2)); then ok "$1 ($3 >= $2)"; else fail "$1" ">= $2" "$3"; fi
}

# expect_le WHAT MAXIMUM ACTUAL (integers)
expect_le() {
  if [[ "$3" =~ ^[0-9]+$ ]] && (($3 <= $2)); then ok "$1 ($3 <= $2)"; else fail "$1" "<= $2" "$3"; fi
}

# --- Setup and cleanup -----------------------------------------------------------------------

# e2e_begin NAME: checks the prerequisites, creates the namespace and the work directory, and
# installs the cleanup trap.
e2e_begin() {
  E2E_NAME=$1
  [[ $(id -u) == 0 ]] || { echo "  FAIL: the e2e tests need root (network namespaces, TAP)" >&2; exit 1; }
  [[ -n "${NETSTACKD:-}" ]] || { echo "  FAIL: NETSTACKD is not set (path of netstackd)" >&2; exit 1; }
  [[ -x "$NETSTACKD" ]] || { echo "  FAIL: NETSTACKD=$NETSTACKD is not an executable" >&2; exit 1; }
  NETSTACKD=$(readlink -f "$NETSTACKD")
  trap e2e_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  NS="ns-e2e-$E2E_NAME-$$"
  WORK=$(mktemp -d "/tmp/e2e-$E2E_NAME.XXXXXX")
  chmod 755 "$WORK"
  DAEMON_OUT="$WORK/daemon.out"
  DAEMON_ERR="$WORK/daemon.err"
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  log "namespace $NS, work directory $WORK"
}

# e2e_namespace VAR ROLE: makes another namespace of the test's own, ns-e2e-NAME-ROLE-PID
# (a guest's, a remote network's), with its loopback up, and puts its name in VAR; e2e_cleanup
# deletes it, and the /etc/netns/ folder of that name if the test made one (`ip netns exec`
# mounts a resolv.conf from there).
e2e_namespace() {
  local name="ns-e2e-$E2E_NAME-$2-$$"
  ip netns add "$name"
  EXTRA_NAMESPACES+=("$name")
  ip -n "$name" link set lo up
  printf -v "$1" '%s' "$name"
}

# Runs on every exit: stops our daemon (by PID) if it still runs, deletes the namespaces.
e2e_cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  if ((status != 0)); then E2E_FAILED=1; fi
  if [[ -n "$DAEMON_PID" ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -TERM "$DAEMON_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$DAEMON_PID" 2>/dev/null && kill -KILL "$DAEMON_PID" 2>/dev/null
    wait "$DAEMON_PID" 2>/dev/null
  fi
  local pid
  for pid in "${HELPER_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if ((E2E_FAILED)) && [[ -n "$DAEMON_OUT" && -s "$DAEMON_OUT" ]]; then
    echo "  --- netstackd stdout (last 40 lines) ---" >&2
    tail -n 40 "$DAEMON_OUT" | sed 's/^/  | /' >&2
  fi
  if ((E2E_FAILED)) && [[ -n "$DAEMON_ERR" && -s "$DAEMON_ERR" ]]; then
    echo "  --- netstackd stderr (last 40 lines) ---" >&2
    tail -n 40 "$DAEMON_ERR" | sed 's/^/  | /' >&2
  fi
  local extra
  for extra in "${EXTRA_NAMESPACES[@]}"; do
    rm -rf "/etc/netns/$extra"
    ip netns del "$extra" 2>/dev/null
    if ip netns list | grep -qw -- "$extra"; then echo "  WARNING: could not delete namespace $extra" >&2; fi
  done
  if [[ -n "$NS" ]]; then
    ip netns del "$NS" 2>/dev/null
    if ip netns list | grep -qw -- "$NS"; then echo "  WARNING: could not delete namespace $NS" >&2; fi
  fi
  if [[ -n "$WORK" ]]; then
    if [[ "${E2E_KEEP:-0}" == 1 || $E2E_FAILED == 1 ]]; then
      echo "  (work directory kept: $WORK)" >&2
    else
      rm -rf "$WORK"
    fi
  fi
  if ((status == 0 && E2E_FAILED == 0)); then
    echo "  $E2E_CHECKS checks passed"
  fi
  exit "$status"
}

# ns CMD...: runs CMD inside the test's namespace.
ns() { ip netns exec "$NS" "$@"; }

# helper_stop PID: stops a helper the test started (SIGTERM, by PID) and waits for it.
helper_stop() {
  local pid=$1 kept=() other
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for other in "${HELPER_PIDS[@]}"; do [[ "$other" == "$pid" ]] || kept+=("$other"); done
  HELPER_PIDS=("${kept[@]}")
}

# capture_start FILE [FILTER...]: runs tcpdump on the namespace's tap0, writing FILE, until
# capture_stop; waits until it is listening. Sets CAPTURE_PID.
capture_start() {
  local file=$1
  shift
  # Not through ns(): a backgrounded function runs in a subshell, and $! would be its PID.
  ip netns exec "$NS" tcpdump -i tap0 -n -U --immediate-mode -s 0 -w "$file" "$@" \
    >/dev/null 2>"$file.log" </dev/null &
  CAPTURE_PID=$!
  HELPER_PIDS+=("$CAPTURE_PID")
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q "listening on" "$file.log" 2>/dev/null && return 0
    kill -0 "$CAPTURE_PID" 2>/dev/null || fail "tcpdump did not start: $(cat "$file.log")"
    sleep 0.1
  done
  fail "tcpdump did not start listening within 10 s: $(cat "$file.log")"
}

# capture_stop: stops the tcpdump that capture_start started (the file is complete after).
capture_stop() { helper_stop "$CAPTURE_PID"; }

# --- The daemon ------------------------------------------------------------------------------

# daemon_start ARGS...: starts netstackd ARGS in the namespace in the background; its output
# goes to $DAEMON_OUT and $DAEMON_ERR. `ip netns exec` execs the daemon, so $! is its PID.
daemon_start() {
  DAEMON_STATUS=""
  : >"$DAEMON_OUT"
  : >"$DAEMON_ERR"
  ip netns exec "$NS" "$NETSTACKD" "$@" >"$DAEMON_OUT" 2>"$DAEMON_ERR" </dev/null &
  DAEMON_PID=$!
  log "started netstackd $* (pid $DAEMON_PID)"
}

# daemon_running: whether the daemon we started exists and has not exited (process_running).
daemon_running() {
  [[ -n "$DAEMON_PID" ]] && process_running "$DAEMON_PID"
}

# daemon_alive: whether the daemon we started still runs: same PID, and that PID is still the
# netstackd binary (true once `ip netns exec` has exec'd it).
daemon_alive() {
  daemon_running && [[ "$(readlink -f "/proc/$DAEMON_PID/exe" 2>/dev/null)" == "$NETSTACKD" ]]
}

# wait_for_slaac NAMESPACE [SECONDS]: waits (default 60 s) until tap0 in NAMESPACE has a
# global fd00:: address that passed duplicate address detection and a default route via a
# link-local router (the stack's advertisements, SLAAC); sets SLAAC_ADDRESS (without the
# prefix length) and SLAAC_ROUTE, empty if they did not come in time (the caller checks).
wait_for_slaac() {
  local namespace=$1 deadline=$((SECONDS + ${2:-60}))
  SLAAC_ADDRESS="" SLAAC_ROUTE=""
  while ((SECONDS < deadline)); do
    SLAAC_ADDRESS=$(ip netns exec "$namespace" ip -6 -o addr show dev tap0 scope global -tentative \
      | awk '{ split($4, a, "/"); if (a[1] ~ /^fd00::/) print a[1] }' | head -n 1)
    SLAAC_ROUTE=$(ip netns exec "$namespace" ip -6 route show default dev tap0 || true)
    [[ -n "$SLAAC_ADDRESS" && "$SLAAC_ROUTE" == *"via fe80::"* ]] && return 0
    sleep 0.5
  done
}

# daemon_wait_serving [SECONDS]: waits (default 30 s) until the daemon has printed its
# "serving" line, for tests whose stack is not reachable from the test's namespace (its TAP is
# in a guest's namespace); fails if it exits or does not get there in time.
daemon_wait_serving() {
  local seconds=${1:-30} deadline
  deadline=$((SECONDS + seconds))
  until grep -q "serving" "$DAEMON_OUT"; do
    daemon_running || fail "netstackd exited during startup" "running" "$(cat "$DAEMON_ERR")"
    ((SECONDS < deadline)) || fail "netstackd did not start within $seconds s"
    sleep 0.2
  done
}

# daemon_wait_ready [ADDRESS] [SECONDS]: waits until the daemon has printed its "serving" line
# and answers a ping at ADDRESS (default $STACK_IP); fails if it dies or takes too long.
daemon_wait_ready() {
  local address=${1:-$STACK_IP} seconds=${2:-20} deadline
  deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    if ! daemon_running; then
      local status=0
      wait "$DAEMON_PID" 2>/dev/null || status=$?
      DAEMON_PID=""
      fail "netstackd exited during startup (status $status)"
    fi
    if grep -q "serving" "$DAEMON_OUT" && daemon_alive && ns ping -c 1 -W 1 -q "$address" >/dev/null 2>&1; then
      ok "netstackd is up and answers ping at $address"
      return 0
    fi
    sleep 0.2
  done
  fail "netstackd did not answer ping at $address within ${seconds}s"
}

# daemon_stop [SIGNAL] [SECONDS]: sends SIGNAL (default TERM) to the daemon and waits for it to
# exit; sets DAEMON_STATUS. Fails if it does not stop in time.
daemon_stop() {
  local signal=${1:-TERM} seconds=${2:-10} i
  [[ -n "$DAEMON_PID" ]] || fail "daemon_stop: no daemon running"
  kill "-$signal" "$DAEMON_PID"
  for ((i = 0; i < seconds * 10; i++)); do
    daemon_running || break
    sleep 0.1
  done
  if daemon_running; then
    fail "netstackd did not stop within ${seconds}s of SIG$signal"
  fi
  DAEMON_STATUS=0
  wait "$DAEMON_PID" || DAEMON_STATUS=$?
  DAEMON_PID=""
  log "netstackd stopped on SIG$signal with status $DAEMON_STATUS"
}

# counter GROUP.NAME: a counter's value from the daemon's exit report (0 when not printed:
# the daemon prints only counters that are not zero).
counter() {
  local value
  value=$(awk -v name="$1" '$1 == name { print $2 }' "$DAEMON_OUT" | tail -n 1)
  echo "${value:-0}"
}

# counters_matching REGEX: the sum of the counters whose name matches.
counters_matching() {
  awk -v pattern="$1" '/^  [a-z0-9_]+\.[a-z0-9_]+ [0-9]+$/ && $1 ~ pattern { sum += $2 } END { print sum + 0 }' \
    "$DAEMON_OUT"
}

# expect_counters_printed: the daemon's output after a clean stop has its counter report.
expect_counters_printed() {
  expect_match "netstackd printed its counters" '^netstackd: counters:$' "$(cat "$DAEMON_OUT")"
}

# wait_for_line FILE EXTENDED-REGEX [SECONDS]: waits until FILE has a line matching, prints
# the last such line; fails if the daemon dies or the time (default 30 s) runs out.
wait_for_line() {
  local file=$1 pattern=$2 seconds=${3:-30} deadline line
  deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    line=$(grep -E -- "$pattern" "$file" 2>/dev/null | tail -n 1 || true)
    if [[ -n "$line" ]]; then
      printf '%s\n' "$line"
      return 0
    fi
    if [[ "$file" == "$DAEMON_OUT" ]] && ! daemon_running; then
      fail "netstackd exited while waiting for /$pattern/"
    fi
    sleep 0.2
  done
  fail "no line matching /$pattern/ in $(basename "$file") within ${seconds}s" "a match" \
    "$(tail -n 20 "$file" 2>/dev/null)"
}

# --- Loss, status and memory (the TCP tests) -------------------------------------------------

# kernel_loss PERCENT: the namespace's kernel drops PERCENT % of the IP packets it sends on tap0
# and PERCENT % of those it receives from it, at random (nftables `numgen random`; these kernels
# have no netem). kernel_loss_dropped tells how many each rule dropped.
kernel_loss() {
  ns nft -f - <<RULES || fail "nft: could not add the loss rules"
table inet e2e_loss {
  chain out { type filter hook output priority 0; policy accept;
    oifname "tap0" numgen random mod 100 < $1 counter drop; }
  chain in { type filter hook input priority 0; policy accept;
    iifname "tap0" numgen random mod 100 < $1 counter drop; }
}
RULES
  log "the kernel drops $1 % of the packets on tap0 each way (nftables)"
}

# kernel_loss_dropped out|in: packets the kernel_loss rule of that direction has dropped.
kernel_loss_dropped() {
  ns nft list chain inet e2e_loss "$1" | awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
}

# process_running PID: whether a process we started still runs: not exited, and not a zombie
# (exited, not yet waited for, which still answers kill -0). bash may reap the process at any
# moment, so a stat file that is gone or empty means "not running": reading it as running once
# made daemon_stop fail at once after a quick exit ("did not stop within 30s").
process_running() {
  local stat state
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  state=${stat##*) } # the field after the command name, which may hold spaces and parentheses
  state=${state%% *}
  [[ -n "$state" && "$state" != Z ]]
}

# daemon_cpu_ticks: the daemon's CPU time so far, user + system, in ticks (1/100 s), from
# /proc/PID/stat (fields 14 and 15, counted after the command name, which may hold spaces).
daemon_cpu_ticks() {
  local stat
  stat=$(cat "/proc/$DAEMON_PID/stat")
  awk '{ print $12 + $13 }' <<<"${stat##*) }"
}

# daemon_idle_ticks SETTLE SECONDS: lets the daemon settle for SETTLE seconds, then prints the
# CPU ticks it used over the next SECONDS (an idle daemon that sleeps uses next to none).
daemon_idle_ticks() {
  local before
  sleep "$1"
  before=$(daemon_cpu_ticks)
  sleep "$2"
  echo $(($(daemon_cpu_ticks) - before))
}

# daemon_rss_kb: the daemon's resident memory now (VmRSS from /proc/PID/status, in kB).
daemon_rss_kb() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status" 2>/dev/null || echo 0
}

# daemon_status_json: `netstackd status --json` of the daemon, which the test started with
# `--control "$WORK/control"`. Fails the test if the daemon does not answer within 10 s.
daemon_status_json() {
  timeout 10 "$NETSTACKD" status --control "$WORK/control" --json 2>"$WORK/status.err" \
    || fail "netstackd status failed or did not answer within 10 s" "a status report" "$(cat "$WORK/status.err")"
}

# open_connections [SECONDS]: waits up to SECONDS (default 5) until the daemon has no TCP
# connection open but those in TIME-WAIT (the last ACK of a close may still be on its way);
# prints how many are open then.
open_connections() {
  local seconds=${1:-5} open i
  for ((i = 0; i < seconds * 5; i++)); do
    open=$(status_value 's["tcp"]["connection_count"]') || return 1
    ((open == 0)) && break
    sleep 0.2
  done
  echo "$open"
}

# status_value EXPRESSION [JSON]: a Python expression over the status report `s` (the JSON
# given, or the daemon's status now), e.g. 's["tcp"]["time_wait"]' or
# 's["counters"]["tcp"]["syn_cookies_sent"]'.
status_value() {
  local json=${2:-}
  [[ -n "$json" ]] || json=$(daemon_status_json) || return 1
  "$PYTHON" -c 'import json, sys; s = json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$1" <<<"$json"
}

# --- IPv6 ------------------------------------------------------------------------------------

# ipv6_wait_ready ADDRESS [SECONDS]: waits until duplicate address detection is over on both
# sides of tap0: the namespace has no tentative address, and the daemon (started with
# --control "$WORK/control") shows ADDRESS and its link-local address preferred; then checks
# that ADDRESS answers ping. Fails after SECONDS (default 30).
ipv6_wait_ready() {
  local address=$1 seconds=${2:-30} deadline states
  deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    states=$(status_value "sorted(a['state'] for a in s['ipv6']['addresses'] if a['address'].startswith('$address/') or a['origin'] == 'link-local')")
    [[ -z "$(ns ip -6 addr show dev tap0 tentative)" && "$states" == "['preferred', 'preferred']" ]] && break
    sleep 0.2
  done
  expect_eq "the host side of tap0 has no tentative address" "" "$(ns ip -6 addr show dev tap0 tentative)"
  expect_eq "status: $address and the link-local address are preferred" "['preferred', 'preferred']" "$states"
  ns ping -c 1 -W 5 -q "$address" >/dev/null || fail "no answer to ping -6 $address"
  ok "$address answers ping"
}
