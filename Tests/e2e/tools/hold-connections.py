#!/usr/bin/env python3
"""Opens TCP connections to netstackd's services and holds them open (Tests/e2e/test-status.sh).

Usage: hold-connections.py HOST [SPEC...]
  SPEC  echo:PORT     send a line, read it back (the connection stays ESTABLISHED, idle)
        http:PORT     one keep-alive GET /, response read (stays open for the next request)
        chargen:PORT  read 100000 bytes, then stop reading (the stack's sends back up)
Prints "SPEC local-port PORT" for each connection, then "holding" (flushed), and keeps them
open until it is killed (SIGTERM closes them as the process exits).
"""
import signal
import socket
import sys


def main():
    host, specs = sys.argv[1], sys.argv[2:]
    held = []
    for spec in specs:
        kind, port = spec.split(":")
        sock = socket.create_connection((host, int(port)), timeout=10)
        if kind == "echo":
            sock.sendall(b"hello\n")
            answer = b""
            while len(answer) < 6:
                answer += sock.recv(6 - len(answer))
            assert answer == b"hello\n", answer
        elif kind == "http":
            sock.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            received = b""
            while b"\r\n\r\n" not in received:
                received += sock.recv(65536)
            head, _, body = received.partition(b"\r\n\r\n")
            length = int([line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")][0])
            while len(body) < length:
                body += sock.recv(65536)
        elif kind == "chargen":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            count = 0
            while count < 100000:
                count += len(sock.recv(100000 - count))
        held.append(sock)
        print(f"{spec} local-port {sock.getsockname()[1]}", flush=True)
    print("holding", flush=True)
    signal.pause()


if __name__ == "__main__":
    main()
