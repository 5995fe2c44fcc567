#!/usr/bin/env python3
"""Checks of netstackd's TCP services that need more than curl and nc (Tests/e2e).

Usage:
  service-check.py pattern N                  SHA-256 of what GET /bytes/N must return
  service-check.py head HOST PORT PATH LENGTH HEAD on a raw connection: status 200,
                                              Content-Length LENGTH, no body before EOF
  service-check.py discard HOST PORT BYTES    send BYTES, half-close, expect a clean EOF
  service-check.py chargen HOST PORT BYTES    read BYTES of RFC 864 lines, check them, then
                                              half-close: the stream must end (FIN or RST)

Prints one line per check; exits 1 on the first failure.
"""
import hashlib
import os
import socket
import sys
import time

PATTERN_LINE = b"netstack: a TCP/IP stack in Swift. 0123456789abcdefghijklmnopqrstuvwxyz\n"


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def pattern_sha256(count):
    digest = hashlib.sha256()
    block = PATTERN_LINE * 4096
    remaining = count
    while remaining > 0:
        piece = block[: min(len(block), remaining)]
        digest.update(piece)
        remaining -= len(piece)
    return digest.hexdigest()


def connect(host, port):
    sock = socket.create_connection((host, int(port)), timeout=20)
    sock.settimeout(20)
    return sock


def head(host, port, path, length):
    sock = connect(host, port)
    sock.sendall(f"HEAD {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    received = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    sock.close()
    head_bytes, separator, body = received.partition(b"\r\n\r\n")
    if not separator:
        fail(f"no end of the response head in {received[:200]!r}")
    lines = head_bytes.decode("latin-1").split("\r\n")
    if lines[0] != "HTTP/1.1 200 OK":
        fail(f"status line {lines[0]!r}, expected 'HTTP/1.1 200 OK'")
    lengths = [line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("content-length:")]
    if lengths != [str(length)]:
        fail(f"Content-Length {lengths}, expected [{length}]")
    if body:
        fail(f"HEAD answered with {len(body)} body bytes")
    print(f"HEAD {path}: 200, Content-Length {length}, no body, then the server closed")


def discard(host, port, count):
    data = os.urandom(count)
    sock = connect(host, port)
    started = time.monotonic()
    sock.sendall(data)
    sock.shutdown(socket.SHUT_WR)
    try:
        answer = sock.recv(65536)
    except ConnectionResetError:
        fail("the connection was reset after the half-close (expected a clean FIN)")
    except socket.timeout:
        fail("no FIN within 20 s of the half-close")
    if answer:
        fail(f"discard sent {len(answer)} bytes back")
    took = time.monotonic() - started
    sock.close()
    print(f"discard: {count} bytes accepted, FIN after the half-close ({took:.2f} s)")


def chargen_cycle():
    lines = []
    for line in range(95):
        lines.append(bytes(32 + (line + column) % 95 for column in range(72)) + b"\r\n")
    return b"".join(lines)


def chargen(host, port, count):
    cycle = chargen_cycle()
    expected = cycle * (count // len(cycle) + 2)
    sock = connect(host, port)
    received = bytearray()
    while len(received) < count:
        chunk = sock.recv(min(262144, count - len(received)))
        if not chunk:
            fail(f"chargen ended after {len(received)} bytes")
        received += chunk
    if bytes(received) != expected[:count]:
        first = next(i for i in range(count) if received[i] != expected[i])
        fail(f"chargen byte {first} is {received[first]!r}, expected {expected[first]!r}")
    print(f"chargen: {count} bytes of RFC 864 lines ({len(cycle)}-byte cycle), all as expected")
    # The client closes its side: the server must stop sending and end the connection.
    sock.shutdown(socket.SHUT_WR)
    started = time.monotonic()
    after = 0
    how = None
    try:
        while True:
            chunk = sock.recv(262144)
            if not chunk:
                how = "FIN"
                break
            after += len(chunk)
    except ConnectionResetError:
        how = "RST"
    except socket.timeout:
        fail(f"chargen still sending 20 s after the client's half-close ({after} bytes since)")
    sock.close()
    print(f"chargen: stopped {time.monotonic() - started:.2f} s after the client's half-close "
          f"({how}, {after} bytes in flight)")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "pattern":
        print(pattern_sha256(int(arguments[0])))
    elif command == "head":
        head(arguments[0], arguments[1], arguments[2], int(arguments[3]))
    elif command == "discard":
        discard(arguments[0], arguments[1], int(arguments[2]))
    elif command == "chargen":
        chargen(arguments[0], arguments[1], int(arguments[2]))
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
