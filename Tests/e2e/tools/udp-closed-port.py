#!/usr/bin/env python3
"""Checks that UDP to closed ports is refused: ICMP port unreachable turns into ECONNREFUSED.

Usage: udp-closed-port.py HOST OPEN-PORT CLOSED-PORT... (stdlib only). For each closed port, a
connected UDP socket sends one datagram and its next receive must fail with ECONNREFUSED (the
kernel reports the ICMP port unreachable it got) within 3 s. As a control, the open port must
answer instead. Prints one line per port; exits 1 on any other outcome.
"""
import socket
import sys


def probe(host: str, port: int) -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3.0)
        sock.connect((host, port))
        sock.send(b"is anybody there?")
        try:
            data = sock.recv(2048)
            return f"answered with {len(data)} bytes"
        except ConnectionRefusedError:
            return "refused"
        except socket.timeout:
            return "no answer within 3 s"


def main() -> int:
    host, open_port = sys.argv[1], int(sys.argv[2])
    closed_ports = [int(port) for port in sys.argv[3:]]
    failures = 0
    outcome = probe(host, open_port)
    print(f"port {open_port} (open): {outcome}")
    if not outcome.startswith("answered"):
        failures += 1
    for port in closed_ports:
        outcome = probe(host, port)
        print(f"port {port} (closed): {outcome}")
        if outcome != "refused":
            failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
