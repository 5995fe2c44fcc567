#!/usr/bin/env python3
"""GET a file over HTTP/1.1 and read it at a steady pace, like a slow client.

Usage: paced-download.py HOST PORT PATH BYTES_PER_SECOND OUTPUT

The reader is paced_http.fetch (a 64 KiB receive buffer, never ahead of the rate), so the
bytes in OUTPUT grow steadily for as long as the server keeps sending, and a server that
stalls shows as a file that stops growing.
Prints "STATUS BODY-BYTES" at the end (as curl -w '%{http_code} %{size_download}' does);
exit status 0 when the whole body (Content-Length) arrived, 1 otherwise.
"""
import sys

from paced_http import NoResponseHead, fetch


def main():
    host, port, path, rate, output = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5]
    try:
        status, received, length = fetch(host, port, path, rate, output, timeout=30)
    except NoResponseHead:
        print("0 0")
        return 1
    print(f"{status} {received}")
    return 0 if received == length else 1


if __name__ == "__main__":
    sys.exit(main())
