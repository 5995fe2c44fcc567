#!/usr/bin/env python3
"""Many slow HTTP clients at once, from one process: each GETs a file over HTTP/1.1 on its own
connection and reads it at a steady pace.

Usage: paced-clients.py COUNT HOST PORT PATH BYTES_PER_SECOND OUTDIR

Client i (1..COUNT) connects (all within a moment: one thread each, no process start-up per
client), sends a keep-alive GET (as curl does: the server keeps the connection ESTABLISHED and
the client closes it after the body), reads the body at BYTES_PER_SECOND through
paced_http.fetch (curl --limit-rate reads most of a megabyte in a burst first), and writes
OUTDIR/i.bin (the body), OUTDIR/i.out ("STATUS BODY-BYTES") and OUTDIR/i.status (0 when the
whole body, per Content-Length, arrived; 1 otherwise), and any error to OUTDIR/i.err.
"""
import os
import sys
import threading

from paced_http import fetch


def client(index, host, port, path, rate, outdir):
    base = os.path.join(outdir, str(index))
    status, received, ok = 0, 0, False
    try:
        status, received, length = fetch(host, port, path, rate, base + ".bin", keep_alive=True)
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
