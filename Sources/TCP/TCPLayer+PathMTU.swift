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
