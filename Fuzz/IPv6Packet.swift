// Fuzz target: the IPv6 packet view and its extension headers (Sources/IPv6/IPv6Packet.swift,
// IPv6Header.swift, IPv6ExtensionHeaderWalker.swift, IPv6FragmentHeader.swift).
//
// Input: an IPv6 packet (the Ethernet payload of EtherType 0x86DD), link padding included.
// Each input is parsed twice: as it is, and with its payload length set to what the input
// holds (so that the fuzzer reaches the extension headers without guessing the length).
// Checks: `IPv6Packet(checking:)` never traps; an accepted packet's header, written again with
// `IPv6Header.emit`, gives back its first 40 bytes exactly; the walk (to a unicast and to a
// multicast destination), `upperLayer` and `holdsWholeHeaderChain` never trap and only name
// offsets inside the packet; a parameter problem points inside the packet; an ICMPv6 upper
// layer is given to `ICMPv6Packet(checking:)`.

import IPv6
import NetCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  withInput(data, size) { bytes in
    check(bytes)
    var fixed = bytes.copyToArray()
    if fixed.count >= 40 && fixed.count - 40 <= 65535 {
      fixed[0] = 0x60 | fixed[0] & 0x0F
      fixed[4] = UInt8((fixed.count - 40) >> 8)
      fixed[5] = UInt8(truncatingIfNeeded: fixed.count - 40)
      check(fixed.span)
    }
  }
  return 0
}

private let walker = IPv6ExtensionHeaderWalker()

private func check(_ bytes: Span<UInt8>) {
  guard let packet = try? IPv6Packet(checking: bytes) else { return }
  let count = packet.bytes.count
  expect(count == 40 + packet.payloadLength && count <= bytes.count, "length")
  let header = packet.header
  var written = [UInt8](repeating: 0, count: IPv6Header.length)
  var span = written.mutableSpan
  header.emit(into: &span)
  _ = consume span
  expect(written == packet.bytes.extracting(0..<40).copyToArray(), "header round trip")

  let start = IPv6ExtensionHeaderWalker.Position.start(nextHeader: packet.nextHeader)
  for multicast in [false, true] {
    let verdict = walker.walk(packet.bytes, from: start, destinationIsMulticast: multicast)
    switch verdict {
    case .upperLayer(let nextHeader, let offset, let field):
      expect(offset >= 40 && offset <= count, "upper-layer offset \(offset)")
      expect(field < offset && packet.bytes[field] == nextHeader.rawValue, "next header field")
      if nextHeader == .icmpv6 {
        _ = try? ICMPv6Packet(
          checking: packet.bytes.extracting(offset..<count), source: packet.source,
          destination: packet.destination)
      }
    case .fragment(let fragment, let offset, let field, let seen):
      expect(offset + 8 <= count && field < offset, "fragment header offset")
      expect(fragment.fragmentOffset % 8 == 0 && seen >= 1, "fragment header")
      let after = IPv6ExtensionHeaderWalker.Position(
        offset: offset + 8, nextHeader: fragment.nextHeader, nextHeaderFieldOffset: offset,
        headersSeen: seen)
      _ = walker.holdsWholeHeaderChain(packet.bytes, from: after)
      _ = walker.walk(packet.bytes, from: after, destinationIsMulticast: multicast)
    case .parameterProblem(_, let pointer, _):
      expect(pointer >= 0 && pointer < count, "pointer \(pointer) of \(count)")
    case .discard, .noNextHeader:
      break
    }
  }
  if let (_, offset) = walker.upperLayer(packet.bytes, from: start) {
    expect(offset >= 40 && offset <= count, "upperLayer offset")
  }
}
