#!/usr/bin/env bash
# The pcap of a lossy TCP transfer reads cleanly in tshark, with IPv4 and TCP checksum
# validation on: no frame in either direction is malformed or has a bad IPv4 or TCP checksum,
# every TCP segment the stack sent had its checksum verified as good, and none of the stack's
# frames has an expert warning or error (TCP sequence analysis off: retransmissions and
# out-of-order segments are expected on a lossy link and are not faults of the frames; nor is
# TCP reassembly or HTTP dissection on: the check is about frames, and reassembly warns when a
# retransmission's boundaries differ from the original's).
# The traffic: a 10 MB download from the stack (HTTP /bytes/N) and a 2 MB upload to it (nc to
# discard), each checked for size. Two runs:
#   1. TAP offloads on (the default), 3 % loss each way in the kernel (nftables): the pcap holds
#      the stack's segments with their checksums completed, and TSO frames larger than the MTU
#      (the kernel cuts them), which must be there;
#   2. --impair loss=3%,reorder=3%: the fault injector keeps the offloads (it holds frames with
#      their offload request and completes a checksum before corrupting a frame), so the pcap
#      again holds TSO frames with completed checksums.
# First the check itself is shown to catch a frame with a bad TCP checksum and a cut-short one,
# in a copy of run 1's pcap with those two frames broken.
source "$(dirname "$0")/lib.sh"
e2e_begin tcp-pcap

MAC=02:00:00:e2:e0:07
DOWN=10000000
UP=2000000
TSHARK=(tshark -n -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE
  -o tcp.analyze_sequence_numbers:FALSE -o tcp.desegment_tcp_streams:FALSE --disable-protocol http)

# frames FILE: one line per frame of the pcap, tab-separated: 1 number, 2 eth.src, 3 eth.dst,
# 4 length, 5 IPv4 checksum status, 6 TCP checksum status (1 good, 0 bad, 2 unverified),
# 7 source port, 8 destination port, 9 SYN, 10 raw sequence number, 11 raw acknowledgment,
# 12 D-SACK left edge, 13 expert severities, 14 expert groups, 15 expert messages, 16 TCP
# payload length, 17 ACK flag. Writes
# FILE.tsv; fails if tshark cannot read the file.
frames() {
  "${TSHARK[@]}" -r "$1" -T fields -E aggregator=, -E occurrence=a -e frame.number -e eth.src \
    -e eth.dst -e frame.len -e ip.checksum.status -e tcp.checksum.status -e tcp.srcport \
    -e tcp.dstport -e tcp.flags.syn -e tcp.seq_raw -e tcp.ack_raw -e tcp.options.sack.dsack_le \
    -e _ws.expert.severity -e _ws.expert.group -e _ws.expert.message -e tcp.len -e tcp.flags.ack >"$1.tsv" 2>"$WORK/tshark.err" \
    || fail "tshark could not read $(basename "$1")" "exit 0" "$(cat "$WORK/tshark.err")"
}

# problems TSV: the frames that are malformed or have a bad IPv4 or TCP checksum or an expert
# error (either direction), or are from the stack with an expert warning outside tshark's
# "Sequence" group (0x02000000: with sequence analysis off, what remains there is D-SACK, the
# stack reporting a duplicate it received, RFC 2883: right on a reordering link). A malformed
# frame carries an expert error of the "Malformed" group.
problems() {
  awk -F'\t' -v mac="$MAC" '{
    bad = ""
    if ($5 ~ /(^|,)0(,|$)/) bad = bad " bad-IPv4-checksum"
    if ($6 ~ /(^|,)0(,|$)/) bad = bad " bad-TCP-checksum"
    n = split($13, severity, ","); split($14, group, ",")
    for (i = 1; i <= n; i++)
      if (severity[i] >= 8388608 || ($2 == mac && severity[i] >= 6291456 && group[i] != 33554432)) {
        bad = bad " expert"; break
      }
    if (bad != "") print $1 "\t" $2 "\t" bad "\t" $15
  }' "$1"
}

# tally TSV AWK-CONDITION: how many frames meet the condition.
tally() { awk -F'\t' -v mac="$MAC" "$2 { n++ } END { print n + 0 }" "$1"; }

