import NetCore

/// An address a DHCP server gave this host, with what came with it, and its timers
/// (RFC 2131 §4.4.5) on the stack's clock.
public struct DHCPLease: Equatable, Sendable {
  /// Our address and prefix (from the subnet mask option; without one, the classful default,
  /// RFC 2131 §4.4.1 leaves it to the client).
  public var address: IPv4CIDR
  /// The first router option inside our subnet, if any.
  public var router: IPv4Address?
  public var domainNameServers: [IPv4Address]
  public var domainName: [UInt8]?
  /// The interface MTU option (RFC 2132 §5.1).
  public var mtu: Int?
  /// The server identifier: where renewals go.
  public var server: IPv4Address
  /// When the ACK arrived (the lease counts from the request, which is earlier: a lease taken
  /// from the ACK's arrival ends a little later than the server thinks, by the round trip).
  public var obtainedAt: Instant
  /// Nil for an infinite lease (0xFFFF_FFFF).
  public var duration: Interval?
  /// T1: when to start renewing, from `obtainedAt`.
  public var renewalTime: Interval?
  /// T2: when to start rebinding, from `obtainedAt`.
  public var rebindingTime: Interval?

  /// The lease described by an ACK. T1 and T2 default to 0.5 and 0.875 of the lease
  /// (RFC 2131 §4.4.5); values that are not 0 < T1 < T2 < lease are replaced by those.
  /// `requestedAt` is when the request was sent: RFC 2131 §4.4.1 counts the lease from there.
  public init?(ack: DHCPMessage, requestedAt: Instant) {
    let options = ack.options
    guard ack.yourAddress.isUnicast, let server = options.serverIdentifier else {
      return nil
    }
    let prefixLength: Int
    if let mask = options.subnetMask, let cidr = IPv4CIDR(address: ack.yourAddress, netmask: mask),
      cidr.prefixLength >= 1, cidr.prefixLength <= 30 || cidr.prefixLength == 32
    {
      prefixLength = cidr.prefixLength
    } else {
      prefixLength = DHCPLease.classfulPrefixLength(ack.yourAddress)
    }
    let cidr = IPv4CIDR(address: ack.yourAddress, prefixLength: prefixLength)
    address = cidr
    router = options.routers.first { $0 != cidr.address && cidr.contains($0) && $0.isUnicast }
    domainNameServers = options.domainNameServers
    domainName = options.domainName
    mtu = options.interfaceMTU.map { Int($0) }
    self.server = server
    obtainedAt = requestedAt
    let seconds = options.leaseTime ?? 0
    guard seconds != 0 else { return nil }
    if seconds == UInt32.max {
      duration = nil
      renewalTime = nil
      rebindingTime = nil
      return
    }
    let lease = Interval.seconds(Int64(seconds))
    duration = lease
    let t1 = options.renewalTime.map { Interval.seconds(Int64($0)) }
    let t2 = options.rebindingTime.map { Interval.seconds(Int64($0)) }
    let defaultT1 = lease / 2
    let defaultT2 = lease * 7 / 8
    if let t1, let t2, t1 > .zero, t1 < t2, t2 < lease {
      renewalTime = t1
      rebindingTime = t2
    } else if let t1, t1 > .zero, t1 < defaultT2, t2 == nil {
      renewalTime = t1
      rebindingTime = defaultT2
    } else if let t2, t2 > defaultT1, t2 < lease, t1 == nil {
      renewalTime = defaultT1
      rebindingTime = t2
    } else {
      renewalTime = defaultT1
      rebindingTime = defaultT2
    }
  }

  /// When renewing starts, unless the lease is infinite.
  public var renewAt: Instant? { renewalTime.map { obtainedAt + $0 } }
  /// When rebinding starts.
  public var rebindAt: Instant? { rebindingTime.map { obtainedAt + $0 } }
  /// When the lease ends.
  public var expiresAt: Instant? { duration.map { obtainedAt + $0 } }

  /// The prefix of the address's class (A /8, B /16, C /24), for a lease without a mask.
  static func classfulPrefixLength(_ address: IPv4Address) -> Int {
    switch address.octet(0) {
    case 0..<128: 8
    case 128..<192: 16
    default: 24
    }
  }
}
