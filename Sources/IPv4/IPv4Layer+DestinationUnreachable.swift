import NetCore

/// Destination unreachable messages other than fragmentation needed (RFC 792, RFC 1122
/// §3.2.2.1): the layer checks that the quote is a datagram of ours and queues the report
/// for the transport that sent it (``unreachableReports``); TCP then checks the quoted
/// segment against its connections (RFC 5927 §4.1).
extension IPv4Layer {
  /// Takes in a destination unreachable (`message`, from `reporter`) whose code is not
  /// fragmentation needed: the quote must be a datagram we sent (an IPv4 header with our
  /// address as its source) with 8 bytes of its transport header.
  mutating func receiveDestinationUnreachable(
    _ message: borrowing ICMPv4Packet, reporter: IPv4Address
  ) {
    icmpCounters.destinationUnreachableReceived += 1
    guard let quoted = ourQuotedDatagram(in: message.payload) else {
      icmpCounters.droppedUnmatchedErrors += 1
      return
    }
    let report = ICMPv4UnreachableReport(
      reporter: reporter, code: message.code, quotedSource: quoted.source,
      quotedDestination: quoted.destination,
      quotedProtocol: quoted.protocolNumber,
      quotedTransportHeader: quoted.transportHeader)
    if !unreachableReports.append(report) { icmpCounters.droppedUnreachableReportsQueueFull += 1 }
  }
}
