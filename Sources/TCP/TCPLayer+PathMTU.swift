import NetCore

/// Path MTU changes reported by the network layer below (RFC 8201 §5.2, RFC 1191 §6.4).
extension TCPLayer {
  /// The network learnt a smaller path MTU towards `destination` (an ICMPv6 packet too big it
  /// checked and took; an ICMPv4 fragmentation needed): every connection to it sends segments
  /// of the network's new `maximumPayloadSize(to:)` from now on, and resends at once, cut to
  /// fit, what it had in flight that no longer fits. What is due goes out at the next
  /// ``flush(now:network:)``. Returns how many connections lowered their size.
  @discardableResult
  public mutating func pathMTUDecreased<Network: TransportNetwork>(
    towards destination: IPAddress, network: Network
  ) -> Int {
    let maximumPayload = network.maximumPayloadSize(to: destination)
    var lowered: [TCPConnectionID] = []
    connections.forEach { id, connection in
      if connection.tuple.remoteAddress == destination,
        connection.pathMTUDecreased(maximumPayload: maximumPayload)
      {
        lowered.append(id)
      }
    }
    for id in lowered { _ = touch(id) }
    shared.counters.pathMTUDecreases += UInt64(lowered.count)
    return lowered.count
  }
}

extension TCPLayer {
  /// An IPv4 fragmentation needed about one of our segments (RFC 1191 §6.4): `quotedHeader`
  /// is the start of the TCP header the router quoted (at least 8 bytes: ports and sequence
  /// number), of a segment from `source` to `destination`, and the path now carries at most
  /// `maximumPayload` bytes of TCP per packet. Taken only when the quote names a connection
  /// of ours and a sequence number it has sent and not yet seen acknowledged (SND.UNA ≤
  /// SEG.SEQ < SND.MAX; RFC 5927 §4.1, as Linux's `tcp_v4_err`): an attacker must then know
  /// the connection and its window, not only the addresses. That connection sends segments
  /// that fit from now on and resends at once what no longer fits; what is due goes out at
  /// the next ``flush(now:network:)``. Returns whether the segment size fell.
  @discardableResult
  public mutating func pathMTUDecreased(
    quotedHeader: Span<UInt8>, from source: IPAddress, to destination: IPAddress,
    maximumPayload: Int
  ) -> Bool {
    guard quotedHeader.count >= 8 else {
      shared.counters.pathMTUReportsIgnored += 1
      return false
    }
    let tuple = TCPFourTuple(
      localAddress: source, localPort: quotedHeader.uint16(at: 0),
      remoteAddress: destination, remotePort: quotedHeader.uint16(at: 2))
    let sequence = SequenceNumber(quotedHeader.uint32(at: 4))
    guard let slot = slotByTuple[tuple], let occupant = occupant(ofSlot: slot),
      let connection = connection(occupant.id),
      connection.sender.unacknowledged <= sequence, sequence < connection.sender.maximum
    else {
      shared.counters.pathMTUReportsIgnored += 1
      return false
    }
    guard connection.pathMTUDecreased(maximumPayload: maximumPayload) else { return false }
    _ = touch(occupant.id)
    shared.counters.pathMTUDecreases += 1
    return true
  }
}
