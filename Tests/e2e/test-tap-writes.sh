#!/usr/bin/env bash
# Frames written through io_uring (--tap-writes io_uring and io_uring-sqpoll, issue 15): for
# each mode, with and without the virtio-net header (--no-offload),
# - the daemon says at start that it writes through the ring (or, where io_uring is refused,
#   that it falls back to write(2): then the test fails, since this kernel allows io_uring);
# - a 20 MB file of random bytes arrives whole (sha256) over a link where the kernel drops 1 %
#   of the packets each way, and ping is answered (15 of 20 at least: the rule drops echoes too);
# - the writes were batched: tap.ring_submissions is above 0 and, without a submission thread,
#   below tap.frames_written (many frames per io_uring_enter); with one, the thread took most
#   frames without a system call;
# - the idle daemon uses no CPU time: the submission thread sleeps 1 ms after its last frame,
#   so over 10 idle seconds utime + stime (/proc/PID/stat, every thread) grow by a few ticks at
#   most, where a spinning thread would take ~1,000;
# - on SIGTERM the daemon stops with status 0 (the ring waits for writes in flight).
source "$(dirname "$0")/lib.sh"
e2e_begin tap-writes

SIZE=20000000 # 20 MB
LIMIT=180     # seconds the download may take

mkdir "$WORK/root"
head -c "$SIZE" /dev/urandom >"$WORK/root/random.bin"
expected=$(sha256sum <"$WORK/root/random.bin" | cut -d' ' -f1)
kernel_loss 1


for mode in io_uring io_uring-sqpoll; do
  for offload in "" --no-offload; do
    what="$mode${offload:+ $offload}"
    daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" \
      --http-root "$WORK/root" --control "$WORK/control" --tap-writes "$mode" $offload
    daemon_wait_ready
    said="io_uring"
    [[ $mode == io_uring-sqpoll ]] && said="io_uring-sqpoll \\(idle 1000 us\\)"
    expect_match "$what: the daemon says it writes through the ring" \
      "^netstackd: tap0: frames written through $said\$" "$(cat "$DAEMON_OUT")"
    rm -f "$WORK/download.bin"
    status=0
    ns timeout "$LIMIT" curl -sS -o "$WORK/download.bin" -w '%{http_code} %{size_download}' \
      "http://$STACK_IP/random.bin" >"$WORK/curl.out" 2>"$WORK/curl.err" || status=$?
    expect_eq "$what: curl exit status" 0 "$status"
    expect_eq "$what: HTTP status and bytes" "200 $SIZE" "$(cat "$WORK/curl.out")"
    expect_eq "$what: sha256 of the file as received" "$expected" \
      "$(sha256sum <"$WORK/download.bin" | cut -d' ' -f1)"
    # The loss rule takes about 2 % of the echoes and replies too.
    ping_out=$(ns ping -n -c 20 -i 0.01 -W 1 "$STACK_IP" 2>&1) || true
    replies=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$ping_out")
    expect_ge "$what: echo replies of 20" 15 "${replies:-0}"
    if [[ $mode == io_uring-sqpoll ]]; then
      # The thread sleeps 1 ms after the last frame: let the loop settle, then measure.
      expect_le "$what: CPU ticks (1/100 s) used over 10 idle seconds" 5 "$(daemon_idle_ticks 1 10)"
    fi
    daemon_stop TERM
    expect_eq "$what: exit status after SIGTERM" 0 "$DAEMON_STATUS"
    written=$(counter tap.frames_written)
    submissions=$(counter tap.ring_submissions)
    log "$what: $written frames written with $submissions io_uring_enter calls, $(counter tcp.segments_retransmitted) segments retransmitted"
    # 20 MB is 13,000 segments at least, or, with TSO, 300 frames of up to 64 KiB.
    minimum=13000
    [[ -z $offload ]] && minimum=300
    expect_ge "$what: frames written" "$minimum" "$written"
    expect_ge "$what: io_uring_enter calls" 1 "$submissions"
    if [[ $mode == io_uring ]]; then
      expect_le "$what: io_uring_enter calls below frames written (batches)" \
        "$((written - 1))" "$submissions"
    else
      expect_le "$what: wake-ups of the submission thread at most half the frames" \
        "$((written / 2))" "$submissions"
    fi
    expect_eq "$what: transmit errors" 0 "$(counter tap.transmit_errors)"
  done
done
expect_ge "the kernel dropped packets to the stack (1 %)" 1 "$(kernel_loss_dropped in)"
expect_ge "the kernel dropped packets from the stack (1 %)" 1 "$(kernel_loss_dropped out)"
