#!/usr/bin/env python3
"""A paced SYN flood for the e2e tests (run it inside the test's namespace only).

Usage: syn-flood.py SOURCE DESTINATION PORT RATE SECONDS

Sends RATE TCP SYNs a second to DESTINATION:PORT for SECONDS, from the spoofed address
SOURCE, each from a different source port (1024 upwards, wrapping after 64,000) with a random
sequence number and an MSS option, through a raw socket. Unlike `hping3 --flood`, which sends
as fast as one core can, the rate is held (the sends due are caught up every millisecond), so
that a run shows what a given rate does. Prints "sent N SYNs in S s (R/s)".
"""
import os
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


def syn(source, destination, source_port, port, sequence):
    # TCP header (24 bytes with the MSS option), checksum over the pseudo-header.
    options = struct.pack("!BBH", 2, 4, 1460)
    header = struct.pack("!HHIIBBHHH", source_port, port, sequence, 0, 6 << 4, 0x02, 64240, 0, 0)
    segment = header + options
    pseudo = source + destination + struct.pack("!BBH", 0, 6, len(segment))
    segment = segment[:16] + struct.pack("!H", checksum(pseudo + segment)) + segment[18:]
    # IPv4 header; the kernel fills in the total length, identification and checksum.
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0x4000, 64, 6, 0, source, destination)
    return ip + segment


def main():
    if len(sys.argv) != 6:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    source = socket.inet_aton(sys.argv[1])
    destination_text = sys.argv[2]
    destination = socket.inet_aton(destination_text)
    port, rate, seconds = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = 0
    started = time.monotonic()
    while True:
        elapsed = time.monotonic() - started
        if elapsed >= seconds:
            break
        due = int(elapsed * rate)
        while sent < due:
            source_port = 1024 + sent % 64000
            sequence = int.from_bytes(os.urandom(4), "big")
            packet = syn(source, destination, source_port, port, sequence)
            try:
                raw.sendto(packet, (destination_text, 0))
            except OSError:
                pass  # a full queue: the packet is lost, as in a real flood
            sent += 1
        time.sleep(0.001)
    elapsed = time.monotonic() - started
    print(f"sent {sent} SYNs in {elapsed:.1f} s ({sent / elapsed:.0f}/s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
