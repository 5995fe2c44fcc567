import NetCore

/// A destination unreachable, fragmentation needed (ICMP type 3 code 4) about a datagram this
/// stack sent, checked by the IPv4 layer and waiting for the transport that sent it (RFC 1191
/// §4 and §6.4; RFC 1122 §3.2.2.1: such errors go to the transport).
///
/// The layer has checked that the quote holds an IPv4 header of ours and the first 8 bytes of
/// its transport header (RFC 792); whether those name a connection is the transport's check.
public struct ICMPv4PathMTUReport: Equatable, Sendable {
  /// IPv4's minimum MTU (RFC 791 §3.2: every module must forward a 68-byte datagram); a
  /// report of less is discarded.
  public static let minimumMTU = 68
  /// The smallest path MTU a report can set: lower reports are raised to it, as Linux's
  /// `min_pmtu` (552) does, so that a forged report cannot make a connection send tiny
  /// segments (RFC 5927 §7.3).
  public static let minimumPathMTU = 552

  /// The router that sent the report.
  public var reporter: IPv4Address
  /// The path MTU to use towards ``quotedDestination``: the reported next-hop MTU, raised to
  /// ``minimumPathMTU`` and at most the link MTU.
  public var mtu: Int
  public var quotedSource: IPv4Address
  public var quotedDestination: IPv4Address
  public var quotedProtocol: IPProtocolNumber
  /// The quoted datagram's transport header, its first 8 bytes (for TCP: the ports and the
  /// sequence number).
  public var quotedTransportHeader: [UInt8]

  public init(
    reporter: IPv4Address, mtu: Int, quotedSource: IPv4Address, quotedDestination: IPv4Address,
    quotedProtocol: IPProtocolNumber, quotedTransportHeader: [UInt8]
  ) {
    self.reporter = reporter
    self.mtu = mtu
    self.quotedSource = quotedSource
    self.quotedDestination = quotedDestination
    self.quotedProtocol = quotedProtocol
    self.quotedTransportHeader = quotedTransportHeader
  }
}
