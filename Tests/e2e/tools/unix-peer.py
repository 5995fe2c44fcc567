#!/usr/bin/env python3
"""A peer of netstackd's Unix-socket frame link, well-behaved or hostile (Tests/e2e/
test-unix-peers.sh), stdlib only. The link carries Ethernet frames, each preceded by its length
as a 32-bit big-endian integer (QEMU -netdev stream); the peer is a host with its own MAC and
IPv4 address on the stack's network.

Usage: unix-peer.py [--listen] [--ip ADDR] [--stack ADDR] SOCKET ACTION [ARG]
  --listen      bind SOCKET and wait for `netstackd --unix SOCKET` to connect (default:
                connect to `netstackd --unix-listen SOCKET`)
  --ip ADDR     this peer's address (default 10.77.0.10; MAC 52:54:00:e2:e0:10)
  --stack ADDR  the stack's address (default 10.77.0.2)

ACTION:
  ping COUNT        resolve the stack by ARP, send COUNT ICMP echo requests one at a time,
                    answer the stack's ARP requests; prints "replies N"; exit 1 unless N == COUNT
  bad-length N      send an ARP request, then a length prefix of N and 4 more bytes; waits for
                    the daemon to close the connection (up to 30 s); prints "closed after S s"
                    or "open after 30 s"
  flood-and-vanish  resolve the stack, then write echo requests without reading until the
                    socket takes no more (at most 20,000), and close at once, so that the
                    daemon's answers meet a peer that is gone; prints "sent N frames"
  shut-read         resolve the stack, shut down the reading side, send 100 echo requests;
                    waits for the daemon to close (POLLHUP); prints "closed after S s" or
                    "open after 30 s"
  hold              connect (or accept) and print "connected"; stay until the other side closes
                    or SIGTERM
"""
import os
import select
import signal
import socket
import struct
import sys
import time

PEER_MAC = bytes.fromhex("525400e2e010")
BROADCAST = b"\xff" * 6
WAIT = 30.0


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def framed(frame):
    return struct.pack("!I", len(frame)) + frame


def arp(operation, sender_ip, target_mac, target_ip, destination):
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, operation)
    body += PEER_MAC + sender_ip + target_mac + target_ip
    return destination + PEER_MAC + b"\x08\x06" + body


def echo_request(source, destination, stack_mac, identifier, sequence, payload=b"netstack-e2e-ping"):
    icmp = struct.pack("!BBHHH", 8, 0, 0, identifier, sequence) + payload
    icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), sequence, 0x4000, 64, 1, 0,
                         source, destination)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return stack_mac + PEER_MAC + b"\x08\x00" + header + icmp


class Link:
    """The peer's end of the socket, with the frames received so far."""

    def __init__(self, sock, ip, stack):
        self.sock = sock
        self.ip = ip
        self.stack = stack
        self.buffer = b""
        self.closed = False

    def send(self, frame):
        self.sock.sendall(framed(frame))

    def frames(self, timeout):
        """The frames that arrive within `timeout` seconds (at least one, unless none does)."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if ready:
            data = self.sock.recv(1 << 20)
            if not data:
                self.closed = True
            self.buffer += data
        result = []
        while len(self.buffer) >= 4:
            (length,) = struct.unpack("!I", self.buffer[:4])
            if len(self.buffer) < 4 + length:
                break
            result.append(self.buffer[4:4 + length])
            self.buffer = self.buffer[4 + length:]
        for frame in result:
            self.answer_arp(frame)
        return result

    def answer_arp(self, frame):
        """Answers the stack's ARP requests for this peer's address."""
        if len(frame) >= 42 and frame[12:14] == b"\x08\x06" and frame[20:22] == b"\x00\x01" \
                and frame[38:42] == self.ip:
            self.send(arp(2, self.ip, frame[22:28], frame[28:32], frame[6:12]))

    def resolve(self):
        """The stack's MAC, by ARP (asks once a second, for up to 10 s)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            self.send(arp(1, self.ip, b"\0" * 6, self.stack, BROADCAST))
            until = time.monotonic() + 1
            while time.monotonic() < until:
                for frame in self.frames(0.2):
                    if frame[12:14] == b"\x08\x06" and frame[20:22] == b"\x00\x02" \
                            and frame[28:32] == self.stack:
                        return frame[22:28]
                if self.closed:
                    sys.exit("the daemon closed the connection during ARP")
        sys.exit("no ARP reply from the stack within 10 s")


