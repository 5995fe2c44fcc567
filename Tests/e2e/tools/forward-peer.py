#!/usr/bin/env python3
"""Both ends of a TCP connection through netstackd --forward (Tests/e2e/test-forward.sh).

Usage:
  forward-peer.py server HOST PORT MODE REPLY_BYTES
      Listens on HOST:PORT (HOST an IPv4 or IPv6 address) and serves connections one after the other, for as long as it
      runs. Each connection, by MODE:
        after   read until the client's FIN, then send REPLY_BYTES and close;
        first   send REPLY_BYTES and half-close, then read until the client's FIN, close;
        duplex  send REPLY_BYTES while reading until the client's FIN (both at once), close.
      Prints "MODE: received N bytes sha256 H, sent M bytes" for each connection (flushed).
  forward-peer.py client HOST PORT MODE SEND_BYTES EXPECT_BYTES
      The matching client: sends SEND_BYTES (half-closing after them) and reads until the
      server's FIN, in the order MODE gives (after: send then read; first: read then send;
      duplex: both at once). Checks what it read is EXPECT_BYTES of the server's stream.
  forward-peer.py refused HOST PORT
      Connects and expects the connection to be reset or closed (no data) within 10 s.
  forward-peer.py stream NAME BYTES   prints the SHA-256 of BYTES of stream NAME.

The data are two different pseudo-random streams: "to-server" (what clients send) and
"to-client" (what servers send), so a mix-up or a corruption in either direction shows.
Exits 1 on any failure.
"""
import hashlib
import random
import socket
import sys
import threading
import time

CHUNK = 65536


def stream(name, count):
    """COUNT bytes of the pseudo-random stream NAME."""
    return random.Random(name).randbytes(count)


def send_all_and_half_close(sock, data):
    view = memoryview(data)
    for offset in range(0, len(view), CHUNK):
        sock.sendall(view[offset:offset + CHUNK])
    sock.shutdown(socket.SHUT_WR)


def read_to_end(sock):
    received = bytearray()
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            return bytes(received)
        received += chunk


def serve(host, port, mode, reply_count):
    reply = stream("to-client", reply_count)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(16)
    print(f"listening on {host}:{port} ({mode})", flush=True)
    while True:
        connection, _ = listener.accept()
        connection.settimeout(60)
        try:
            if mode == "after":
                received = read_to_end(connection)
                send_all_and_half_close(connection, reply)
            elif mode == "first":
                send_all_and_half_close(connection, reply)
                received = read_to_end(connection)
            else:
                sender = threading.Thread(target=send_all_and_half_close, args=(connection, reply))
                sender.start()
                received = read_to_end(connection)
                sender.join()
            # Wait for the client's side to be done before closing (no RST for unread data).
            print(f"{mode}: received {len(received)} bytes sha256 {hashlib.sha256(received).hexdigest()}, "
                  f"sent {len(reply)} bytes", flush=True)
        except OSError as error:
            print(f"{mode}: connection failed: {error}", flush=True)
        finally:
            connection.close()


def client(host, port, mode, send_count, expect_count):
    data = stream("to-server", send_count)
    expected = stream("to-client", expect_count)
    sock = socket.create_connection((host, port), timeout=60)
    started = time.monotonic()
    if mode == "after":
        send_all_and_half_close(sock, data)
        received = read_to_end(sock)
    elif mode == "first":
        received = read_to_end(sock)
        # The server's FIN has arrived; our direction must still work.
        send_all_and_half_close(sock, data)
        rest = read_to_end(sock)
        if rest:
            print(f"FAIL: {len(rest)} bytes after the server's FIN")
            return 1
    else:
        sender = threading.Thread(target=send_all_and_half_close, args=(sock, data))
        sender.start()
        received = read_to_end(sock)
        sender.join()
    took = time.monotonic() - started
    sock.close()
    if received != expected:
        first = next((i for i in range(min(len(received), len(expected)))
                      if received[i] != expected[i]), min(len(received), len(expected)))
        print(f"FAIL: {mode}: received {len(received)} bytes, expected {len(expected)}; "
              f"first difference at byte {first}")
        return 1
    print(f"{mode}: sent {send_count} bytes, received {len(received)} bytes identical "
          f"({took:.2f} s)")
    return 0


def refused(host, port):
    started = time.monotonic()
    try:
        sock = socket.create_connection((host, port), timeout=10)
    except ConnectionRefusedError:
        print(f"connection refused at once ({time.monotonic() - started:.2f} s)")
        return 0
    except ConnectionResetError:
        # The handshake completed and the reset came before connect() returned.
        print(f"connection reset ({time.monotonic() - started:.2f} s, during connect)")
        return 0
    sock.settimeout(10)
    try:
        data = sock.recv(4096)
    except ConnectionResetError:
        print(f"connection reset ({time.monotonic() - started:.2f} s)")
        return 0
    except socket.timeout:
        print("FAIL: no reset or close within 10 s")
        return 1
    if data:
        print(f"FAIL: got {len(data)} bytes")
        return 1
    print(f"connection closed (FIN) without data ({time.monotonic() - started:.2f} s)")
    return 0


def main():
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "server":
        serve(arguments[0], int(arguments[1]), arguments[2], int(arguments[3]))
        return 0
    if command == "client":
        return client(arguments[0], int(arguments[1]), arguments[2], int(arguments[3]),
                      int(arguments[4]))
    if command == "refused":
        return refused(arguments[0], int(arguments[1]))
    if command == "stream":
        print(hashlib.sha256(stream(arguments[0], int(arguments[1]))).hexdigest())
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
