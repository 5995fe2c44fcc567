#!/usr/bin/env python3
"""Sends UDP datagrams of the given sizes to HOST PORT and checks each comes back identical.

Usage: udp-echo-check.py HOST PORT SIZE... (HOST an IPv4 or IPv6 address; stdlib only; one
connected socket, 3 s timeout per datagram). The payloads are seeded pseudo-random bytes, so a corrupted or truncated echo shows.
Prints one line per size; exits 1 if any echo is missing or differs.
"""
import random
import socket
import sys


def main() -> int:
    host, port = sys.argv[1], int(sys.argv[2])
    sizes = [int(size) for size in sys.argv[3:]]
    generator = random.Random(7)
    failures = 0
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.settimeout(3.0)
        sock.connect((host, port))
        for size in sizes:
            payload = bytes(generator.getrandbits(8) for _ in range(size))
            sock.send(payload)
            try:
                echoed = sock.recv(70000)
            except socket.timeout:
                print(f"size {size}: no echo within 3 s")
                failures += 1
                continue
            except OSError as error:
                print(f"size {size}: receive failed: {error}")
                failures += 1
                continue
            if echoed == payload:
                print(f"size {size}: echoed identical")
            else:
                first = next((i for i, (a, b) in enumerate(zip(payload, echoed)) if a != b), None)
                print(f"size {size}: echo differs: got {len(echoed)} bytes, first difference at {first}")
                failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
