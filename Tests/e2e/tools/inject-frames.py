#!/usr/bin/env python3
"""Writes hostile Ethernet frames into a TAP device from the host side (AF_PACKET), stdlib only.

Usage: inject-frames.py IFACE STACK-MAC STACK-IP HOST-IP COUNT SEED

Run it inside the test's network namespace: the frames go out of the kernel's side of IFACE and
so into the stack behind it, and nowhere else. COUNT frames are spread over the kinds below, in
a seeded order (the same SEED gives the same frames); most are addressed to the stack (its MAC
or broadcast, its IP) so that they get past Ethernet and reach the layer they attack:

  random       random bytes of random length
  ethertype    an Ethernet header to the stack with a random EtherType and random payload
  ip-trunc     a well-formed IPv4 packet (ICMP echo, UDP) cut short at a random length
  ip-checksum  a well-formed IPv4 packet with a wrong header checksum
  ip-header    bad version, IHL < 5, IHL past the end, total length too big or too small,
               garbage options (header checksum correct, so the bad field is what is tested)
  arp          ARP cut short, with bad hardware/protocol types and lengths, unknown opcodes,
               requests and replies for other hosts, a few claiming the stack's own address
  udp          UDP cut short, length field too big or too small, bad checksums (also to the
               echo port, which must not answer), closed ports, broadcast sources
  icmp         ICMP cut short, bad checksums, unknown types, errors quoting garbage,
               echo requests to broadcast
  fragments    overlapping, past 65535, odd-sized middle fragments, empty, duplicate first
               fragments, DF with MF, thousands of unfinished datagrams
  other        IPv4 for other hosts, from broadcast/multicast/zero/loopback sources, TTL 0,
               VLAN-tagged frames, the stack's IP behind a multicast MAC

Prints the seed, how many frames of each kind were written, and write errors; exits 1 if the
kernel refused any frame.
"""
import os
import random
import socket
import struct
import sys
import time

BROADCAST = b"\xff" * 6


def mac_bytes(text: str) -> bytes:
    return bytes(int(part, 16) for part in text.split(":"))


def ip_bytes(text: str) -> bytes:
    return socket.inet_aton(text)


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ethernet(dst: bytes, src: bytes, ethertype: int, payload: bytes) -> bytes:
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(src: bytes, dst: bytes, protocol: int, payload: bytes, *, ttl=64, ident=0, flags=0,
         offset=0, options=b"", ihl=None, total_length=None, version=4, bad_checksum=False) -> bytes:
    if ihl is None:
        ihl = 5 + len(options) // 4
    if total_length is None:
        total_length = 20 + len(options) + len(payload)
    header = struct.pack("!BBHHHBBH4s4s", (version << 4) | (ihl & 0xF), 0, total_length & 0xFFFF,
                         ident & 0xFFFF, (flags << 13) | (offset & 0x1FFF), ttl & 0xFF, protocol,
                         0, src, dst) + options
    value = checksum(header)
    if bad_checksum:
        value ^= 0x1234
    header = header[:10] + struct.pack("!H", value) + header[12:]
    return header + payload


def udp(src: bytes, dst: bytes, sport: int, dport: int, payload: bytes, *, length=None,
        checksum_mode="good") -> bytes:
    if length is None:
        length = 8 + len(payload)
    segment = struct.pack("!HHHH", sport, dport, length & 0xFFFF, 0) + payload
    if checksum_mode == "zero":
        value = 0
    else:
        pseudo = src + dst + struct.pack("!BBH", 0, 17, len(segment))
        value = checksum(pseudo + segment) or 0xFFFF
        if checksum_mode == "bad":
            value ^= 0x0F0F
    return segment[:6] + struct.pack("!H", value) + segment[8:]


def icmp(kind: int, code: int, rest: bytes, payload: bytes, *, bad_checksum=False) -> bytes:
    message = struct.pack("!BBH", kind, code, 0) + rest + payload
    value = checksum(message)
    if bad_checksum:
        value ^= 0x00FF
    return message[:2] + struct.pack("!H", value) + message[4:]


def arp(op: int, sha: bytes, spa: bytes, tha: bytes, tpa: bytes, *, htype=1, ptype=0x0800,
        hlen=6, plen=4) -> bytes:
    return struct.pack("!HHBBH", htype, ptype, hlen, plen, op) + sha + spa + tha + tpa


