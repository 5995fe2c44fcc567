/// A 128-bit IPv6 address (RFC 4291 §2).
///
/// Stored as two 64-bit halves, first octet most significant in ``high``, so that comparison
/// and hashing are two-word operations and the /64 split of unicast addresses (prefix and
/// interface identifier, RFC 4291 §2.5.1) is a field each. Text form: RFC 5952
/// (``description``), parsed from any form of RFC 4291 §2.2 (``init(parsing:)``).
public struct IPv6Address: Hashable, Comparable, Sendable {
  /// Octets 0–7, octet 0 most significant: the prefix of a /64.
  public let high: UInt64
  /// Octets 8–15, octet 8 most significant: the interface identifier of a /64.
  public let low: UInt64

  public init(high: UInt64, low: UInt64) {
    self.high = high
    self.low = low
  }

  /// The address of eight 16-bit groups, as written `a:b:c:d:e:f:g:h`.
  public init(
    _ a: UInt16, _ b: UInt16, _ c: UInt16, _ d: UInt16, _ e: UInt16, _ f: UInt16, _ g: UInt16,
    _ h: UInt16
  ) {
    high = UInt64(a) << 48 | UInt64(b) << 32 | UInt64(c) << 16 | UInt64(d)
    low = UInt64(e) << 48 | UInt64(f) << 32 | UInt64(g) << 16 | UInt64(h)
  }

  /// A /64 prefix (the top 64 bits of `prefix`) with `interfaceIdentifier` after it.
  public init(prefix: IPv6Address, interfaceIdentifier: UInt64) {
    high = prefix.high
    low = interfaceIdentifier
  }

  /// Reads sixteen octets at `offset` (the caller has checked the length).
  public init(_ bytes: Span<UInt8>, at offset: Int) {
    high = UInt64(bytes.uint32(at: offset)) << 32 | UInt64(bytes.uint32(at: offset + 4))
    low = UInt64(bytes.uint32(at: offset + 8)) << 32 | UInt64(bytes.uint32(at: offset + 12))
  }

  /// Writes the sixteen octets at `offset`.
  public func write(to bytes: inout MutableSpan<UInt8>, at offset: Int) {
    bytes.setUInt32(UInt32(truncatingIfNeeded: high >> 32), at: offset)
    bytes.setUInt32(UInt32(truncatingIfNeeded: high), at: offset + 4)
    bytes.setUInt32(UInt32(truncatingIfNeeded: low >> 32), at: offset + 8)
    bytes.setUInt32(UInt32(truncatingIfNeeded: low), at: offset + 12)
  }

  /// The octet at `index` (0 is the first on the wire).
  public func octet(_ index: Int) -> UInt8 {
    precondition(index >= 0 && index < 16)
    let half = index < 8 ? high : low
    return UInt8(truncatingIfNeeded: half >> UInt64(56 - 8 * (index % 8)))
  }

  /// The 16-bit group at `index` (0 is the first written).
  public func group(_ index: Int) -> UInt16 {
    precondition(index >= 0 && index < 8)
    let half = index < 4 ? high : low
    return UInt16(truncatingIfNeeded: half >> UInt64(48 - 16 * (index % 4)))
  }

  /// The sixteen octets in wire order.
  public var octets: [UInt8] { (0..<16).map { octet($0) } }

