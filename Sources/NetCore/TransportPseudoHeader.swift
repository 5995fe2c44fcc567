extension InternetChecksum {
  /// Adds an IPv6 address, as in the upper-layer pseudo-header.
  public mutating func add(_ address: IPv6Address) {
    add(UInt32(truncatingIfNeeded: address.high >> 32))
    add(UInt32(truncatingIfNeeded: address.high))
    add(UInt32(truncatingIfNeeded: address.low >> 32))
    add(UInt32(truncatingIfNeeded: address.low))
  }

  /// The sum of the pseudo-header that TCP, UDP and ICMPv6 checksums cover, by the family of
  /// the addresses.
  ///
  /// IPv4 (RFC 9293 §3.1, RFC 768): source and destination, a zero byte and the protocol
  /// number, the 16-bit transport length. IPv6 (RFC 8200 §8.1): source and destination, the
  /// 32-bit upper-layer length, three zero bytes and the next header. Addresses of mixed
  /// families (no packet has them) are summed as IPv6 with the IPv4 one mapped
  /// (`::ffff:a.b.c.d`), so that such a checksum never verifies by accident against an IPv4
  /// packet's.
  public static func pseudoHeader(
    source: IPAddress, destination: IPAddress, protocolNumber: IPProtocolNumber, length: Int
  ) -> InternetChecksum {
    var sum = InternetChecksum()
    if case .v4(let source) = source, case .v4(let destination) = destination {
      sum.add(source)
      sum.add(destination)
      sum.add(UInt16(protocolNumber.rawValue))
      sum.add(UInt16(truncatingIfNeeded: length))
      return sum
    }
    sum.add(source.ipv6OrMapped)
    sum.add(destination.ipv6OrMapped)
    sum.add(UInt32(truncatingIfNeeded: length))
    sum.add(UInt32(protocolNumber.rawValue))
    return sum
  }
}

extension IPAddress {
  /// The IPv6 address, or the IPv4 one mapped into IPv6 (RFC 4291 §2.5.5.2).
  fileprivate var ipv6OrMapped: IPv6Address {
    switch self {
    case .v4(let address): IPv6Address(high: 0, low: 0xFFFF_0000_0000 | UInt64(address.rawValue))
    case .v6(let address): address
    }
  }
}
