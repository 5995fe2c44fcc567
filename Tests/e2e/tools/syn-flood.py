#!/usr/bin/env python3
"""A paced SYN flood for the e2e tests (run it inside the test's namespace only).

Usage: syn-flood.py SOURCE DESTINATION PORT RATE SECONDS

Sends RATE TCP SYNs a second to DESTINATION:PORT for SECONDS, from the spoofed address
SOURCE, each from a different source port (1024 upwards, wrapping after 64,000) with a random
sequence number and an MSS option, through a raw socket. Unlike `hping3 --flood`, which sends
as fast as one core can, the rate is held (the sends due are caught up every millisecond), so
that a run shows what a given rate does; RATE 0 sends as fast as it can (hping3 has no IPv6).
Prints "sent N SYNs in S s (R/s)".

IPv4 (both addresses dotted quads): whole datagrams through an IPPROTO_RAW socket. IPv6: TCP
segments through a raw IPPROTO_TCP socket bound to SOURCE, which must be an address of the
namespace (added with nodad), the kernel filling in the checksum (IPV6_CHECKSUM, RFC 3542
§3.1); the MSS option then says 1220, IPv6's default.
"""
import os
import socket
import struct
import sys
import time

IPV6_CHECKSUM = 7  # <netinet/in.h>; Python's socket module does not name it


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def tcp_syn(source_port, port, sequence, mss):
    # TCP header (24 bytes with the MSS option), checksum left zero.
    options = struct.pack("!BBH", 2, 4, mss)
    header = struct.pack("!HHIIBBHHH", source_port, port, sequence, 0, 6 << 4, 0x02, 64240, 0, 0)
    return header + options


def syn4(source, destination, source_port, port, sequence):
    segment = tcp_syn(source_port, port, sequence, 1460)
    pseudo = source + destination + struct.pack("!BBH", 0, 6, len(segment))
    segment = segment[:16] + struct.pack("!H", checksum(pseudo + segment)) + segment[18:]
    # IPv4 header; the kernel fills in the total length, identification and checksum.
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0x4000, 64, 6, 0, source, destination)
    return ip + segment


def main():
    if len(sys.argv) != 6:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    source_text, destination_text = sys.argv[1], sys.argv[2]
    port, rate, seconds = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    if ":" in destination_text:
        raw = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
        raw.setsockopt(socket.IPPROTO_IPV6, IPV6_CHECKSUM, 16)
        raw.bind((source_text, 0))
        target = (destination_text, 0)

        def packet(source_port, sequence):
            return tcp_syn(source_port, port, sequence, 1220)
    else:
        raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        source, destination = socket.inet_aton(source_text), socket.inet_aton(destination_text)
        target = (destination_text, 0)

        def packet(source_port, sequence):
            return syn4(source, destination, source_port, port, sequence)
    sent = 0
    started = time.monotonic()
    while True:
        elapsed = time.monotonic() - started
        if elapsed >= seconds:
            break
        due = int(elapsed * rate) if rate > 0 else sent + 256
        while sent < due:
            source_port = 1024 + sent % 64000
            sequence = int.from_bytes(os.urandom(4), "big")
            try:
                raw.sendto(packet(source_port, sequence), target)
            except OSError:
                pass  # a full queue: the packet is lost, as in a real flood
            sent += 1
        if rate > 0:
            time.sleep(0.001)
    elapsed = time.monotonic() - started
    print(f"sent {sent} SYNs in {elapsed:.1f} s ({sent / elapsed:.0f}/s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
