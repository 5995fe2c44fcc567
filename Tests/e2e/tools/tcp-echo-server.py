#!/usr/bin/env python3
"""A TCP echo server for the e2e tests: the peer of netstackd --echo-client.

Usage: tcp-echo-server.py ADDRESS PORT [CONNECTIONS]

Listens on ADDRESS:PORT and serves CONNECTIONS connections (default 1), one after the other:
sends back every byte it receives, and when the client half-closes, half-closes too. Prints
"listening on ADDRESS:PORT" once it listens, then for each connection
"connection from HOST:PORT: echoed N bytes, sha256 HEX" (the digest of what it received),
and exits 0 after the last one.
"""
import hashlib
import socket
import sys


def serve(connection, peer):
    digest = hashlib.sha256()
    total = 0
    with connection:
        while True:
            data = connection.recv(1 << 20)
            if not data:
                break
            digest.update(data)
            total += len(data)
            connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)
        # Wait for the client to close its side before closing ours.
        connection.settimeout(10)
        try:
            while connection.recv(65536):
                pass
        except OSError:
            pass
    print(f"connection from {peer[0]}:{peer[1]}: echoed {total} bytes, sha256 {digest.hexdigest()}",
          flush=True)


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    address, port = sys.argv[1], int(sys.argv[2])
    connections = int(sys.argv[3]) if len(sys.argv) == 4 else 1
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, port))
    listener.listen(16)
    print(f"listening on {address}:{port}", flush=True)
    for _ in range(connections):
        connection, peer = listener.accept()
        serve(connection, peer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
