import IPv6
import NetCore

/// A fixed secret key for the stable identifiers in tests.
let testSecretKey: (UInt64, UInt64) = (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210)

/// An instant `seconds` after zero.
func at(_ seconds: Double) -> Instant { Instant(nanoseconds: Int64(seconds * 1e9)) }

/// Builds an IPv6 packet of `payload` (extension headers and upper layer) with `header`.
func ipv6Packet(_ header: IPv6Header, payload: [UInt8]) -> [UInt8] {
  var header = header
  header.payloadLength = payload.count
  var bytes = [UInt8](repeating: 0, count: IPv6Header.length)
  var span = bytes.mutableSpan
  header.emit(into: &span)
  _ = consume span
  return bytes + payload
}

/// The fixed header of `packet`.
func header(of packet: [UInt8]) -> IPv6Header {
  try! IPv6Packet(checking: packet.span).header
}

/// `count` bytes from a seeded generator.
func randomBytes(_ count: Int, _ random: inout PseudoRandomGenerator) -> [UInt8] {
  (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
}
