#!/usr/bin/env python3
"""Sends an ICMPv6 packet too big about a running transfer (run it in the test's namespace only).

Usage: packet-too-big.py INTERFACE STACK_ADDRESS PORT MTU [SEQUENCE_SHIFT]

Waits (up to 30 s) on INTERFACE (a packet socket) for an IPv6 TCP segment from
STACK_ADDRESS, source port PORT, larger than MTU bytes, then sends STACK_ADDRESS an ICMPv6
packet too big (RFC 4443 §3.2, type 2 code 0) reporting MTU, quoting as much of that packet as
fits a 1280-byte message, from the namespace's own address (a raw ICMPv6 socket: the kernel
fills in the source and the checksum). Prints "quoted SEQUENCE LENGTH" (the quoted segment's
sequence number and the IPv6 packet's length); exit status 1 if no such segment came.
With SEQUENCE_SHIFT, the quote's TCP sequence number is moved by that much (modulo 2^32,
the TCP checksum left as it was): a forged report naming bytes the stack never sent, which
it must ignore (RFC 5927 §4.1).
"""
import socket
import struct
import sys
import time

ETH_P_IPV6 = 0x86DD
ETHERNET_HEADER = 14
IPV6_HEADER = 40
MINIMUM_MTU = 1280


def main():
    if len(sys.argv) not in (5, 6):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    interface, stack, port, mtu = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    shift = int(sys.argv[5]) if len(sys.argv) == 6 else 0
    stack_bytes = socket.inet_pton(socket.AF_INET6, stack)
    sniffer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IPV6))
    sniffer.bind((interface, ETH_P_IPV6))
    sniffer.settimeout(1.0)
    deadline = time.monotonic() + 30
    quoted = None
    while quoted is None and time.monotonic() < deadline:
        try:
            frame = sniffer.recv(65536)
        except socket.timeout:
            continue
        packet = frame[ETHERNET_HEADER:]
        if len(packet) < IPV6_HEADER + 20 or packet[0] >> 4 != 6:
            continue
        next_header, source = packet[6], packet[8:24]
        source_port = struct.unpack("!H", packet[IPV6_HEADER:IPV6_HEADER + 2])[0]
        if next_header == 6 and source == stack_bytes and source_port == port and len(packet) > mtu:
            quoted = packet
    if quoted is None:
        print("no TCP segment larger than the MTU from the stack within 30 s", file=sys.stderr)
        return 1
    if shift:
        moved = (struct.unpack("!I", quoted[IPV6_HEADER + 4:IPV6_HEADER + 8])[0] + shift) % 2**32
        quoted = quoted[:IPV6_HEADER + 4] + struct.pack("!I", moved) + quoted[IPV6_HEADER + 8:]
    body = quoted[:MINIMUM_MTU - IPV6_HEADER - 8]
    message = struct.pack("!BBHI", 2, 0, 0, mtu) + body
    sender = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    sender.sendto(message, (stack, 0))
    sequence = struct.unpack("!I", quoted[IPV6_HEADER + 4:IPV6_HEADER + 8])[0]
    print(f"quoted {sequence} {len(quoted)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
