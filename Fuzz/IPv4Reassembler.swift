// Fuzz target: fragment reassembly (Sources/IPv4/IPv4Reassembler.swift).
//
// Input: one configuration byte, then 6-byte records, each describing one fragment that the
// target builds as a valid IPv4 packet (correct checksum, NOP options) and adds:
//
//   config   bit 0: small limits (2 datagrams, 8 fragments each) instead of the defaults
//   record   byte 0  bits 0-1 which of 4 identifications; bit 2 protocol ICMP (else UDP);
//                    bit 3 source 10.0.0.3 (else 10.0.0.1); bits 4-5 clock advance before
//                    the fragment: 0, 1 s, 10 s, 31 s (past the 30 s timeout)
//            byte 1  bit 0 MF (a record with neither MF nor an offset is skipped, as IPv4Layer
//                    never passes whole datagrams to the reassembler); bit 1 DF; bits 2-5 option words (header length 20 + 4 x min(n, 10))
//            2-3     fragment offset field (8-byte units, 13 bits; big endian)
//            4-5     payload length in bytes (cut so that the packet fits 65535 bytes)
//
// Payload bytes are a function of the identification and of their position in the datagram,
// so a reassembled datagram can be checked byte for byte.
// Checks: `add` and `poll` never trap; memory stays within the configured bounds; a completed
// datagram is one valid, unfragmented IPv4 packet with the key of its fragments and exactly
// the payload they carried; an expired datagram's quote is a header plus at most 8 bytes.

import IPv4
import NetCore

private let destination = IPv4Address(10, 0, 0, 2)

/// The payload of the datagram with identification `0x1000 + n` is `patterns[n]` (longer than
/// any fragment can reach: offset 65528 plus 65535 bytes), made once so that building and
/// checking 64 KiB fragments costs a copy and a compare.
private let patterns: [[UInt8]] = (0..<4).map { selector in
  (0..<(2 << 16)).map { UInt8(truncatingIfNeeded: $0 &* 131 ^ $0 >> 8 ^ selector) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  var input = FuzzReader(data, size)
  var configuration = IPv4Reassembler.Configuration()
  if input.uint8() & 1 == 1 {
    configuration.maximumDatagrams = 2
    configuration.maximumFragments = 8
  }
  var reassembler = IPv4Reassembler(configuration: configuration)
  let bytesLimit = configuration.maximumDatagrams * (60 + IPv4Header.maximumDatagramLength)
  var now = Instant.zero

  while !input.isAtEnd {
    let key = input.uint8()
    let flags = input.uint8()
    let offsetUnits = input.uint16() & 0x1FFF
    let requestedLength = Int(input.uint16())

    switch key >> 4 & 3 {
    case 1: now += .seconds(1)
    case 2: now += .seconds(10)
    case 3: now += .seconds(31)
    default: break
    }
    for expired in reassembler.poll(now: now) {
      if let header = expired.firstHeader {
        expect(expired.quote.count >= 20 && expired.quote.count <= 68, "quote length")
        expect(header.fragmentOffset == 0, "first header")
      } else {
        expect(expired.quote.isEmpty, "quote without a first fragment")
      }
    }

    let identification = 0x1000 + UInt16(key & 3)
    let protocolNumber: UInt8 = key & 4 != 0 ? 1 : 17
    let source = key & 8 != 0 ? IPv4Address(10, 0, 0, 3) : IPv4Address(10, 0, 0, 1)
    let headerLength = 20 + 4 * min(10, Int(flags >> 2 & 0x0F))
    let payloadLength = min(requestedLength, IPv4Header.maximumDatagramLength - headerLength)
    let offset = Int(offsetUnits) * 8

    var packet = [UInt8](repeating: 1, count: headerLength + payloadLength)  // 1: NOP options
    packet[0] = 0x40 | UInt8(headerLength / 4)
    packet[1] = 0
    packet[2] = UInt8((headerLength + payloadLength) >> 8)
    packet[3] = UInt8(truncatingIfNeeded: headerLength + payloadLength)
    packet[4] = UInt8(identification >> 8)
    packet[5] = UInt8(truncatingIfNeeded: identification)
    var flagsAndOffset = offsetUnits
    if flags & 1 != 0 { flagsAndOffset |= 0x2000 }
    if flags & 2 != 0 { flagsAndOffset |= 0x4000 }
    packet[6] = UInt8(flagsAndOffset >> 8)
    packet[7] = UInt8(truncatingIfNeeded: flagsAndOffset)
    packet[8] = 64
    packet[9] = protocolNumber
    for index in 0..<4 {
      packet[12 + index] = source.octet(index)
      packet[16 + index] = destination.octet(index)
    }
    fixChecksum(&packet, range: 0..<headerLength, at: 10)
    let pattern = patterns[Int(key & 3)]
    packet.replaceSubrange(headerLength..., with: pattern[offset..<(offset + payloadLength)])

    guard let fragment = try? IPv4Packet(checking: packet.span) else {
      fatalError("the target built an invalid packet")
    }
    // As IPv4Layer does: only fragments go to the reassembler.
    guard fragment.isFragment else { continue }
    switch reassembler.add(fragment, now: now) {
    case .complete(let buffer):
      buffer.withBytes { bytes in
        guard let whole = try? IPv4Packet(checking: bytes) else {
          fatalError("a reassembled datagram does not parse")
        }
        expect(!whole.isFragment, "a reassembled datagram is a fragment")
        expect(whole.identification == identification, "identification")
        expect(whole.source == source && whole.destination == destination, "addresses")
        expect(whole.protocolNumber.rawValue == protocolNumber, "protocol")
        expect(
          whole.payload.copyToArray()[...] == pattern[0..<whole.payload.count], "payload bytes")
      }
    case .incomplete, .duplicate, .dropped:
      break
    }
    expect(reassembler.count <= configuration.maximumDatagrams, "datagrams held")
    expect(reassembler.bytesHeld <= bytesLimit, "bytes held")
  }
  _ = reassembler.poll(now: now + .seconds(31))
  expect(reassembler.count == 0, "every datagram times out")
  return 0
}