def wait_closed(sock, started, reading=True):
    """Seconds from `started` until the daemon closes the connection, or None after WAIT."""
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLHUP | select.POLLERR)
    while time.monotonic() - started < WAIT:
        events = poller.poll(200)
        if not events:
            continue
        if not reading:
            if events[0][1] & (select.POLLHUP | select.POLLERR):
                return time.monotonic() - started
            time.sleep(0.05)
            continue
        try:
            data = sock.recv(1 << 20)
        except ConnectionResetError:
            data = b""
        if not data:
            return time.monotonic() - started
    return None


def report_closed(seconds):
    print(f"closed after {seconds:.2f} s" if seconds is not None else f"open after {WAIT:.0f} s",
          flush=True)


def main():
    arguments = sys.argv[1:]
    listen = False
    ip, stack = "10.77.0.10", "10.77.0.2"
    while arguments and arguments[0].startswith("--"):
        option = arguments.pop(0)
        if option == "--listen":
            listen = True
        elif option == "--ip":
            ip = arguments.pop(0)
        elif option == "--stack":
            stack = arguments.pop(0)
        else:
            sys.exit(f"unknown option {option}\n{__doc__}")
    if len(arguments) < 2:
        sys.exit(__doc__)
    path, action, rest = arguments[0], arguments[1], arguments[2:]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    if listen:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(1)
        print("listening", flush=True)
        sock, _ = listener.accept()
        listener.close()
        os.unlink(path)
    else:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
    started = time.monotonic()
    link = Link(sock, socket.inet_aton(ip), socket.inet_aton(stack))

    if action == "ping":
        count = int(rest[0])
        stack_mac = link.resolve()
        replies = 0
        for sequence in range(1, count + 1):
            link.send(echo_request(link.ip, link.stack, stack_mac, 0x4E53, sequence))
            deadline = time.monotonic() + 5
            answered = False
            while not answered and time.monotonic() < deadline and not link.closed:
                for frame in link.frames(0.2):
                    if frame[12:14] == b"\x08\x00" and len(frame) >= 42 and frame[23] == 1 \
                            and frame[34] == 0 and struct.unpack("!H", frame[40:42])[0] == sequence:
                        answered = True
            replies += answered
        print(f"replies {replies}", flush=True)
        sys.exit(0 if replies == count else 1)
    elif action == "bad-length":
        length = int(rest[0])
        sock.sendall(framed(arp(1, link.ip, b"\0" * 6, link.stack, BROADCAST)))
        try:
            sock.sendall(struct.pack("!I", length) + b"\xde\xad\xbe\xef")
        except (BrokenPipeError, ConnectionResetError):
            pass
        report_closed(wait_closed(sock, started))
    elif action == "flood-and-vanish":
        stack_mac = link.resolve()
        frames = [framed(echo_request(link.ip, link.stack, stack_mac, 0x4E54, sequence % 65536))
                  for sequence in range(20000)]
        sock.setblocking(False)
        sent = 0
        chunk = 256
        while sent < len(frames):
            data = b"".join(frames[sent:sent + chunk])
            try:
                written = sock.send(data)
            except BlockingIOError:
                break
            if written < len(data):
                # Finish the frame cut in the middle, so that the stream stays well-formed.
                whole, part = 0, 0
                for frame in frames[sent:sent + chunk]:
                    if part + len(frame) > written:
                        sock.setblocking(True)
                        sock.sendall(frame[written - part:])
                        whole += 1
                        break
                    part += len(frame)
                    whole += 1
                sent += whole
                break
            sent += chunk
        sock.close()
        print(f"sent {sent} frames", flush=True)
    elif action == "shut-read":
        stack_mac = link.resolve()
        sock.shutdown(socket.SHUT_RD)
        for sequence in range(1, 101):
            try:
                link.send(echo_request(link.ip, link.stack, stack_mac, 0x4E55, sequence))
            except (BrokenPipeError, ConnectionResetError):
                break
        report_closed(wait_closed(sock, started, reading=False))
    elif action == "hold":
        print("connected", flush=True)
        try:
            while sock.recv(1 << 20):
                pass
        except ConnectionResetError:
            pass
    else:
        sys.exit(f"unknown action {action}\n{__doc__}")


main()
