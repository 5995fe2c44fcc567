#!/usr/bin/env python3
"""Copies a pcap file, breaking chosen frames, to show that a pcap check catches them.

Usage: pcap-break-frames.py IN OUT CHECKSUM_FRAME LENGTH_FRAME

CHECKSUM_FRAME (1-based): its last byte is flipped, so its TCP checksum no longer matches.
LENGTH_FRAME: its IPv4 total length is made 40 bytes longer than the frame holds (a packet
cut short: malformed).
"""
import struct
import sys


def main():
    if len(sys.argv) != 5:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    data = bytearray(open(sys.argv[1], "rb").read())
    bad_checksum, bad_length = int(sys.argv[3]), int(sys.argv[4])
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        endian = ">"
    else:
        print("not a pcap file", file=sys.stderr)
        return 1
    offset, number = 24, 0
    while offset + 16 <= len(data):
        captured = struct.unpack_from(endian + "I", data, offset + 8)[0]
        start = offset + 16
        number += 1
        if number == bad_checksum:
            data[start + captured - 1] ^= 0x5A
        if number == bad_length:
            total = struct.unpack_from(">H", data, start + 16)[0]
            struct.pack_into(">H", data, start + 16, total + 40)
            # Keep the IPv4 header checksum right, so that only the length is wrong.
            header_length = (data[start + 14] & 0x0F) * 4
            struct.pack_into(">H", data, start + 24, 0)
            total_sum = 0
            for i in range(0, header_length, 2):
                total_sum += (data[start + 14 + i] << 8) | data[start + 15 + i]
            while total_sum >> 16:
                total_sum = (total_sum & 0xFFFF) + (total_sum >> 16)
            struct.pack_into(">H", data, start + 24, ~total_sum & 0xFFFF)
        offset = start + captured
    open(sys.argv[2], "wb").write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
