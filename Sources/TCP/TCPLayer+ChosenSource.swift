import NetCore

extension TCPLayer {
  /// Opens a connection to `address`:`port` (RFC 9293 §3.10.1, active OPEN) from a local
  /// address and port the caller chooses instead of the network's source address: how a
  /// published port shows the guest its real client (the stack is the guest's gateway, so the
  /// guest's answers to that address come back through it). `sourcePort` nil, or taken by
  /// another connection or TIME-WAIT entry of the same tuple, picks an ephemeral port.
  ///
  /// The caller must make sure that segments to `source` reach the layer (see
  /// ``hasConnection(_:)``); the layer itself accepts any tuple it holds.
  public mutating func connect<Network: TransportNetwork>(
    to address: IPAddress, port: UInt16, from source: IPAddress, sourcePort: UInt16?,
    now: Instant, network: inout Network
  ) throws(TCPError) -> TCPConnectionID {
    guard connectionCount < configuration.maximumConnections else { throw .tooManyConnections }
    guard address.isUnicast, source.isUnicast, !source.isUnspecified,
      address.isIPv4 == source.isIPv4
    else { throw .noRoute }
    let (open, waiting) = (slotByTuple, timeWait)
    func tuple(_ localPort: UInt16) -> TCPFourTuple {
      TCPFourTuple(
        localAddress: source, localPort: localPort, remoteAddress: address, remotePort: port)
    }
    func isFree(_ localPort: UInt16) -> Bool {
      open[tuple(localPort)] == nil && waiting.entry(for: tuple(localPort)) == nil
    }
    let localPort: UInt16
    if let sourcePort, sourcePort != 0, isFree(sourcePort) {
      localPort = sourcePort
    } else {
      guard
        let picked = EphemeralPorts(configuration.ephemeralPorts).pick(
          using: &random, isFree: { isFree($0) && listeners[$0] == nil })
      else { throw .addressInUse }
      localPort = picked
    }
    let tuple = tuple(localPort)
    guard reserveConnection() else { throw .noMemory }
    let connection = TCPConnection(
      activeOpen: tuple, initialSequence: sequenceNumbers.isn(for: tuple, now: now),
      maximumPayload: network.maximumPayloadSize(to: address), configuration: configuration,
      shared: shared, timestampOffset: timestampOffset(for: tuple), now: now)
    let id = insert(connection, owner: .application)
    shared.counters.activeOpens += 1
    settle(id.slot, now: now, network: &network)
    return id
  }

  /// Whether a connection (not a listener, not TIME-WAIT) has this tuple: a segment for an
  /// address that is not the stack's own belongs to the layer only then.
  public func hasConnection(_ tuple: TCPFourTuple) -> Bool {
    slotByTuple[tuple] != nil
  }
}
