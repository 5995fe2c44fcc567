// Fuzz target: the IPv4 packet view (Sources/IPv4/IPv4Packet.swift).
//
// Input: an Ethernet payload (EtherType 0x0800), link padding included.
// Each input is parsed twice: as it is, and with its header checksum corrected (when the
// header length field fits the input), so that the fuzzer reaches the checks behind the
// checksum without having to guess it.
// Checks: `IPv4Packet(checking:)` never traps; its checksum verdict agrees with a byte-by-byte
// reference checksum; accessors stay in bounds; an accepted packet's header (if its TTL is not
// 0, which the stack never sends) emits a header that parses to the same value.

import IPv4
import NetCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  withInput(data, size) { bytes in
    check(bytes)
    var fixed = bytes.copyToArray()
    let headerLength = Int((fixed.first ?? 0) & 0x0F) * 4
    if headerLength >= IPv4Header.length, headerLength <= fixed.count {
      fixChecksum(&fixed, range: 0..<headerLength, at: 10)
      check(fixed.span)
    }
  }
  return 0
}

private func check(_ bytes: Span<UInt8>) {
  let packet: IPv4Packet
  do {
    packet = try IPv4Packet(checking: bytes)
  } catch {
    if error == .badChecksum {
      let headerLength = Int(bytes[0] & 0x0F) * 4
      expect(
        !referenceVerifies(bytes.extracting(0..<headerLength).copyToArray()),
        "a header with a valid checksum was refused for its checksum")
    }
    return
  }
  let headerLength = packet.headerLength
  expect(headerLength >= 20 && headerLength <= 60, "header length \(headerLength)")
  expect(packet.totalLength >= headerLength && packet.totalLength <= bytes.count, "total length")
  expect(packet.totalLength == Int(bytes.uint16(at: 2)), "total length field")
  expect(
    referenceVerifies(bytes.extracting(0..<headerLength).copyToArray()),
    "a header with a bad checksum was accepted")
  let header = packet.header
  expect(packet.payload.count == header.payloadLength, "payload length")
  expect(header.fragmentOffset % 8 == 0, "fragment offset")
  _ = packet.isFragment

  guard header.timeToLive > 0 else { return }
  var written = [UInt8](repeating: 0, count: IPv4Header.length)
  var span = written.mutableSpan
  header.emit(into: &span)
  _ = consume span
  expect(referenceVerifies(written), "emitted header checksum")
  written += packet.payload.copyToArray()
  guard let reparsed = try? IPv4Packet(checking: written.span) else {
    fatalError("an emitted packet does not parse")
  }
  expect(reparsed.header == header, "header round trip")
  expect(reparsed.payload.copyToArray() == packet.payload.copyToArray(), "payload round trip")
}