# run NAME DAEMON-ARGS...: the transfers with a --pcap, then the checks of that pcap.
run() {
  local name=$1 pcap="$WORK/$1.pcap"
  shift
  log "--- $name ---"
  daemon_start --tap tap0 --ip "$STACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX" --mac "$MAC" \
    --pcap "$pcap" "$@"
  daemon_wait_ready
  ns curl -sS -m 120 --speed-limit 1000 --speed-time 30 -o "$WORK/down.bin" \
    "http://$STACK_IP/bytes/$DOWN" || fail "$name: the download failed"
  expect_eq "$name: bytes downloaded" "$DOWN" "$(stat -c %s "$WORK/down.bin")"
  head -c "$UP" /dev/urandom >"$WORK/up.bin"
  ns timeout 120 nc -N "$STACK_IP" 9 <"$WORK/up.bin" || fail "$name: the upload failed"
  daemon_stop TERM
  expect_eq "$name: exit status after SIGTERM" 0 "$DAEMON_STATUS"
  expect_ge "$name: tcp.segments_retransmitted (the loss was real)" 10 "$(counter tcp.segments_retransmitted)"

  frames "$pcap"
  ok "$name: tshark reads the pcap"
  local tsv="$pcap.tsv" stack_tcp
  stack_tcp=$(tally "$tsv" '$2 == mac && $7 != ""')
  log "$name: $(tally "$tsv" 1) frames, $stack_tcp TCP segments from the stack"
  # With TSO a frame carries up to 64 KiB, so the number of frames says little; what must hold
  # is that the capture has the whole download: the HTTP payload the stack sent (retransmissions
  # included) is at least the body.
  expect_ge "$name: TCP payload bytes from the stack's HTTP port in the pcap (the whole body)" "$DOWN" \
    "$(awk -F'\t' -v mac="$MAC" '$2 == mac && $7 == 80 { n += $16 } END { printf "%d", n }' "$tsv")"
  expect_eq "$name: frames malformed, with a bad checksum or an expert error; from the stack, a warning" "" \
    "$(problems "$tsv")"
  expect_eq "$name: TCP segments from the stack with a verified good checksum (all)" "$stack_tcp" \
    "$(tally "$tsv" '$2 == mac && $7 != "" && $6 == "1"')"
  expect_eq "$name: TCP segments to the stack with a verified good checksum (all)" \
    "$(tally "$tsv" '$3 == mac && $7 != ""')" "$(tally "$tsv" '$3 == mac && $7 != "" && $6 == "1"')"
  # The discard service's highest acknowledgment, less the SYN and the FIN, is what it got
  # (segments with the ACK flag only: a RST that answers a stray segment after the close has
  # none, and tshark shows its zero acknowledgment field).
  expect_eq "$name: bytes the discard service acknowledged" "$UP" "$(awk -F'\t' -v mac="$MAC" '
    $3 == mac && $8 == 9 && $9 == 1 { isn = $10 }
    $2 == mac && $7 == 9 && $17 == 1 { got = ($11 - isn + 4294967296) % 4294967296; if (got > most) most = got }
    END { print most - 2 }' "$tsv")"
  log "$name: $(tally "$tsv" '$2 == mac && $12 != ""') D-SACKs from the stack"
  LARGE=$(tally "$tsv" '$2 == mac && $4 > 1514')
  log "$name: $LARGE frames from the stack larger than the MTU (TSO)"
}

kernel_loss 3
run offload
ns nft delete table inet e2e_loss
expect_ge "offload: TSO frames from the stack (larger than 1514 bytes)" 1 "$LARGE"
run impair --impair loss=3%,reorder=3%
expect_ge "impair: TSO frames from the stack (the injector keeps the offloads)" 1 "$LARGE"

# --- The check can fail: two frames of run 1's pcap broken ---
# (the 5th and the 50th of the stack's TCP segments with data, here frames of the download)
data_frames=$(awk -F'\t' -v mac="$MAC" '$2 == mac && $7 == 80 && $4 > 200 { print $1 }' "$WORK/offload.pcap.tsv")
first=$(sed -n 5p <<<"$data_frames")
second=$(sed -n 50p <<<"$data_frames")
"$PYTHON" "$TOOLS/pcap-break-frames.py" "$WORK/offload.pcap" "$WORK/broken.pcap" "$first" "$second"
frames "$WORK/broken.pcap"
expect_eq "self-check: the two broken frames are flagged, nothing else" "$first $second" \
  "$(problems "$WORK/broken.pcap.tsv" | cut -f1 | xargs)"
