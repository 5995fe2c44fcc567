#!/usr/bin/env python3
"""GET a file over HTTP/1.1 and read it at a steady pace, like a slow client.

Usage: paced-download.py HOST PORT PATH BYTES_PER_SECOND OUTPUT

Unlike `curl --limit-rate`, which may read a burst of megabytes first and then sleep for
seconds to bring its average down, this reader never runs ahead of BYTES_PER_SECOND × the time
since it connected (by more than one 16 KiB read), and its receive buffer is small (64 KiB), so
the kernel cannot buffer far ahead either: the bytes in OUTPUT grow steadily for as long as the
server keeps sending, and a server that stalls shows as a file that stops growing.
Prints "STATUS BODY-BYTES" at the end (as curl -w '%{http_code} %{size_download}' does);
exit status 0 when the whole body (Content-Length) arrived, 1 otherwise.
"""
import socket
import sys
import time


def main():
    host, port, path, rate, output = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.settimeout(30)
    sock.connect((host, port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    start = time.monotonic()
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            print("0 0")
            return 1
        head += chunk
    head, body = head.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:"))
    received = len(body)
    with open(output, "wb", buffering=0) as out:
        out.write(body)
        while received < length:
            ahead = received - rate * (time.monotonic() - start)
            if ahead > 0:
                time.sleep(min(ahead / rate, 0.05))
                continue
            chunk = sock.recv(min(16384, length - received))
            if not chunk:
                break
            out.write(chunk)
            received += len(chunk)
    print(f"{status} {received}")
    return 0 if received == length else 1


if __name__ == "__main__":
    sys.exit(main())
