import NetCore

extension InternetChecksum {
  /// Adds an IPv6 address, as in the upper-layer pseudo-header.
  public mutating func add(_ address: IPv6Address) {
    add(UInt32(truncatingIfNeeded: address.high >> 32))
    add(UInt32(truncatingIfNeeded: address.high))
    add(UInt32(truncatingIfNeeded: address.low >> 32))
    add(UInt32(truncatingIfNeeded: address.low))
  }

  /// The sum of the IPv6 pseudo-header that upper-layer checksums cover (RFC 8200 §8.1):
  /// source and destination addresses, the 32-bit upper-layer packet length, three zero bytes
  /// and the next header value of the upper-layer protocol (TCP, UDP, ICMPv6).
  public static func ipv6PseudoHeader(
    source: IPv6Address, destination: IPv6Address, nextHeader: IPv6NextHeader, length: Int
  ) -> InternetChecksum {
    var sum = InternetChecksum()
    sum.add(source)
    sum.add(destination)
    sum.add(UInt32(truncatingIfNeeded: length))
    sum.add(UInt32(nextHeader.rawValue))
    return sum
  }
}
