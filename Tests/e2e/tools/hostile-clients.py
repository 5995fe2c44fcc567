#!/usr/bin/env python3
"""Clients that hold a server's resources with kernel sockets (issue 11: memory that stays
bounded whatever a remote peer does). Run it inside the test's namespace only.

Usage: hostile-clients.py HOST SPEC...
  SPEC  KIND:PORT:COUNT, KIND one of
        chargen   connect and never read
        echo      send until the socket takes no more, never read
        bytes     send 'GET /bytes/1000000000' (keep-alive) and never read
        trickle   send an HTTP request head one byte per connection per second, never ending

Connections open in batches as earlier ones complete (at most 2,000 connecting at once).
Every socket has a 4 KiB receive buffer, so the kernel's side holds little. Prints
"KIND established N failed M" per spec once all have been tried, then "holding" (flushed),
and keeps every connection open (the trickling ones trickling) until killed.
"""
import errno
import resource
import selectors
import socket
import sys
import time

HEAD = b"GET / HTTP/1.1\r\nHost: netstack\r\nUser-Agent: trickle\r\nX-Padding: " + b"a" * 4096


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().splitlines()[3], file=sys.stderr)
        return 2
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    host = sys.argv[1]
    plan = []
    for spec in sys.argv[2:]:
        kind, port, count = spec.split(":")
        plan += [(kind, int(port))] * int(count)
    selector = selectors.DefaultSelector()
    results = {}
    connecting = 0
    held = []  # (kind, socket, bytes of the head sent)
    index = 0
    deadline = time.monotonic() + 300
    while (index < len(plan) or connecting) and time.monotonic() < deadline:
        while index < len(plan) and connecting < 2000:
            kind, port = plan[index]
            index += 1
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            code = sock.connect_ex((host, port))
            if code not in (0, errno.EINPROGRESS):
                results.setdefault(kind, [0, 0])[1] += 1
                sock.close()
                continue
            selector.register(sock, selectors.EVENT_WRITE, kind)
            connecting += 1
        for key, _ in selector.select(timeout=0.5):
            sock, kind = key.fileobj, key.data
            selector.unregister(sock)
            connecting -= 1
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                results.setdefault(kind, [0, 0])[1] += 1
                sock.close()
                continue
            results.setdefault(kind, [0, 0])[0] += 1
            try:
                if kind == "echo":
                    chunk = b"e" * 65536
                    for _ in range(64):
                        sock.send(chunk)
                elif kind == "bytes":
                    sock.send(b"GET /bytes/1000000000 HTTP/1.1\r\nHost: netstack\r\n\r\n")
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                pass
            held.append([kind, sock, 0])
    for kind in sorted(results):
        print(f"{kind} established {results[kind][0]} failed {results[kind][1]}", flush=True)
    print("holding", flush=True)
    trickling = [entry for entry in held if entry[0] == "trickle"]
    while True:
        started = time.monotonic()
        for entry in trickling:
            if entry[2] < len(HEAD):
                try:
                    entry[1].send(HEAD[entry[2]:entry[2] + 1])
                    entry[2] += 1
                except OSError:
                    pass
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


if __name__ == "__main__":
    sys.exit(main())