class Generator:
    def __init__(self, rng: random.Random, stack_mac: bytes, host_mac: bytes, stack_ip: bytes,
                 host_ip: bytes):
        self.rng = rng
        self.stack_mac = stack_mac
        self.host_mac = host_mac
        self.stack_ip = stack_ip
        self.host_ip = host_ip
        self.next_ident = rng.randrange(65536)

    # --- small helpers ---

    def some_bytes(self, count: int) -> bytes:
        return self.rng.randbytes(count)

    def ident(self) -> int:
        self.next_ident = (self.next_ident + 1) & 0xFFFF
        return self.next_ident

    def random_mac(self) -> bytes:
        # Locally administered unicast, never the stack's.
        value = bytearray(self.some_bytes(6))
        value[0] = (value[0] & 0xFC) | 0x02
        return bytes(value) if bytes(value) != self.stack_mac else self.random_mac()

    def peer_ip(self) -> bytes:
        """A made-up neighbour in the subnet: never the host side or the stack itself."""
        prefix = self.stack_ip[:3]
        while True:
            candidate = prefix + bytes([self.rng.randrange(3, 255)])
            if candidate not in (self.stack_ip, self.host_ip):
                return candidate

    def any_ip(self) -> bytes:
        return self.rng.choice([self.peer_ip(), self.some_bytes(4), ip_bytes("192.0.2.1")])

    def to_stack(self, packet: bytes, ethertype=0x0800) -> bytes:
        dst = self.stack_mac if self.rng.random() < 0.9 else BROADCAST
        return ethernet(dst, self.random_mac(), ethertype, packet)

    def good_packet(self) -> bytes:
        """A well-formed IPv4 packet for the stack: ICMP echo request or UDP."""
        src = self.peer_ip()
        if self.rng.random() < 0.5:
            body = icmp(8, 0, struct.pack("!HH", self.rng.randrange(65536), 1),
                        self.some_bytes(self.rng.randrange(0, 200)))
            return ipv4(src, self.stack_ip, 1, body, ident=self.ident())
        body = udp(src, self.stack_ip, self.rng.randrange(1024, 65536), self.rng.choice([7, 9, 53]),
                   self.some_bytes(self.rng.randrange(0, 200)))
        return ipv4(src, self.stack_ip, 17, body, ident=self.ident())

    # --- the kinds ---

    def random(self) -> bytes:
        return self.some_bytes(self.rng.randrange(14, 1515))

    def ethertype(self) -> bytes:
        kind = self.rng.choice([0x0800, 0x0806, 0x86DD, 0x8100, 0x88CC, 0x0000, 0xFFFF,
                                self.rng.randrange(65536)])
        return self.to_stack(self.some_bytes(self.rng.randrange(0, 1501)), kind)

    def ip_trunc(self) -> bytes:
        packet = self.good_packet()
        return self.to_stack(packet[:self.rng.randrange(0, len(packet))])

    def ip_checksum(self) -> bytes:
        src = self.peer_ip()
        body = icmp(8, 0, struct.pack("!HH", 1, 1), self.some_bytes(32))
        return self.to_stack(ipv4(src, self.stack_ip, 1, body, ident=self.ident(), bad_checksum=True))

    def ip_header(self) -> bytes:
        src = self.peer_ip()
        body = udp(src, self.stack_ip, 40000, 7, self.some_bytes(self.rng.randrange(0, 64)))
        choice = self.rng.randrange(6)
        if choice == 0:
            packet = ipv4(src, self.stack_ip, 17, body, version=self.rng.choice([0, 5, 6, 15]))
        elif choice == 1:
            packet = ipv4(src, self.stack_ip, 17, body, ihl=self.rng.randrange(0, 5))
        elif choice == 2:
            packet = ipv4(src, self.stack_ip, 17, body, ihl=15)  # options past the payload's end
            packet = packet[:20 + self.rng.randrange(0, 40)]
        elif choice == 3:
            packet = ipv4(src, self.stack_ip, 17, body, total_length=len(body) + 20 + self.rng.randrange(1, 2000))
        elif choice == 4:
            packet = ipv4(src, self.stack_ip, 17, body, total_length=self.rng.randrange(0, 20))
        else:
            options = self.some_bytes(4 * self.rng.randrange(1, 11))
            packet = ipv4(src, self.stack_ip, 17, body, options=options)
        return self.to_stack(packet)

    def arp(self) -> bytes:
        sha = self.random_mac()
        spa = self.peer_ip()
        choice = self.rng.randrange(8)
        if choice == 0:  # cut short
            packet = arp(1, sha, spa, b"\0" * 6, self.stack_ip)[:self.rng.randrange(0, 28)]
        elif choice == 1:  # wrong hardware type / protocol type
            packet = arp(1, sha, spa, b"\0" * 6, self.stack_ip, htype=self.rng.choice([0, 6, 0xFFFF]),
                         ptype=self.rng.choice([0x0800, 0x86DD, 0]))
        elif choice == 2:  # wrong address lengths
            packet = arp(1, sha, spa, b"\0" * 6, self.stack_ip, hlen=self.rng.choice([0, 4, 16, 255]),
                         plen=self.rng.choice([0, 6, 16, 255]))
        elif choice == 3:  # unknown opcode
            packet = arp(self.rng.choice([0, 3, 4, 8, 0xFFFF]), sha, spa, b"\0" * 6, self.stack_ip)
        elif choice == 4:  # request for some other host
            packet = arp(1, sha, spa, b"\0" * 6, self.peer_ip())
        elif choice == 5:  # unsolicited reply
            packet = arp(2, sha, spa, self.stack_mac, self.stack_ip)
        elif choice == 6:  # broadcast, multicast or zero sender
            bad_sha = self.rng.choice([BROADCAST, b"\x01\x00\x5e\x00\x00\x01", b"\0" * 6])
            packet = arp(1, bad_sha, spa, b"\0" * 6, self.stack_ip)
        else:  # a request from someone claiming the stack's own address (now and then)
            claimed = self.stack_ip if self.rng.random() < 0.1 else self.some_bytes(4)
            packet = arp(1, sha, claimed, b"\0" * 6, self.stack_ip)
        packet += self.some_bytes(self.rng.randrange(0, 20))
        dst = BROADCAST if self.rng.random() < 0.5 else self.stack_mac
        return ethernet(dst, sha, 0x0806, packet)

    def udp(self) -> bytes:
        src = self.peer_ip() if self.rng.random() < 0.8 else self.any_ip()
        payload = self.some_bytes(self.rng.randrange(0, 300))
        port = self.rng.choice([7, 7, 9, self.rng.randrange(65536)])
        choice = self.rng.randrange(6)
        if choice == 0:  # shorter than a UDP header
            segment = udp(src, self.stack_ip, 5000, port, b"")[:self.rng.randrange(0, 8)]
        elif choice == 1:  # length field past the packet
            segment = udp(src, self.stack_ip, 5000, port, payload, length=len(payload) + 8 + self.rng.randrange(1, 500))
        elif choice == 2:  # length field under 8
            segment = udp(src, self.stack_ip, 5000, port, payload, length=self.rng.randrange(0, 8))
        elif choice == 3:  # bad checksum
            segment = udp(src, self.stack_ip, 5000, port, payload, checksum_mode="bad")
        elif choice == 4:  # to a closed port (answered with port unreachable, rate limited)
            segment = udp(src, self.stack_ip, 5000, self.rng.randrange(10, 65536), payload)
        else:  # broadcast source, which must never be answered
            segment = udp(b"\xff\xff\xff\xff", self.stack_ip, 5000, 7, payload, checksum_mode="zero")
            return self.to_stack(ipv4(b"\xff\xff\xff\xff", self.stack_ip, 17, segment, ident=self.ident()))
        return self.to_stack(ipv4(src, self.stack_ip, 17, segment, ident=self.ident()))

    def icmp(self) -> bytes:
        src = self.peer_ip()
        choice = self.rng.randrange(5)
        if choice == 0:  # shorter than an ICMP header
            message = icmp(8, 0, struct.pack("!HH", 1, 1), b"")[:self.rng.randrange(0, 8)]
        elif choice == 1:  # echo request with a bad checksum
            message = icmp(8, 0, struct.pack("!HH", 2, 2), self.some_bytes(56), bad_checksum=True)
        elif choice == 2:  # unknown type and code
            message = icmp(self.rng.choice([1, 2, 7, 42, 255]), self.rng.randrange(256),
                           self.some_bytes(4), self.some_bytes(self.rng.randrange(0, 64)))
        elif choice == 3:  # an error quoting garbage
            message = icmp(self.rng.choice([3, 4, 5, 11, 12]), self.rng.randrange(16), b"\0" * 4,
                           self.some_bytes(self.rng.randrange(0, 64)))
        else:  # echo request to the broadcast address (never answered)
            message = icmp(8, 0, struct.pack("!HH", 3, 3), self.some_bytes(8))
            packet = ipv4(src, self.stack_ip[:3] + b"\xff", 1, message, ident=self.ident())
            return ethernet(BROADCAST, self.random_mac(), 0x0800, packet)
        return self.to_stack(ipv4(src, self.stack_ip, 1, message, ident=self.ident()))

    def fragments(self) -> bytes:
        src = self.peer_ip()
        ident = self.ident() if self.rng.random() < 0.7 else 0x4242  # some share one ID
        protocol = self.rng.choice([1, 17])
        chunk = self.some_bytes(8 * self.rng.randrange(1, 100))
        choice = self.rng.randrange(7)
        if choice == 0:  # overlapping or duplicate pieces of one datagram
            packet = ipv4(src, self.stack_ip, protocol, chunk, ident=0x4243, flags=1,
                          offset=self.rng.randrange(0, 20))
        elif choice == 1:  # past the largest IPv4 datagram
            packet = ipv4(src, self.stack_ip, protocol, chunk, ident=ident, flags=self.rng.choice([0, 1]),
                          offset=8191 - self.rng.randrange(0, 4))
        elif choice == 2:  # a middle fragment whose length is not a multiple of 8
            packet = ipv4(src, self.stack_ip, protocol, chunk + b"x" * self.rng.randrange(1, 8),
                          ident=ident, flags=1, offset=self.rng.randrange(0, 100))
        elif choice == 3:  # empty fragments
            packet = ipv4(src, self.stack_ip, protocol, b"", ident=ident, flags=self.rng.choice([0, 1]),
                          offset=self.rng.randrange(0, 8192))
        elif choice == 4:  # DF and MF together
            packet = ipv4(src, self.stack_ip, protocol, chunk, ident=ident, flags=3, offset=0)
        elif choice == 5:  # a last fragment that leaves a hole, of a datagram never finished
            packet = ipv4(src, self.stack_ip, protocol, chunk, ident=self.ident(), flags=0,
                          offset=self.rng.randrange(1, 8000))
        else:  # first fragments of thousands of datagrams that never finish
            packet = ipv4(self.any_ip(), self.stack_ip, protocol, chunk, ident=self.ident(), flags=1, offset=0)
        return self.to_stack(packet)

    def other(self) -> bytes:
        src = self.peer_ip()
        body = icmp(8, 0, struct.pack("!HH", 4, 4), self.some_bytes(16))
        choice = self.rng.randrange(6)
        if choice == 0:  # for another host, sent to the stack's MAC
            return self.to_stack(ipv4(src, self.peer_ip(), 1, body))
        if choice == 1:  # impossible sources
            bad = self.rng.choice(["255.255.255.255", "224.0.0.1", "0.0.0.0", "127.0.0.1",
                                   socket.inet_ntoa(self.stack_ip)])
            return self.to_stack(ipv4(ip_bytes(bad), self.stack_ip, 1, body))
        if choice == 2:  # TTL 0 and 1
            return self.to_stack(ipv4(src, self.stack_ip, 1, body, ttl=self.rng.choice([0, 1])))
        if choice == 3:  # VLAN-tagged IPv4
            tagged = struct.pack("!HH", self.rng.randrange(4096), 0x0800) + ipv4(src, self.stack_ip, 1, body)
            return self.to_stack(tagged, 0x8100)
        if choice == 4:  # to a multicast MAC and address
            return ethernet(b"\x01\x00\x5e\x00\x00\x01", self.random_mac(), 0x0800,
                            ipv4(src, ip_bytes("224.0.0.1"), 1, body))
        # the stack's IP behind a multicast MAC
        return ethernet(b"\x01\x00\x5e\x7f\x00\x02", self.random_mac(), 0x0800,
                        ipv4(src, self.stack_ip, 1, body))


