#!/usr/bin/env bash
# --http-root with a hostile tree (issue 11): nothing outside the root is ever served, and
# only regular files are. The root holds a link to /etc, a link to a file outside, a link that
# climbs out with .., a FIFO nobody writes, a Unix socket, a character device and a directory,
# besides a regular file and a link that stays inside (which is followed). Requests go through
# curl --path-as-is, so `..` and percent-encoded `..` reach the daemon as written. The FIFO's
# request is answered (404) at once, and ping and curl keep working while it is asked for.
source "$(dirname "$0")/lib.sh"
e2e_begin http-root

ROOT="$WORK/root"
URL="http://$STACK_IP"
mkdir -p "$ROOT/sub" "$ROOT/dir"
echo "a file in the root" >"$ROOT/file.txt"
echo "inner" >"$ROOT/sub/inner.txt"
echo "outside the root" >"$WORK/outside.txt"
ln -s /etc "$ROOT/etc-link"
ln -s /etc/passwd "$ROOT/passwd-link"
ln -s ../outside.txt "$ROOT/escape"
ln -s sub/inner.txt "$ROOT/inside-link"
mkfifo "$ROOT/fifo"
mknod "$ROOT/null" c 1 3
"$PYTHON" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$ROOT/socket"
[[ -p "$ROOT/fifo" && -S "$ROOT/socket" && -c "$ROOT/null" ]] || fail "the tree: a FIFO, a socket, a device"

daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" --http-root "$ROOT"
daemon_wait_ready

# get PATH: "CODE BYTES" of GET PATH as written (--path-as-is); the body in $WORK/body.
get() {
  ns curl -s -m 10 --path-as-is -o "$WORK/body" -w '%{http_code} %{size_download}' "$URL$1" || true
}

expect_eq "GET /file.txt: served" "200 19" "$(get /file.txt)"
expect_eq "GET /file.txt: its content" "a file in the root" "$(cat "$WORK/body")"
expect_eq "GET /inside-link (a link that stays inside the root): followed" "200 6" "$(get /inside-link)"

# Nothing outside the root: each is 404 with the "not found" body, never a file's content.
for path in /etc-link/shadow /etc-link/passwd /etc-link/hostname /passwd-link /escape \
  /../outside.txt /sub/../../outside.txt /../../../../etc/passwd /%2e%2e/outside.txt \
  /%2e%2e/%2e%2e/%2e%2e/etc/passwd /sub/%2e%2e/%2e%2e/outside.txt /..%2foutside.txt \
  /%2E%2E%2Foutside.txt; do
  expect_eq "GET $path: not served" "404 10" "$(get "$path")"
  expect_eq "GET $path: the 404 body" "not found" "$(cat "$WORK/body")"
done

# Only regular files: the FIFO's request must not block the daemon (opening a FIFO for reading
# waits for a writer, unless non-blocking). It is asked for in the background while ping and
# curl check that the daemon still works.
ip netns exec "$NS" curl -s -m 20 -o /dev/null -w '%{http_code}' "$URL/fifo" >"$WORK/fifo.code" 2>&1 &
FIFO_PID=$!
HELPER_PIDS+=("$FIFO_PID")
ping_out=$(ns ping -c 3 -i 0.2 -W 2 "$STACK_IP" 2>&1) || true
expect_match "ping while /fifo is asked for: 3 replies" "3 packets transmitted, 3 received" "$ping_out"
expect_eq "GET /file.txt while /fifo is asked for" "200 19" "$(get /file.txt)"
wait "$FIFO_PID" || true
HELPER_PIDS=()
expect_eq "GET /fifo: answered, not served" 404 "$(cat "$WORK/fifo.code")"
for path in /socket /null /dir /dir/ /sub; do
  expect_eq "GET $path: not served" "404 10" "$(get "$path")"
done
expect_eq "GET /fifo again: not served" "404 10" "$(get /fifo)"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
