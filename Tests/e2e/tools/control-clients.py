#!/usr/bin/env python3
"""Hostile clients of netstackd's control socket (Tests/e2e/test-control-clients.sh), stdlib only.

Usage: control-clients.py SOCKET ACTION [COUNT]

ACTION (each client connects to SOCKET, a Unix stream socket):
  close-at-once    send "status json\\n" and close at once (before the daemon has written the
                   answer, unless it is quicker)
  shut-read        shut down the reading side (SHUT_RD), send "status\\n", then wait for the
                   daemon to close (POLLHUP), which it does when its write fails (EPIPE)
  never-read       send "status\\n", never read, wait for the daemon to close
  silent           connect and send nothing; wait for the daemon to close
  partial          send "stat" (no line feed); wait for the daemon to close
  long             send 10,000 bytes without a line feed; read the answer
  garbage          send ESC [2J, 0xff and a line feed; read the answer
  hold             COUNT clients connect at once and send nothing; each waits for the daemon
                   to close it
Runs COUNT (default 1) such clients, at once for hold, one after the other otherwise. For each
client it prints one line: "closed after S s" (the daemon closed it, S seconds after it
connected, with the answer's first line when there was one), or "open after S s" (still open
when the tool gave up, after 30 s).
"""
import select
import socket
import sys
import time

WAIT = 30.0


def connect(path):
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(path)
    return client


def wait_closed(client, started, reading=True):
    """Waits until the daemon closes the connection; returns (seconds, answer or None)."""
    answer = b""
    deadline = started + WAIT
    poller = select.poll()
    poller.register(client, select.POLLIN | select.POLLHUP | select.POLLERR)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, answer
        events = poller.poll(remaining * 1000)
        if not events:
            continue
        if not reading:
            # The reading side is shut: POLLIN is always set; POLLHUP says the daemon closed.
            if events[0][1] & (select.POLLHUP | select.POLLERR):
                return time.monotonic() - started, answer
            time.sleep(0.05)
            continue
        try:
            data = client.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            return time.monotonic() - started, answer
        answer += data


def report(seconds, answer):
    if seconds is None:
        print(f"open after {WAIT:.0f} s", flush=True)
        return
    first = answer.split(b"\n", 1)[0].decode("utf-8", "replace") if answer else ""
    print(f"closed after {seconds:.2f} s" + (f" answer: {first}" if first else ""), flush=True)


def one(path, action):
    client = connect(path)
    started = time.monotonic()
    if action == "close-at-once":
        client.sendall(b"status json\n")
        client.close()
        print("closed by the client", flush=True)
        return
    if action == "shut-read":
        # Shut first, so that the daemon's write always finds the reading side gone (EPIPE).
        client.shutdown(socket.SHUT_RD)
        client.sendall(b"status\n")
        report(*wait_closed(client, started, reading=False))
    elif action == "never-read":
        client.sendall(b"status\n")
        # Not reading: only whether the daemon hangs up matters (POLLHUP), the answer stays.
        report(*wait_closed(client, started, reading=False))
    elif action == "silent":
        report(*wait_closed(client, started))
    elif action == "partial":
        client.sendall(b"stat")
        report(*wait_closed(client, started))
    elif action == "long":
        try:
            client.sendall(b"s" * 10000)
        except (BrokenPipeError, ConnectionResetError):
            pass
        report(*wait_closed(client, started))
    elif action == "garbage":
        client.sendall(b"\x1b[2J\xff\n")
        report(*wait_closed(client, started))
    else:
        sys.exit(f"unknown action {action}")
    client.close()


def hold(path, count):
    clients = []
    for _ in range(count):
        clients.append((connect(path), time.monotonic()))
    poller = select.poll()
    by_descriptor = {}
    for client, started in clients:
        poller.register(client, select.POLLIN | select.POLLHUP | select.POLLERR)
        by_descriptor[client.fileno()] = (client, started)
    results = {}
    deadline = time.monotonic() + WAIT
    while len(results) < count and time.monotonic() < deadline:
        for descriptor, _ in poller.poll(200):
            client, started = by_descriptor[descriptor]
            try:
                data = client.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                results[descriptor] = time.monotonic() - started
                poller.unregister(descriptor)
    for client, _ in clients:
        report(results.get(client.fileno()), b"")
        client.close()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    path, action = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    if action == "hold":
        hold(path, count)
    else:
        for _ in range(count):
            one(path, action)


main()
