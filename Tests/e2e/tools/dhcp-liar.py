#!/usr/bin/env python3
"""A DHCP client that lies (RFC 2131), for the server tests; stdlib only.

Usage: dhcp-liar.py IFACE SERVER-IP MODE ARGS...

  init-reboot FIRST LAST   one DHCPREQUEST in INIT-REBOOT form (requested address, no server
                           identifier, no ciaddr) per address FIRST..LAST, each from a made-up
                           hardware address the server has never seen
  renew FIRST LAST         one DHCPREQUEST in RENEWING form (ciaddr, unicast to the server)
                           per address, each from a made-up hardware address
  discover COUNT           COUNT DHCPDISCOVERs, each from a made-up hardware address
  discover-decline COUNT   COUNT times: a DHCPDISCOVER from a made-up hardware address, then a
                           DHCPDECLINE of the address offered to it
  release ADDRESS MAC      two DHCPRELEASEs of ADDRESS, the lease of the client MAC: one with
                           its client identifier (1 and MAC) from a made-up hardware address,
                           one from MAC without a server identifier

Run it as root inside the test's network namespace. It sends from UDP port 68 of IFACE (a
socket bound to the interface, which needs an address: broadcasts go to 255.255.255.255:67)
with the BROADCAST flag set, so that the server's answers come back to it; the made-up
hardware addresses are 02:ba:d0:xx:xx:xx (in chaddr; the frames carry IFACE's own). After
sending, it collects answers for one second (two per DISCOVER) and prints one line per
message type, e.g. "DHCPACK 0", "DHCPNAK 1", "DHCPOFFER 12".
"""
import random
import select
import socket
import struct
import sys
import time

COOKIE = b"\x63\x82\x53\x63"
TYPES = {1: "DHCPDISCOVER", 2: "DHCPOFFER", 3: "DHCPREQUEST", 4: "DHCPDECLINE", 5: "DHCPACK",
         6: "DHCPNAK", 7: "DHCPRELEASE", 8: "DHCPINFORM"}
DISCOVER, REQUEST, DECLINE, RELEASE = 1, 3, 4, 7


def made_up_mac(index: int) -> bytes:
    return bytes([0x02, 0xBA, 0xD0, (index >> 16) & 0xFF, (index >> 8) & 0xFF, index & 0xFF])


def mac_bytes(text: str) -> bytes:
    return bytes(int(part, 16) for part in text.split(":"))


def message(kind: int, xid: int, chaddr: bytes, ciaddr: str = "0.0.0.0", options=()) -> bytes:
    header = struct.pack("!BBBBIHH", 1, 1, 6, 0, xid, 0, 0x8000)
    header += socket.inet_aton(ciaddr) + bytes(12)  # ciaddr, yiaddr, siaddr, giaddr
    header += chaddr + bytes(10) + bytes(64 + 128)
    body = COOKIE + bytes([53, 1, kind])
    for code, data in options:
        body += bytes([code, len(data)]) + data
    body += b"\xff"
    packet = header + body
    return packet + bytes(max(0, 300 - len(packet)))


def parse(packet: bytes):
    """(xid, message type, yiaddr) of a server's answer, or None."""
    if len(packet) < 240 or packet[0] != 2 or packet[236:240] != COOKIE:
        return None
    xid = struct.unpack("!I", packet[4:8])[0]
    yiaddr = socket.inet_ntoa(packet[16:20])
    index, kind = 240, None
    while index + 1 < len(packet) and packet[index] != 255:
        if packet[index] == 0:
            index += 1
            continue
        code, length = packet[index], packet[index + 1]
        if code == 53 and length == 1:
            kind = packet[index + 2]
        index += 2 + length
    return (xid, kind, yiaddr) if kind is not None else None


class Liar:
    def __init__(self, interface: str, server: str):
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode())
        self.sock.bind(("0.0.0.0", 68))
        self.answers = {}
        self.xid = random.getrandbits(24) << 8

    def send(self, packet: bytes, destination: str = "255.255.255.255"):
        self.sock.sendto(packet, (destination, 67))

    def next_xid(self) -> int:
        self.xid += 1
        return self.xid

    def collect(self, seconds: float, want_xid=None):
        """Answers until `seconds` pass (or the one for `want_xid` arrives); returns that one."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                return None
            answer = parse(self.sock.recv(2048))
            if answer is None:
                continue
            xid, kind, yiaddr = answer
            name = TYPES.get(kind, f"type {kind}")
            self.answers[name] = self.answers.get(name, 0) + 1
            if want_xid is not None and xid == want_xid:
                return answer


def addresses(first: str, last: str):
    low = struct.unpack("!I", socket.inet_aton(first))[0]
    high = struct.unpack("!I", socket.inet_aton(last))[0]
    return [socket.inet_ntoa(struct.pack("!I", value)) for value in range(low, high + 1)]


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    interface, server, mode, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    server_id = (54, socket.inet_aton(server))
    liar = Liar(interface, server)
    sent = 0
    if mode == "init-reboot":
        for index, address in enumerate(addresses(*args)):
            chaddr = made_up_mac(0x1000 + index)
            liar.send(message(REQUEST, liar.next_xid(), chaddr,
                              options=[(50, socket.inet_aton(address)), (61, b"\x01" + chaddr)]))
            sent += 1
    elif mode == "renew":
        for index, address in enumerate(addresses(*args)):
            chaddr = made_up_mac(0x2000 + index)
            liar.send(message(REQUEST, liar.next_xid(), chaddr, ciaddr=address,
                              options=[(61, b"\x01" + chaddr)]), destination=server)
            sent += 1
    elif mode == "discover":
        for index in range(int(args[0])):
            chaddr = made_up_mac(0x3000 + index)
            liar.send(message(DISCOVER, liar.next_xid(), chaddr, options=[(61, b"\x01" + chaddr)]))
            sent += 1
    elif mode == "discover-decline":
        for index in range(int(args[0])):
            chaddr = made_up_mac(0x4000 + index)
            xid = liar.next_xid()
            liar.send(message(DISCOVER, xid, chaddr, options=[(61, b"\x01" + chaddr)]))
            sent += 1
            offer = liar.collect(2.0, want_xid=xid)
            if offer is None or offer[1] != 2:
                continue
            liar.send(message(DECLINE, liar.next_xid(), chaddr,
                              options=[(50, socket.inet_aton(offer[2])), server_id,
                                       (61, b"\x01" + chaddr)]))
            sent += 1
    elif mode == "release":
        address, victim = args[0], mac_bytes(args[1])
        liar.send(message(RELEASE, liar.next_xid(), made_up_mac(0x5000), ciaddr=address,
                          options=[server_id, (61, b"\x01" + victim)]), destination=server)
        liar.send(message(RELEASE, liar.next_xid(), victim, ciaddr=address,
                          options=[(61, b"\x01" + victim)]), destination=server)
        sent += 2
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    liar.collect(1.0)
    print(f"sent {sent} messages ({mode})")
    for name in ("DHCPOFFER", "DHCPACK", "DHCPNAK"):
        print(f"{name} {liar.answers.get(name, 0)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