KINDS = [  # name, share of the frames (per mille)
    ("random", 120), ("ethertype", 100), ("ip-trunc", 100), ("ip-checksum", 80),
    ("ip-header", 100), ("arp", 100), ("udp", 120), ("icmp", 100), ("fragments", 140),
    ("other", 40),
]


def main() -> int:
    iface, stack_mac, stack_ip, host_ip = sys.argv[1:5]
    count, seed = int(sys.argv[5]), int(sys.argv[6])
    rng = random.Random(seed)
    with open(f"/sys/class/net/{iface}/address") as file:
        host_mac = mac_bytes(file.read().strip())
    generator = Generator(rng, mac_bytes(stack_mac), host_mac, ip_bytes(stack_ip), ip_bytes(host_ip))

    plan = []
    for name, share in KINDS:
        plan += [name] * (count * share // 1000)
    plan += ["random"] * (count - len(plan))
    rng.shuffle(plan)

    sent = {name: 0 for name, _ in KINDS}
    errors = {}
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    for index, name in enumerate(plan):
        frame = getattr(generator, name.replace("-", "_"))()
        try:
            sock.send(frame)
            sent[name] += 1
        except OSError as error:
            key = f"{name}: {os.strerror(error.errno)}"
            errors[key] = errors.get(key, 0) + 1
        if index % 32 == 31:
            time.sleep(0.002)  # let the daemon keep up, so that the TAP queue never overflows
    sock.close()

    print(f"seed {seed}: wrote {sum(sent.values())} of {count} frames to {iface}")
    print("  " + ", ".join(f"{name} {number}" for name, number in sent.items()))
    for key, number in errors.items():
        print(f"  write error: {key} x{number}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
