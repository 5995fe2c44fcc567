// Fuzz target: the ICMPv4 message view (Sources/IPv4/ICMPv4Packet.swift).
//
// Input: an ICMP message (the payload of an IPv4 packet with protocol 1).
// Each input is parsed as it is and with its checksum corrected, so that the fuzzer gets past
// the checksum.
// Checks: `ICMPv4Packet(checking:)` never traps and agrees with a reference checksum; an
// accepted message, written again with `ICMPv4Header.prepend(to:)`, parses to the same
// header and payload.

import IPv4
import NetCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  withInput(data, size) { bytes in
    check(bytes)
    var fixed = bytes.copyToArray()
    if fixed.count >= ICMPv4Header.length {
      fixChecksum(&fixed, range: 0..<fixed.count, at: 2)
      check(fixed.span)
    }
  }
  return 0
}

private func check(_ bytes: Span<UInt8>) {
  let message: ICMPv4Packet
  do {
    message = try ICMPv4Packet(checking: bytes)
  } catch {
    switch error {
    case .truncated: expect(bytes.count < ICMPv4Header.length, "truncated")
    case .badChecksum: expect(!referenceVerifies(bytes.copyToArray()), "valid checksum refused")
    default: fatalError("unexpected error \(error)")
    }
    return
  }
  expect(referenceVerifies(bytes.copyToArray()), "bad checksum accepted")
  let header = message.header
  _ = header.type.isError
  if header.type == .echoRequest || header.type == .echoReply {
    let echo = ICMPv4Header.echo(
      reply: header.type == .echoReply, identifier: header.identifier, sequence: header.sequence)
    expect(echo.type == header.type && echo.restOfHeader == header.restOfHeader, "echo header")
  }
  let packet = PacketBuffer(copying: message.payload)
  header.prepend(to: packet)
  let written = packet.contents
  expect(written.count == bytes.count, "written length")
  guard let reparsed = try? ICMPv4Packet(checking: written.span) else {
    fatalError("a written message does not parse")
  }
  expect(reparsed.header == header, "header round trip")
  expect(reparsed.payload.copyToArray() == message.payload.copyToArray(), "payload round trip")
}
