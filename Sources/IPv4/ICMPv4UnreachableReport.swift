import NetCore

/// A destination unreachable other than fragmentation needed (ICMP type 3; RFC 792) about a
/// datagram this stack sent, checked by the IPv4 layer and waiting for the transport that
/// sent it (RFC 1122 §3.2.2.1: such errors go to the transport; §4.2.3.9 says what TCP does).
///
/// The layer has checked that the quote holds an IPv4 header of ours and the first 8 bytes of
/// its transport header (RFC 792); whether those name a connection is the transport's check.
public struct ICMPv4UnreachableReport: Equatable, Sendable {
  /// The router or host that sent the report.
  public var reporter: IPv4Address
  /// The message's code (``ICMPv4UnreachableCode``'s raw values and others).
  public var code: UInt8
  public var quotedSource: IPv4Address
  public var quotedDestination: IPv4Address
  public var quotedProtocol: IPProtocolNumber
  /// The quoted datagram's transport header, its first 8 bytes (for TCP: the ports and the
  /// sequence number).
  public var quotedTransportHeader: [UInt8]

  public init(
    reporter: IPv4Address, code: UInt8, quotedSource: IPv4Address,
    quotedDestination: IPv4Address, quotedProtocol: IPProtocolNumber,
    quotedTransportHeader: [UInt8]
  ) {
    self.reporter = reporter
    self.code = code
    self.quotedSource = quotedSource
    self.quotedDestination = quotedDestination
    self.quotedProtocol = quotedProtocol
    self.quotedTransportHeader = quotedTransportHeader
  }

  /// Whether the destination itself said nothing will take the datagram (protocol or port
  /// unreachable): a hard error for a connection being opened (RFC 1122 §4.2.3.9). Network,
  /// host unreachable and administratively prohibited are soft (RFC 5461 §4).
  public var isHard: Bool {
    code == ICMPv4UnreachableCode.port.rawValue
      || code == ICMPv4UnreachableCode.protocolUnreachable.rawValue
  }
}
