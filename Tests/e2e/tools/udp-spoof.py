#!/usr/bin/env python3
"""Sends UDP datagrams with a forged source address and port through a raw socket, stdlib only.

Usage: udp-spoof.py SRC-IP SRC-PORT DST-IP DST-PORT [COUNT] [PAYLOAD]

Run it as root inside the test's network namespace: the kernel routes each IPv4 packet by its
destination (so it stays in the namespace) but leaves the source as given, which is how one
datagram "from" another echo server's port 7 reaches ours. The IP header is written here
(IP_HDRINCL); the kernel fills in its checksum. The UDP checksum is computed over the pseudo
header. Sends COUNT datagrams (default 1) carrying PAYLOAD (default "loop?"); prints one line.
"""
import socket
import struct
import sys


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def datagram(source: str, source_port: int, destination: str, port: int, payload: bytes) -> bytes:
    src, dst = socket.inet_aton(source), socket.inet_aton(destination)
    length = 8 + len(payload)
    header = struct.pack("!HHHH", source_port, port, length, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_UDP, length)
    udp_sum = checksum(pseudo + header + payload) or 0xFFFF
    udp = struct.pack("!HHHH", source_port, port, length, udp_sum) + payload
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0x5EED, 0, 64, socket.IPPROTO_UDP, 0, src, dst
    )
    return ip + udp


def main() -> int:
    if len(sys.argv) not in (5, 6, 7):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    source, source_port = sys.argv[1], int(sys.argv[2])
    destination, port = sys.argv[3], int(sys.argv[4])
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    payload = sys.argv[6].encode() if len(sys.argv) > 6 else b"loop?"
    packet = datagram(source, source_port, destination, port, payload)
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW) as sock:
        for _ in range(count):
            sock.sendto(packet, (destination, 0))
    print(f"sent {count} datagram(s) {source}:{source_port} -> {destination}:{port}, {len(payload)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
