#!/usr/bin/env bash
# A 50 MB file of random bytes from --http-root, fetched with curl over a lossy, reordering
# link: the kernel drops 3 % of the packets each way (nftables in the namespace) and the stack's
# fault injector reorders 5 % of the frames and delays every frame by 2 ms (--impair
# reorder=5%,delay=2ms). The file must arrive whole with the right sha256, and the transfer
# must keep moving: no progress for STALL seconds is a failure (a stall), as is taking longer
# than LIMIT seconds in all. The counters then show the impairment was real: the kernel dropped
# packets both ways, the stack retransmitted and recovered, the connection closed.
source "$(dirname "$0")/lib.sh"
e2e_begin tcp-lossy

SIZE=50000000   # 50 MB
STALL=30        # seconds without a byte arriving that count as a stall
LIMIT=240       # seconds the whole transfer may take (about 45 s in release on an idle machine)

mkdir "$WORK/root"
head -c "$SIZE" /dev/urandom >"$WORK/root/random.bin"
expected=$(sha256sum <"$WORK/root/random.bin" | cut -d' ' -f1)

kernel_loss 3
daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" \
  --http-root "$WORK/root" --control "$WORK/control" --impair reorder=5%,delay=2ms
daemon_wait_ready
expect_match "the daemon says it impairs frames" 'impairing frames both ways' "$(cat "$DAEMON_OUT")"

# curl in the background; watch the file grow.
started=$SECONDS
ip netns exec "$NS" curl -sS -o "$WORK/download.bin" -w '%{http_code} %{size_download}\n' \
  "http://$STACK_IP/random.bin" >"$WORK/curl.out" 2>"$WORK/curl.err" </dev/null &
curl_pid=$!
HELPER_PIDS+=("$curl_pid")
last=-1
still=0
while process_running "$curl_pid"; do
  size=$(stat -c %s "$WORK/download.bin" 2>/dev/null || echo 0)
  if ((size > last)); then still=0; last=$size; else still=$((still + 1)); fi
  elapsed=$((SECONDS - started))
  if ((elapsed > 0 && elapsed % 10 == 0 && still == 0)); then log "after ${elapsed} s: $size bytes"; fi
  if ((still >= STALL)); then
    log "connections now: $(status_value 's["tcp"]["connections"]' || true)"
    fail "the download stalled: no progress for ${STALL} s" "$SIZE bytes" "$size bytes after ${elapsed} s"
  fi
  if ((elapsed >= LIMIT)); then
    fail "the download did not finish within ${LIMIT} s" "$SIZE bytes" "$size bytes"
  fi
  daemon_alive || fail "netstackd died during the download"
  sleep 1
done
curl_status=0
wait "$curl_pid" || curl_status=$?
helper_stop "$curl_pid"
took=$((SECONDS - started))
expect_eq "curl exit status" 0 "$curl_status"
expect_eq "HTTP status and bytes downloaded" "200 $SIZE" "$(cat "$WORK/curl.out")"
actual=$(sha256sum <"$WORK/download.bin" | cut -d' ' -f1)
log "sha256 sent:     $expected"
log "sha256 received: $actual"
expect_eq "sha256 of the 50 MB file as received" "$expected" "$actual"
log "the transfer took ${took} s"

# The link really was lossy and the stack recovered.
dropped_out=$(kernel_loss_dropped out)
dropped_in=$(kernel_loss_dropped in)
# Packets to the stack are mostly ACKs, which Linux sends for every second (GRO-coalesced)
# segment: a few thousand in all, so 3 % of them is some tens.
expect_ge "packets to the stack that the kernel dropped" 20 "$dropped_out"
# Packets from the stack are TSO segments of up to 64 KiB (the kernel drops a whole one), a
# few thousand for 50 MB.
expect_ge "packets from the stack that the kernel dropped" 20 "$dropped_in"
retransmitted=$(status_value 's["counters"]["tcp"]["segments_retransmitted"]')
# Every data segment the kernel dropped had to be sent again (a few of the drops may have been
# pure ACKs, which are not).
expect_ge "tcp.segments_retransmitted (at least the drops from the stack, less 5)" \
  "$((dropped_in > 5 ? dropped_in - 5 : 0))" "$retransmitted"
expect_eq "connections left open (all closed, TIME-WAIT aside)" 0 "$(open_connections)"

daemon_stop TERM
expect_eq "exit status after SIGTERM" 0 "$DAEMON_STATUS"
expect_counters_printed
expect_eq "tcp.passive_opens" 1 "$(counter tcp.passive_opens)"
expect_eq "tcp.dropped_bad_checksum (the injector hands the stack whole frames)" 0 \
  "$(counter tcp.dropped_bad_checksum)"
log "tcp: $(counter tcp.segments_sent) segments sent, $(counter tcp.segments_retransmitted) retransmitted ($(counter tcp.fast_retransmits) fast, $(counter tcp.retransmission_timeouts) timeouts); kernel dropped $dropped_out to and $dropped_in from the stack"
