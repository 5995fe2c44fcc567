import NetCore

/// A relay's TCP opens (relay mode): a guest's SYN to a foreign address is neither answered nor
/// refused at once but kept as a pending open (``TCPPendingOpenTable``) until the host side
/// knows whether the real destination accepts. Then the handshake is completed as a listener
/// would from the recorded SYN (RFC 9293 §3.10.7.2), with an ordinary connection whose local
/// address is the foreign destination, or the SYN is refused with a RST (§3.10.7.1). The
/// connection that follows is the application's (the relay's), like an accepted one.
extension TCPLayer {
  /// Starts keeping guests' SYNs to foreign addresses as pending opens, at most `limit`.
  public mutating func startRelayingOpens(limit: Int) {
    pendingOpens = TCPPendingOpenTable(limit: limit)
  }

  /// A relayed segment (to a foreign address) for which there is no connection and no
  /// TIME-WAIT record: a SYN becomes a pending open (or is absorbed as a retransmission); a
  /// RST cancels one; other segments to a pending open wait with it; anything else is answered
  /// as a closed port would be.
  mutating func relayedSegmentArrives<Network: TransportNetwork>(
    _ segment: borrowing TCPSegment, tuple: TCPFourTuple, now: Instant, network: inout Network
  ) {
    guard pendingOpens != nil else {
      closedSegmentArrives(segment, tuple: tuple, now: now, network: &network)
      return
    }
    let flags = segment.flags
    if flags.contains(.rst) {
      _ = pendingOpens!.cancel(tuple)
      return
    }
    guard flags.contains(.syn), !flags.contains(.ack) else {
      if pendingOpens!.entry(for: tuple) == nil {
        closedSegmentArrives(segment, tuple: tuple, now: now, network: &network)
      }
      return
    }
    if pendingOpens!.entry(for: tuple) == nil {
      // Refuse new work before the connections that exist run short (the SYN is dropped, so
      // the guest tries again later), and before the host side spends a socket on it.
      guard shared.budget.admitsNewWork else {
        shared.counters.connectionsRefusedMemory += 1
        return
      }
      guard connectionCount + pendingOpens!.count < configuration.maximumConnections else {
        shared.counters.listenOverflows += 1
        return
      }
    }
    _ = pendingOpens!.record(
      tuple: tuple, sequence: segment.sequenceNumber, window: segment.window,
      options: segment.options, now: now)
  }

  /// The pending opens recorded since the last call, for the host side to connect.
  public mutating func takeRecordedPendingOpens() -> [TCPPendingOpenTable.Entry] {
    pendingOpens?.takeRecorded() ?? []
  }

  /// Completes pending open `id`: the destination accepted, so the SYN-ACK goes out now from
  /// a connection in SYN-RECEIVED made from the recorded SYN, held by the application. Nil
  /// when the open is gone (the guest reset it) or there is no room for the connection any
  /// more (then the guest gets a RST).
  public mutating func acceptPendingOpen<Network: TransportNetwork>(
    _ id: UInt64, now: Instant, network: inout Network
  ) -> TCPConnectionID? {
    guard let entry = pendingOpens?.remove(id) else { return nil }
    guard slotByTuple[entry.tuple] == nil, connectionCount < configuration.maximumConnections,
      reserveConnection()
    else {
      sendReset(answering: entry, now: now, network: &network)
      return nil
    }
    let connection = TCPConnection(
      passiveOpen: entry.tuple, synSequence: entry.synSequence, synOptions: entry.synOptions,
      synWindow: entry.synWindow,
      initialSequence: sequenceNumbers.isn(for: entry.tuple, now: now),
      maximumPayload: network.maximumPayloadSize(to: entry.tuple.remoteAddress),
      configuration: configuration, shared: shared,
      timestampOffset: timestampOffset(for: entry.tuple), now: now)
    let connectionID = insert(connection, owner: .application)
    settle(connectionID.slot, now: now, network: &network)
    return connectionID
  }

  /// Refuses pending open `id` with a RST (the destination refused or reset it); false when
  /// it is gone.
  @discardableResult
  public mutating func refusePendingOpen<Network: TransportNetwork>(
    _ id: UInt64, now: Instant, network: inout Network
  ) -> Bool {
    guard let entry = pendingOpens?.remove(id) else { return false }
    sendReset(answering: entry, now: now, network: &network)
    return true
  }

  /// Forgets pending open `id` without answering it, and returns it (the caller answers with
  /// an ICMP error); nil when it is gone.
  public mutating func forgetPendingOpen(_ id: UInt64) -> TCPPendingOpenTable.Entry? {
    pendingOpens?.remove(id)
  }

  /// The RST, ACK that refuses a SYN (§3.10.7.1: SEQ 0, ACK of the SYN).
  private mutating func sendReset<Network: TransportNetwork>(
    answering entry: TCPPendingOpenTable.Entry, now: Instant, network: inout Network
  ) {
    sendBareSegment(
      tuple: entry.tuple, sequence: SequenceNumber(0), acknowledgment: entry.synSequence + 1,
      flags: [.rst, .ack], now: now, network: &network)
    shared.counters.resetsSent += 1
  }
}
