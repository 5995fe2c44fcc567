import NetCore

/// Path MTU discovery for IPv4 (RFC 1191): a router that cannot forward a datagram of ours
/// with DF set answers destination unreachable, fragmentation needed, with its next-hop MTU.
/// The layer checks the message and queues it for the transport that sent the datagram
/// (``pathMTUReports``); TCP then checks the quoted segment against its connections.
extension IPv4Layer {
  /// Takes in a fragmentation needed message (`message`, from `reporter`): the quote must be a
  /// datagram we sent (an IPv4 header with our address as its source, RFC 5927 §4.1) with 8
  /// bytes of its transport header, and the next-hop MTU at least
  /// ``ICMPv4PathMTUReport/minimumMTU``.
  mutating func receiveFragmentationNeeded(
    _ message: borrowing ICMPv4Packet, reporter: IPv4Address
  ) {
    icmpCounters.fragmentationNeededReceived += 1
    guard let quoted = ourQuotedDatagram(in: message.payload) else {
      icmpCounters.droppedUnmatchedErrors += 1
      return
    }
    // RFC 1191 §4: the next-hop MTU is the low 16 bits of the rest of the header.
    let reported = Int(message.restOfHeader & 0xFFFF)
    guard reported >= ICMPv4PathMTUReport.minimumMTU else {
      icmpCounters.droppedFragmentationNeededBelowMinimum += 1
      return
    }
    let report = ICMPv4PathMTUReport(
      reporter: reporter, mtu: min(max(reported, ICMPv4PathMTUReport.minimumPathMTU), link.mtu),
      quotedSource: quoted.source, quotedDestination: quoted.destination,
      quotedProtocol: quoted.protocolNumber,
      quotedTransportHeader: quoted.transportHeader)
    if !pathMTUReports.append(report) { icmpCounters.droppedPathMTUReportsQueueFull += 1 }
  }
}
