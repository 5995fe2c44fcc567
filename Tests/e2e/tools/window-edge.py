#!/usr/bin/env python3
"""Opens TCP connections with its own handshakes and sends one byte at the far edge of the
window each offers (issue 11: memory that stays bounded whatever a remote peer does). Run it
inside the test's namespace only.

Usage: window-edge.py SOURCE DESTINATION PORT COUNT FIRST-PORT

From SOURCE (an address of this namespace), ports FIRST-PORT upwards, it sends COUNT SYNs to
DESTINATION:PORT through a raw socket and reads the answers from another. For each SYN-ACK it
acknowledges, sends one byte at the edge of the SYN-ACK's window, and, when the stack's ACK of
that byte shows its scaled window, one more byte at the edge of that one. The kernel knows
nothing of these connections and would reset them: the test drops the kernel's RSTs from
these source ports with nftables. Prints "established N, edge bytes M" and keeps the
connections (sending nothing more) until it is killed.
"""
import os
import select
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def segment(source, destination, sport, dport, seq, ack, flags, window, options=b"", payload=b""):
    offset = (20 + len(options)) // 4
    header = struct.pack(
        "!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, offset << 4, flags,
        window, 0, 0)
    body = header + options + payload
    pseudo = source + destination + struct.pack("!BBH", 0, 6, len(body))
    body = body[:16] + struct.pack("!H", checksum(pseudo + body)) + body[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0x4000, 64, 6, 0, source, destination)
    return ip + body


def options_of(tcp, offset):
    """The window scale in a TCP header's options, if any."""
    index, end, scale = 20, offset, None
    while index < end:
        kind = tcp[index]
        if kind == 0:
            break
        if kind == 1:
            index += 1
            continue
        if index + 1 >= end:
            break
        length = tcp[index + 1]
        if length < 2:
            break
        if kind == 3 and length == 3:
            scale = tcp[index + 2]
        index += length
    return scale


SYN, RST, PSH, ACK = 0x02, 0x04, 0x08, 0x10


def main():
    if len(sys.argv) != 6:
        print(__doc__.strip().splitlines()[3], file=sys.stderr)
        return 2
    source, destination = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2])
    port, count, first = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    send = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    receive = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    receive.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    receive.setblocking(False)
    target = (sys.argv[2], 0)
    # Our SYN: MSS 1460, SACK permitted, window scale 7.
    syn_options = struct.pack("!BBH", 2, 4, 1460) + bytes([1, 1, 4, 2, 1, 3, 3, 7])
    ours = {}  # source port -> [our ISN, their ISN, state]; state 1 = first edge sent, 2 = done
    for index in range(count):
        sport = first + index
        isn = int.from_bytes(os.urandom(4), "big")
        ours[sport] = [isn, 0, 0]
    pending = list(ours)
    sent_at = {}  # source port -> when its SYN last went out
    established = edges = 0
    last_progress = time.monotonic()
    while edges < 2 * count and time.monotonic() - last_progress < 15:
        now = time.monotonic()
        # SYNs go out in batches as answers come back, so the stack's backlog is never the
        # limit; one unanswered for 2 s is sent again.
        waiting = [port_ for port_, at in sent_at.items() if ours[port_][1] == 0]
        for sport in waiting:
            if now - sent_at[sport] > 2:
                sent_at[sport] = now
                send.sendto(segment(source, destination, sport, port, ours[sport][0], 0, SYN, 65535, syn_options), target)
        in_flight = len(waiting)
        while pending and in_flight < 512:
            sport = pending.pop()
            sent_at[sport] = now
            send.sendto(segment(source, destination, sport, port, ours[sport][0], 0, SYN, 65535, syn_options), target)
            in_flight += 1
        ready, _, _ = select.select([receive], [], [], 0.05)
        if not ready:
            continue
        for _ in range(4096):
            try:
                packet = receive.recv(65535)
            except BlockingIOError:
                break
            header_length = (packet[0] & 0x0F) * 4
            if packet[12:16] != destination:
                continue
            tcp = packet[header_length:]
            sport, dport, seq, ack, offset_byte, flags, window = struct.unpack("!HHIIBBH", tcp[:16])
            if sport != port or dport not in ours:
                continue
            state = ours[dport]
            offset = (offset_byte >> 4) * 4
            if flags & SYN and flags & ACK and state[1] == 0:
                scale = options_of(tcp, offset) or 0
                state[1] = seq
                state.append(scale)
                established += 1
                base = state[0] + 1
                send.sendto(segment(source, destination, dport, port, base, seq + 1, ACK, 512), target)
                # One byte at the edge of the SYN-ACK's (unscaled) window.
                send.sendto(segment(source, destination, dport, port, base + window - 1, seq + 1, ACK | PSH, 512, payload=b"x"), target)
                state[2] = 1
                edges += 1
                last_progress = time.monotonic()
            elif flags & ACK and not flags & (SYN | RST) and state[2] == 1:
                scale = state[3]
                scaled = window << scale
                base = state[0] + 1
                send.sendto(segment(source, destination, dport, port, base + scaled - 1, state[1] + 1, ACK | PSH, 512, payload=b"y"), target)
                state[2] = 2
                edges += 1
                last_progress = time.monotonic()
    print(f"established {established}, edge bytes {edges}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
