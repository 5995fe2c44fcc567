import NetCore

/// ICMP and ICMPv6 destination unreachable about TCP segments of ours (RFC 1122 §4.2.3.9,
/// RFC 5461 §4, as Linux's `tcp_v4_err` and `tcp_v6_err`): a hard error about the SYN of a
/// connection being opened refuses it at once; every other error is soft.
extension TCPLayer {
  /// The connection a quoted TCP header names, when its sequence number is one the connection
  /// has sent and not yet seen acknowledged (SND.UNA ≤ SEG.SEQ < SND.MAX, RFC 5927 §4.1):
  /// `quotedHeader` is the start of the TCP header of a segment from `source` (ours) to
  /// `destination`, at least 8 bytes (ports and sequence number). Nil when it names none.
  func connectionQuoted(
    by quotedHeader: Span<UInt8>, from source: IPAddress, to destination: IPAddress
  ) -> (id: TCPConnectionID, connection: TCPConnection, sequence: SequenceNumber)? {
    guard quotedHeader.count >= 8 else { return nil }
    let tuple = TCPFourTuple(
      localAddress: source, localPort: quotedHeader.uint16(at: 0),
      remoteAddress: destination, remotePort: quotedHeader.uint16(at: 2))
    let sequence = SequenceNumber(quotedHeader.uint32(at: 4))
    guard let slot = slotByTuple[tuple], let occupant = occupant(ofSlot: slot),
      let connection = connection(occupant.id),
      connection.sender.unacknowledged <= sequence, sequence < connection.sender.maximum
    else { return nil }
    return (occupant.id, connection, sequence)
  }

  /// A destination unreachable about a segment from `source` to `destination` whose TCP
  /// header starts `quotedHeader`. Taken only when the quote names a connection and a
  /// sequence number in flight (`connectionQuoted(by:from:to:)`); else counted and
  /// ignored. `isHard` (IPv4 port or protocol unreachable, ICMPv6 port unreachable) about
  /// the SYN of a connection in SYN-SENT (SEG.SEQ = ISS) aborts it with
  /// ``TCPError/connectionRefused``: the application's connect fails now, not after the SYN
  /// retransmissions. Every other error is soft (RFC 5461 §4: established connections are
  /// never aborted by one): the connection records it (``TCPError/noRoute``) and reports it
  /// instead of ``TCPError/timedOut`` if it times out. Returns whether a connection took it.
  @discardableResult
  public mutating func destinationUnreachable(
    quotedHeader: Span<UInt8>, from source: IPAddress, to destination: IPAddress, isHard: Bool
  ) -> Bool {
    guard
      let (id, connection, sequence) = connectionQuoted(
        by: quotedHeader, from: source, to: destination)
    else {
      shared.counters.icmpUnreachablesIgnored += 1
      return false
    }
    if isHard && connection.state == .synSent && sequence == connection.sender.initialSequence {
      shared.counters.connectionsRefusedByICMP += 1
      connection.enterClosed(error: .connectionRefused)
      _ = touch(id)
    } else {
      shared.counters.icmpSoftErrors += 1
      connection.softError = .noRoute
    }
    return true
  }
}
