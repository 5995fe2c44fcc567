#!/usr/bin/env python3
"""Writes a small pcap of deliberately broken frames from MAC, to prove the pcap check can fail.

Usage: make-bad-pcap.py MAC FILE (stdlib only). The frames, in order: an ICMP echo reply with a
bad IPv4 header checksum; one with a bad ICMP checksum; a UDP datagram with a bad UDP checksum;
a UDP header cut short (tshark calls it malformed); one good ICMP echo reply, which the check
must not flag; and an ICMP port unreachable with a bad ICMP checksum.
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


def ipv4(protocol: int, payload: bytes, bad=False, total_length=None) -> bytes:
    src, dst = socket.inet_aton("10.77.0.2"), socket.inet_aton("10.77.0.1")
    length = total_length if total_length is not None else 20 + len(payload)
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, length, 1, 0, 64, protocol, 0, src, dst)
    value = checksum(header) ^ (0x1111 if bad else 0)
    return header[:10] + struct.pack("!H", value) + header[12:] + payload


def icmp_echo_reply(bad=False) -> bytes:
    message = struct.pack("!BBHHH", 0, 0, 0, 1, 1) + b"netstack" * 4
    value = checksum(message) ^ (0x2222 if bad else 0)
    return message[:2] + struct.pack("!H", value) + message[4:]


def udp(bad=False) -> bytes:
    src, dst = socket.inet_aton("10.77.0.2"), socket.inet_aton("10.77.0.1")
    payload = b"checksum me"
    segment = struct.pack("!HHHH", 7, 40000, 8 + len(payload), 0) + payload
    value = checksum(src + dst + struct.pack("!BBH", 0, 17, len(segment)) + segment) ^ (0x3333 if bad else 0)
    return segment[:6] + struct.pack("!H", value) + segment[8:]


def port_unreachable(bad=False) -> bytes:
    quoted = ipv4(17, udp())  # the datagram it answers (addresses swapped does not matter here)
    message = struct.pack("!BBHI", 3, 3, 0, 0) + quoted
    value = checksum(message) ^ (0x4444 if bad else 0)
    return message[:2] + struct.pack("!H", value) + message[4:]


def main() -> None:
    mac = bytes(int(part, 16) for part in sys.argv[1].split(":"))
    host = bytes.fromhex("02aabbccddee")
    packets = [
        ipv4(1, icmp_echo_reply(), bad=True),
        ipv4(1, icmp_echo_reply(bad=True)),
        ipv4(17, udp(bad=True)),
        ipv4(17, udp()[:5], total_length=20 + 8 + 11),
        ipv4(1, icmp_echo_reply()),
        ipv4(1, port_unreachable(bad=True)),
    ]
    with open(sys.argv[2], "wb") as file:
        file.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for index, packet in enumerate(packets):
            frame = host + mac + b"\x08\x00" + packet
            file.write(struct.pack("<IIII", 1_700_000_000 + index, 0, len(frame), len(frame)))
            file.write(frame)


if __name__ == "__main__":
    main()
