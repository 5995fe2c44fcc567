#!/usr/bin/env python3
"""Clients that stall a service in one way each, and how the service ends them (issue 11:
progress deadlines). Run it inside the test's namespace only.

Usage: slow-clients.py HOST CASE
  CASE  partial-head   send half a request head, then nothing: expect a 408 and the close
        silent         connect to port 80 and send nothing: expect the close
        idle           one keep-alive request answered, then nothing: expect the close
        unread         GET /bytes/1000000000 with a 4 KiB receive buffer, never read: expect a reset
        zero-window    connect to chargen with a 4 KiB receive buffer, never read: expect a reset
Prints "CASE: RESULT after S s" (RESULT: 408-then-close, close, reset, or what happened
instead) and exits 0 when the expected ending came within 120 s.
"""
import socket
import sys
import time


def wait_end(sock, started, deadline=120):
    """Reads until the peer closes or resets; returns ("close"|"reset"|"timeout", data, seconds)."""
    sock.settimeout(1)
    data = b""
    while time.monotonic() - started < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return "reset", data, time.monotonic() - started
        if not chunk:
            return "close", data, time.monotonic() - started
        data += chunk
    return "timeout", data, time.monotonic() - started


def main():
    host, case = sys.argv[1], sys.argv[2]
    sock = socket.socket()
    if case in ("unread", "zero-window"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, 19 if case == "zero-window" else 80))
    started = time.monotonic()
    expected = "close"
    if case == "partial-head":
        sock.sendall(b"GET / HTTP/1.1\r\nHost: net")
        started = time.monotonic()
        ending, data, seconds = wait_end(sock, started)
        result = "408-then-" + ending if data.startswith(b"HTTP/1.1 408 ") else ending
        expected = "408-then-close"
    elif case == "silent":
        result, _, seconds = wait_end(sock, started)
    elif case == "idle":
        sock.sendall(b"GET / HTTP/1.1\r\nHost: netstack\r\n\r\n")
        first = sock.recv(65536)
        if not first.startswith(b"HTTP/1.1 200 "):
            print(f"{case}: no answer to the request", flush=True)
            return 1
        # The page may come in more than one piece; the close is what is awaited.
        started = time.monotonic()
        result, _, seconds = wait_end(sock, started)
    elif case in ("unread", "zero-window"):
        if case == "unread":
            sock.sendall(b"GET /bytes/1000000000 HTTP/1.1\r\nHost: netstack\r\n\r\n")
        # Never read: wait until the stack gives up, then look.
        deadline = time.monotonic() + 120
        result = "timeout"
        while time.monotonic() < deadline:
            time.sleep(0.5)
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error == 104:  # ECONNRESET
                result = "reset"
                break
        seconds = time.monotonic() - started
        expected = "reset"
    else:
        print(f"unknown case {case}", file=sys.stderr)
        return 2
    print(f"{case}: {result} after {seconds:.1f} s", flush=True)
    return 0 if result == expected else 1


if __name__ == "__main__":
    sys.exit(main())
