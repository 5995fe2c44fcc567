// Fuzz target: the TCP segment view and its checksum (Sources/TCP/TCPSegment.swift,
// Sources/TCP/TCPHeader.swift).
//
// Input: bytes 0..<4 the IPv4 source address, 4..<8 the destination address (for the
// pseudo-header), then a TCP segment (the payload of an IPv4 packet with protocol 6).
// Checks: `TCPSegment(checking:)` never traps and refuses exactly the short inputs, data
// offsets below 5 or past the bytes, and malformed options; `checksumIsValid` agrees with a
// byte-by-byte reference checksum over the pseudo-header; an accepted segment's header, written
// again with `TCPHeader.prepend` in front of its payload, parses to the same header and payload
// and verifies (when its options fit the 40 bytes of option space, which options parsed from
// a received header need not: the stack never echoes them).

import IPv4
import NetCore
import TCP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size >= 8 else { return 0 }
  withInput(data, size) { input in
    let source = IPv4Address(input, at: 0)
    let destination = IPv4Address(input, at: 4)
    let bytes = input.extracting(droppingFirst: 8)

    let segment: TCPSegment
    do throws(WireError) {
      segment = try TCPSegment(checking: bytes)
    } catch {
      let dataOffset = bytes.count >= 13 ? Int(bytes[12] >> 4) * 4 : 0
      switch error {
      case .truncated: expect(bytes.count < 20 || dataOffset > bytes.count, "truncated")
      case .badLength: expect(dataOffset < 20, "bad data offset")
      case .badOption: expect(dataOffset > 20, "bad option without options")
      default: fatalError("unexpected error \(error)")
      }
      return
    }
    expect(segment.headerLength >= 20 && segment.headerLength <= bytes.count, "header length")
    expect(segment.payload.count == bytes.count - segment.headerLength, "payload length")
    _ = segment.sequenceLength
    _ = segment.urgentPointer

    let contents = segment.bytes.copyToArray()
    let pseudo = pseudoHeader(
      source: source, destination: destination, protocolNumber: 6, length: contents.count)
    expect(
      segment.checksumIsValid(source: .v4(source), destination: .v4(destination))
        == referenceVerifies(pseudo, contents), "checksumIsValid disagrees with the reference")

    let header = segment.header
    guard header.options.encodedLength <= 40 else { return }
    let packet = PacketBuffer(copying: segment.payload)
    header.prepend(to: packet, source: .v4(source), destination: .v4(destination))
    let written = packet.contents
    guard let reparsed = try? TCPSegment(checking: written.span) else {
      fatalError("a written segment does not parse")
    }
    expect(reparsed.header == header, "header round trip")
    expect(reparsed.payload.copyToArray() == segment.payload.copyToArray(), "payload round trip")
    expect(
      reparsed.checksumIsValid(source: .v4(source), destination: .v4(destination)),
      "written checksum")
  }
  return 0
}