  public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
    lhs.high != rhs.high ? lhs.high < rhs.high : lhs.low < rhs.low
  }

  // MARK: Well-known addresses

  /// `::`, the unspecified address (RFC 4291 §2.5.2): "no address yet" as a source.
  public static let unspecified = IPv6Address(high: 0, low: 0)
  /// `::1`, the loopback address (RFC 4291 §2.5.3).
  public static let loopback = IPv6Address(high: 0, low: 1)
  /// `ff02::1`, the link-local all-nodes group (RFC 4291 §2.7.1).
  public static let allNodes = IPv6Address(0xFF02, 0, 0, 0, 0, 0, 0, 1)
  /// `ff02::2`, the link-local all-routers group (RFC 4291 §2.7.1).
  public static let allRouters = IPv6Address(0xFF02, 0, 0, 0, 0, 0, 0, 2)
  /// `ff02::16`, where MLDv2 reports go (RFC 3810 §5.2.14).
  public static let allMLDv2Routers = IPv6Address(0xFF02, 0, 0, 0, 0, 0, 0, 0x16)
  /// `fe80::`, the link-local prefix (RFC 4291 §2.5.6), as an address with a zero identifier.
  public static let linkLocalPrefix = IPv6Address(0xFE80, 0, 0, 0, 0, 0, 0, 0)

  // MARK: Kinds of address

  /// Whether this is `::`.
  public var isUnspecified: Bool { high == 0 && low == 0 }
  /// Whether this is `::1`.
  public var isLoopback: Bool { high == 0 && low == 1 }
  /// Whether this is in `ff00::/8` (RFC 4291 §2.7).
  public var isMulticast: Bool { high >> 56 == 0xFF }
  /// Whether this is a link-local unicast address, in `fe80::/10` (RFC 4291 §2.5.6).
  public var isLinkLocal: Bool { high >> 54 == 0x3FA }
  /// Whether this is a unique local address, in `fc00::/7` (RFC 4193).
  public var isUniqueLocal: Bool { high >> 57 == 0x7E }
  /// Whether this is an IPv4-mapped address, `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2).
  public var isIPv4Mapped: Bool { high == 0 && low >> 32 == 0xFFFF }
  /// Whether this can name one interface: not unspecified, loopback or multicast.
  public var isUnicast: Bool { !isUnspecified && !isLoopback && !isMulticast }
  /// Whether this is a global unicast address (RFC 4291 §2.5.4): a unicast address that is
  /// neither link-local, unique local, loopback nor IPv4-mapped.
  public var isGlobalUnicast: Bool {
    isUnicast && !isLinkLocal && !isUniqueLocal && !isIPv4Mapped
  }

  /// The scope (RFC 4007 §5, RFC 6724 §3.1): a multicast address's scope field; link-local for
  /// link-local unicast and loopback; global for every other unicast address (unique local
  /// addresses included, as RFC 6724 treats them).
  public var scope: IPv6Scope {
    if isMulticast { return IPv6Scope(rawValue: UInt8(truncatingIfNeeded: high >> 48) & 0x0F) }
    if isLinkLocal || isLoopback { return .linkLocal }
    return .global
  }

  // MARK: Multicast groups

  /// The solicited-node multicast group of this address, `ff02::1:ffXX:XXXX` with its low 24
  /// bits (RFC 4291 §2.7.1): where neighbour solicitations for it are sent.
  public var solicitedNodeMulticast: IPv6Address {
    IPv6Address(high: 0xFF02_0000_0000_0000, low: 0x0000_0001_FF00_0000 | (low & 0x00FF_FFFF))
  }

  /// Whether this is a solicited-node multicast group, `ff02::1:ff00:0/104`.
  public var isSolicitedNodeMulticast: Bool {
    high == 0xFF02_0000_0000_0000 && low & 0xFFFF_FFFF_FF00_0000 == 0x0000_0001_FF00_0000
  }

  // MARK: Prefixes

  /// The address with every bit after the first `prefixLength` cleared (0–128).
  public func masked(prefixLength: Int) -> IPv6Address {
    precondition(prefixLength >= 0 && prefixLength <= 128)
    if prefixLength == 0 { return .unspecified }
    if prefixLength <= 64 {
      return IPv6Address(high: high & (UInt64.max << UInt64(64 - prefixLength)), low: 0)
    }
    if prefixLength == 128 { return self }
    return IPv6Address(high: high, low: low & (UInt64.max << UInt64(128 - prefixLength)))
  }

  /// How many leading bits this address and `other` share (0–128).
  public func commonPrefixLength(with other: IPv6Address) -> Int {
    if high != other.high { return (high ^ other.high).leadingZeroBitCount }
    return 64 + (low ^ other.low).leadingZeroBitCount
  }
}

/// The scope of an IPv6 address (RFC 4007 §5, RFC 4291 §2.7): how far it is meaningful. The
/// values are those of a multicast address's scope field; a larger value is a wider scope.
public struct IPv6Scope: RawRepresentable, Hashable, Comparable, Sendable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let interfaceLocal = IPv6Scope(rawValue: 1)
  public static let linkLocal = IPv6Scope(rawValue: 2)
  public static let adminLocal = IPv6Scope(rawValue: 4)
  public static let siteLocal = IPv6Scope(rawValue: 5)
  public static let organizationLocal = IPv6Scope(rawValue: 8)
  public static let global = IPv6Scope(rawValue: 0xE)

  public static func < (lhs: IPv6Scope, rhs: IPv6Scope) -> Bool { lhs.rawValue < rhs.rawValue }
}
