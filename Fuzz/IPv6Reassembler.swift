// Fuzz target: IPv6 fragment reassembly (Sources/IPv6/IPv6Reassembler.swift).
//
// Input: one configuration byte, then 6-byte records, each describing one fragment that the
// target builds as a valid IPv6 packet (fixed header, fragment header, data) and adds:
//
//   config   bit 0: small limits (2 packets, 8 fragments each, 16 KiB) instead of the defaults
//   record   byte 0  bits 0-1 which of 4 identifications; bit 2 a destination options header
//                    (8 bytes) before the fragment header; bit 3 source fd00::3 (else fd00::1);
//                    bits 4-5 clock advance before the fragment: 0, 1 s, 10 s, 61 s (past the
//                    60 s timeout)
//            byte 1  bit 0 M (more fragments; a record with neither M nor an offset is skipped,
//                    as the layer processes atomic fragments alone)
//            2-3     fragment offset field (8-byte units, 13 bits; big endian)
//            4-5     data length in bytes (cut so that the packet fits 65535 bytes of payload)
//
// Data bytes are a function of the identification and of their position in the fragmentable
// part, so a reassembled packet can be checked byte for byte.
// Checks: `add` and `poll` never trap; what is held stays within the configured bounds and
// equals the budget's charge; a parameter problem is asked exactly for the two length rules
// of RFC 8200 §4.5 and points at the right field; a completed packet is one valid IPv6 packet
// without a fragment header, with the key of its fragments and exactly the data they carried;
// an expired packet hands back a first fragment of at most 1232 bytes; at the end every packet
// times out and the budget is empty.

import IPv6
import NetCore

private let destination = IPv6Address(0xfd00, 0, 0, 0, 0, 0, 0, 2)

/// The fragmentable part of the packet with identification `n`: `patterns[n]`, long enough for
/// any offset plus any length.
private let patterns: [[UInt8]] = (0..<4).map { selector in
  (0..<(2 << 16)).map { UInt8(truncatingIfNeeded: $0 &* 131 ^ $0 >> 8 ^ selector) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  var input = FuzzReader(data, size)
  var configuration = IPv6Reassembler.Configuration()
  if input.uint8() & 1 == 1 {
    configuration.maximumPackets = 2
    configuration.maximumFragments = 8
    configuration.maximumBytes = 16 << 10
  }
  let budget = MemoryBudget()
  var reassembler = IPv6Reassembler(configuration: configuration, budget: budget)
  var now = Instant.zero

  while !input.isAtEnd {
    let key = input.uint8()
    let flags = input.uint8()
    let offsetUnits = Int(input.uint16() & 0x1FFF)
    let requestedLength = Int(input.uint16())
    switch key >> 4 & 3 {
    case 1: now += .seconds(1)
    case 2: now += .seconds(10)
    case 3: now += .seconds(61)
    default: break
    }
    for expired in reassembler.poll(now: now) {
      expect(expired.firstFragment.count >= 48 && expired.firstFragment.count <= 1232, "quote")
    }

    let selector = Int(key & 3)
    let identification = 0x1000 + UInt32(selector)
    let withOptions = key & 4 != 0
    let source = IPv6Address(0xfd00, 0, 0, 0, 0, 0, 0, key & 8 != 0 ? 3 : 1)
    let more = flags & 1 != 0
    let offset = offsetUnits * 8
    guard more || offset != 0 else { continue }
    let unfragmentable = 40 + (withOptions ? 8 : 0)
    let length = min(requestedLength, 65535 - (unfragmentable - 40) - 8)

    var packet: [UInt8] = [0x60, 0, 0, 0, 0, 0, withOptions ? 60 : 44, 64]
    packet += source.octets + destination.octets
    if withOptions { packet += [44, 0, 1, 4, 0, 0, 0, 0] }
    packet += [17, 0, UInt8(offset >> 8), UInt8(truncatingIfNeeded: offset) | (more ? 1 : 0)]
    packet += [0, 0, UInt8(identification >> 8), UInt8(truncatingIfNeeded: identification)]
    packet += patterns[selector][offset..<(offset + length)]
    let payloadLength = packet.count - 40
    packet[4] = UInt8(payloadLength >> 8)
    packet[5] = UInt8(truncatingIfNeeded: payloadLength)
    let fragmentHeaderOffset = unfragmentable
    let nextHeaderField = withOptions ? 40 : 6

    let outcome = packet.withUnsafeBufferPointer { buffer in
      reassembler.add(
        Span(_unsafeElements: buffer),
        header: IPv6FragmentHeader(
          nextHeader: .udp, fragmentOffset: offset, moreFragments: more,
          identification: identification),
        fragmentHeaderOffset: fragmentHeaderOffset, nextHeaderFieldOffset: nextHeaderField,
        now: now)
    }
    switch outcome {
    case .parameterProblem(let pointer):
      let lengthRule = more && length % 8 != 0
      let endRule = offset + length > 65535
      expect(lengthRule || endRule, "a parameter problem without a broken rule")
      expect(pointer == (lengthRule ? 4 : fragmentHeaderOffset + 2), "pointer \(pointer)")
    case .complete(let buffer):
      buffer.withBytes { bytes in
        guard let whole = try? IPv6Packet(checking: bytes) else {
          fatalError("a reassembled packet does not parse")
        }
        expect(whole.bytes.count == bytes.count, "reassembled length")
        expect(whole.source == source && whole.destination == destination, "addresses")
        let walk = IPv6ExtensionHeaderWalker().walk(
          whole.bytes, from: .start(nextHeader: whole.nextHeader), destinationIsMulticast: false)
        guard case .upperLayer(.udp, let start, _) = walk else {
          fatalError("a reassembled packet's chain: \(walk)")
        }
        let data = whole.bytes.extracting(start..<whole.bytes.count).copyToArray()
        expect(data[...] == patterns[selector][0..<data.count], "data bytes")
      }
    case .incomplete, .duplicate, .dropped:
      break
    }
    expect(reassembler.count <= configuration.maximumPackets, "packets held")
    expect(reassembler.bytesHeld <= configuration.maximumBytes, "bytes held")
    expect(budget.used(for: .reassembly) == reassembler.bytesHeld, "budget")
  }
  _ = reassembler.poll(now: now + .seconds(61))
  expect(reassembler.count == 0 && reassembler.bytesHeld == 0, "every packet times out")
  expect(budget.used(for: .reassembly) == 0, "budget given back")
  return 0
}
