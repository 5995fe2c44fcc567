#!/usr/bin/env python3
"""Many slow HTTP clients at once, from one process: each GETs a file over HTTP/1.1 on its own
connection and reads it at a steady pace.

Usage: paced-clients.py COUNT HOST PORT PATH BYTES_PER_SECOND OUTDIR

Client i (1..COUNT) connects (all within a moment: one thread each, no process start-up per
client), sends a keep-alive GET (as curl does: the server keeps the connection ESTABLISHED and
the client closes it after the body), reads the body at BYTES_PER_SECOND with a 64 KiB receive buffer, as paced-download.py
does (curl --limit-rate reads most of a megabyte in a burst first), and writes OUTDIR/i.bin
(the body), OUTDIR/i.out ("STATUS BODY-BYTES") and OUTDIR/i.status (0 when the whole body,
per Content-Length, arrived; 1 otherwise), and any error to OUTDIR/i.err.
"""
import os
import socket
import sys
import threading
import time


def client(index, host, port, path, rate, outdir):
    base = os.path.join(outdir, str(index))
    status, received, ok = 0, 0, False
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.settimeout(60)
        sock.connect((host, port))
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        start = time.monotonic()
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("connection closed before the response head")
            head += chunk
        head, body = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:"))
        received = len(body)
        with open(base + ".bin", "wb") as out:
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
        sock.close()
        ok = received == length
    except Exception as error:  # reported per client; the test counts the statuses
        with open(base + ".err", "w") as err:
            err.write(f"{error}\n")
    with open(base + ".out", "w") as out:
        out.write(f"{status} {received}\n")
    with open(base + ".status", "w") as out:
        out.write("0\n" if ok else "1\n")


def main():
    count, host, port, path, rate, outdir = (
        int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]), sys.argv[6])
    threads = [threading.Thread(target=client, args=(i, host, port, path, rate, outdir)) for i in range(1, count + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
