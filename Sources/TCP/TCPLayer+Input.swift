import NetCore

/// Received segments: demultiplexing by 4-tuple, and the cases that have no connection
/// object: LISTEN (RFC 9293 §3.10.7.2, with SYN cookies), TIME-WAIT (with RFC 6191 reuse)
/// and CLOSED (§3.10.7.1: answer with RST).
extension TCPLayer {
  /// How much received data may wait for the end of a batch before it is acknowledged: two
  /// 64 KiB frames, what two full segments' worth is on a TSO or 64 KiB link.
  static let acknowledgmentBatchLimit = 2 * 65_536

  /// Handles a segment either network layer delivered: `segment` is the TCP header and
  /// payload, `delivery` its addresses and what the layers below learnt. What a connection
  /// sends in answer (ACKs, data the ACK released) goes out at the next
  /// ``flush(now:network:)``, which the runtime calls after each batch of received frames.
  public mutating func input<Network: TransportNetwork>(
    _ delivery: TransportDelivery, segment bytes: Span<UInt8>, now: Instant,
    network: inout Network
  ) {
    shared.counters.segmentsReceived += 1
    let segment: TCPSegment
    do {
      segment = try TCPSegment(checking: bytes)
    } catch .truncated {
      shared.counters.droppedTruncated += 1
      return
    } catch {
      shared.counters.droppedBadHeader += 1
      return
    }
    // TCP is unicast only (RFC 1122 §4.2.3.10): nothing to or from a broadcast or multicast
    // address, our subnet's directed broadcast included.
    guard delivery.destination.isUnicast, delivery.source.isUnicast, !delivery.linkBroadcast,
      !delivery.isBroadcast, !delivery.isForOtherAddress
    else {
      shared.counters.droppedBadHeader += 1
      return
    }
    if !delivery.checksumVerified
      && !segment.checksumIsValid(source: delivery.source, destination: delivery.destination)
    {
      shared.counters.droppedBadChecksum += 1
      return
    }
    let tuple = TCPFourTuple(
      localAddress: delivery.destination, localPort: segment.destinationPort,
      remoteAddress: delivery.source, remotePort: segment.sourcePort)

    if let slot = slotByTuple[tuple], let occupant = occupant(ofSlot: slot),
      let connection = touch(occupant.id)
    {
      connection.segmentArrives(segment, now: now)
      // The answer waits for the next flush, after the rest of the batch the runtime is
      // handing over: the ACKs of one wake-up release one large segment, not one small one
      // each, and the data segments of one wake-up get one ACK (as Linux's GRO gives them).
      // Except when much data waits for its ACK: a batch can hold megabytes (256 frames of up
      // to 64 KiB), and the sender must not stall on its window until the batch is read.
      if connection.receiver.next - connection.receiver.lastAcknowledgmentSent
        >= TCPLayer.acknowledgmentBatchLimit
      {
        settle(slot, now: now, network: &network)
      }
      return
    }
    if let entry = timeWait.entry(for: tuple) {
      if timeWaitSegmentArrives(segment, entry: entry, now: now, network: &network) { return }
    }
    if delivery.isRelayed {
      relayedSegmentArrives(segment, tuple: tuple, now: now, network: &network)
      return
    }
    if let listener = listeners[segment.destinationPort],
      listener.address == nil || listener.address == tuple.localAddress
    {
      listenSegmentArrives(segment, tuple: tuple, listener: listener, now: now, network: &network)
      return
    }
    closedSegmentArrives(segment, tuple: tuple, now: now, network: &network)
  }

  /// CLOSED (§3.10.7.1): everything but a RST is answered with a RST.
  mutating func closedSegmentArrives<Network: TransportNetwork>(
    _ segment: borrowing TCPSegment, tuple: TCPFourTuple, now: Instant, network: inout Network
  ) {
    shared.counters.segmentsToClosedPort += 1
    let flags = segment.flags
    guard !flags.contains(.rst) else { return }
    if flags.contains(.ack) {
      sendBareSegment(
        tuple: tuple, sequence: segment.acknowledgmentNumber, acknowledgment: nil, flags: .rst,
        now: now, network: &network)
    } else {
      sendBareSegment(
        tuple: tuple, sequence: SequenceNumber(0),
        acknowledgment: segment.sequenceNumber + segment.sequenceLength, flags: [.rst, .ack],
        now: now, network: &network)
    }
    shared.counters.resetsSent += 1
  }

  /// TIME-WAIT. Returns false when a newer SYN ended the TIME-WAIT and should go to the
  /// listener.
  private mutating func timeWaitSegmentArrives<Network: TransportNetwork>(
    _ segment: borrowing TCPSegment, entry: TCPTimeWaitTable.Entry, now: Instant,
    network: inout Network
  ) -> Bool {
    let flags = segment.flags
    if flags.contains(.rst) { return true }  // RFC 1337: no assassination of TIME-WAIT
    if flags.contains(.syn) && !flags.contains(.ack) {
      if TCPTimeWaitTable.acceptsNewSYN(
        entry, sequence: segment.sequenceNumber, timestamp: segment.options.timestamp)
      {
        timeWait.remove(entry.tuple)
        shared.counters.timeWaitReused += 1
        return false
      }
    }
    var renewed = entry
    if flags.contains(.fin) {
      renewed.expires = now + configuration.timeWaitDuration  // a retransmitted FIN restarts 2 MSL
      timeWait.insert(renewed)
    } else if segment.payload.isEmpty && !flags.contains(.syn) {
      // A bare ACK needs no answer; answering it would let two ends in TIME-WAIT (after a
      // simultaneous close) trade ACKs for ever.
      return true
    }
    // A retransmitted FIN, data or an old SYN is answered with the final ACK again.
    var options = TCPOptions()
    if let recent = entry.timestampRecent {
      options.timestamp = TCPTimestampOption(
        value: UInt32(truncatingIfNeeded: now.nanoseconds / 1_000_000) &+ entry.timestampOffset,
        echoReply: segment.options.timestamp?.value ?? recent)
    }
    sendBareSegment(
      tuple: entry.tuple, sequence: entry.sendNext, acknowledgment: entry.receiveNext, flags: .ack,
      options: options, now: now, network: &network)
    return true
  }

  /// LISTEN (§3.10.7.2): a SYN opens a connection in SYN-RECEIVED (or, with the SYN backlog
  /// full, gets a SYN cookie); an ACK may complete a cookie handshake; anything else is reset.
  private mutating func listenSegmentArrives<Network: TransportNetwork>(
    _ segment: borrowing TCPSegment, tuple: TCPFourTuple, listener: TCPListener, now: Instant,
    network: inout Network
  ) {
    let flags = segment.flags
    if flags.contains(.rst) { return }
    if flags.contains(.ack) {
      if !flags.contains(.syn), configuration.synCookies,
        establishFromCookie(segment, tuple: tuple, listener: listener, now: now, network: &network)
      {
        return
      }
      sendBareSegment(
        tuple: tuple, sequence: segment.acknowledgmentNumber, acknowledgment: nil, flags: .rst,
        now: now, network: &network)
      shared.counters.resetsSent += 1
      return
    }
    guard flags.contains(.syn) else { return }
    if listener.acceptQueue.isFull {
      shared.counters.listenOverflows += 1
      return
    }
    // Refuse new connections before the ones that exist run short of memory (the SYN is
    // dropped, so the client tries again later).
    guard shared.budget.admitsNewWork else {
      shared.counters.connectionsRefusedMemory += 1
      return
    }
    let synFull = listener.halfOpen >= configuration.synBacklog
    let tableFull = connectionCount >= configuration.maximumConnections
    if synFull || tableFull {
      if configuration.synCookies && !tableFull {
        sendCookieSynAck(segment, tuple: tuple, now: now, network: &network)
      } else {
        shared.counters.listenOverflows += 1
      }
      return
    }
    guard reserveConnection() else { return }
    let connection = TCPConnection(
      passiveOpen: tuple, synSequence: segment.sequenceNumber, synOptions: segment.options,
      synWindow: segment.window, initialSequence: sequenceNumbers.isn(for: tuple, now: now),
      maximumPayload: network.maximumPayloadSize(to: tuple.remoteAddress),
      configuration: configuration, shared: shared,
      timestampOffset: timestampOffset(for: tuple), now: now)
    let id = insert(connection, owner: .listener(listener.port))
    listener.halfOpen += 1
    settle(id.slot, now: now, network: &network)
  }

  /// Answers a SYN with a SYN-ACK whose sequence number is a cookie, keeping no state.
  private mutating func sendCookieSynAck<Network: TransportNetwork>(
    _ segment: borrowing TCPSegment, tuple: TCPFourTuple, now: Instant, network: inout Network
  ) {
    let peerMSS =
      segment.options.maximumSegmentSize
      ?? UInt16(tuple.defaultMaximumSegmentSize)
    let ourMSS = UInt16(
      clamping: network.maximumPayloadSize(to: tuple.remoteAddress) - TCPHeader.minimumLength)
    let mss = min(peerMSS, ourMSS)
    let cookie = cookies.cookie(
      for: tuple, clientSequence: segment.sequenceNumber, maximumSegmentSize: mss, now: now)
    var options = TCPOptions()
    options.maximumSegmentSize = ourMSS
    let peer = segment.options
    let scaling = configuration.windowScaling && peer.windowScale != nil
    let sack = configuration.selectiveAcknowledgments && peer.sackPermitted
    if scaling {
      options.windowScale = TCPConnection.windowShift(for: configuration.receiveBufferSize)
    }
    options.sackPermitted = sack
    if configuration.timestamps, let timestamp = peer.timestamp {
      // Our timestamp carries the peer's window scale and SACK-permitted, never ahead of the
      // clock the connection will use (so the peer's PAWS accepts what follows).
      let clock =
        UInt32(truncatingIfNeeded: now.nanoseconds / 1_000_000) &+ timestampOffset(for: tuple)
      var value =
        clock & ~0x3F
        | SYNCookieGenerator.encodeOptions(
          windowScale: scaling ? peer.windowScale : nil, sackPermitted: sack)
      if Int32(bitPattern: value &- clock) > 0 { value &-= 64 }
      options.timestamp = TCPTimestampOption(value: value, echoReply: timestamp.value)
    } else {
      options.windowScale = nil  // without timestamps the cookie cannot remember these
      options.sackPermitted = false
    }
    sendBareSegment(
      tuple: tuple, sequence: cookie, acknowledgment: segment.sequenceNumber + 1,
      flags: [.syn, .ack],
      window: UInt16(cookieWindow(to: tuple.remoteAddress, network: network)), options: options,
      now: now,
      network: &network)
    shared.counters.synCookiesSent += 1
  }

  /// The ACK of a cookie handshake: rebuild the connection if the cookie is ours and fresh.
  private mutating func establishFromCookie<Network: TransportNetwork>(
    _ segment: borrowing TCPSegment, tuple: TCPFourTuple, listener: TCPListener, now: Instant,
    network: inout Network
  ) -> Bool {
    let clientSequence = segment.sequenceNumber - 1
    let ourSequence = segment.acknowledgmentNumber - 1
    guard
      let decoded = cookies.check(ourSequence, for: tuple, clientSequence: clientSequence, now: now)
    else {
      shared.counters.synCookiesRejected += 1
      return false
    }
    guard !listener.acceptQueue.isFull, connectionCount < configuration.maximumConnections else {
      shared.counters.listenOverflows += 1
      return true  // dropped: the client will retransmit
    }
    guard reserveConnection() else { return true }
    var options = TCPOptions()
    options.maximumSegmentSize = decoded.maximumSegmentSize
    if let timestamp = segment.options.timestamp, configuration.timestamps {
      let restored = SYNCookieGenerator.decodeOptions(timestamp.echoReply)
      options.windowScale = restored.windowScale
      options.sackPermitted = restored.sackPermitted
      options.timestamp = TCPTimestampOption(value: timestamp.value, echoReply: 0)
    }
    let connection = TCPConnection(
      passiveOpen: tuple, synSequence: clientSequence, synOptions: options,
      synWindow: segment.window,
      initialSequence: ourSequence,
      maximumPayload: network.maximumPayloadSize(to: tuple.remoteAddress),
      configuration: configuration, shared: shared, timestampOffset: timestampOffset(for: tuple),
      now: now)
    // The SYN-ACK was sent: the connection is where it would be after sending it.
    connection.sender.next = ourSequence + 1
    connection.sender.maximum = ourSequence + 1
    connection.receiver.advertisedWindowEdge =
      connection.receiver.next + cookieWindow(to: tuple.remoteAddress, network: network)
    let id = insert(connection, owner: .listener(listener.port))
    listener.halfOpen += 1
    shared.counters.synCookiesAccepted += 1
    connection.segmentArrives(segment, now: now)
    settle(id.slot, now: now, network: &network)
    return true
  }

  /// The window a cookie SYN-ACK offers: the one a connection would start with (never
  /// scaled, RFC 7323 §2.2).
  private func cookieWindow<Network: TransportNetwork>(
    to destination: IPAddress, network: Network
  ) -> Int {
    min(
      TCPConnection.initialReceiveLimit(
        configuration: configuration,
        segmentSize: max(network.maximumPayloadSize(to: destination) - TCPHeader.minimumLength, 64),
        underPressure: shared.budget.isUnderPressure), 65535)
  }

  /// Sends a segment that belongs to no connection object (RST, TIME-WAIT ACK, cookie
  /// SYN-ACK).
  func sendBareSegment<Network: TransportNetwork>(
    tuple: TCPFourTuple, sequence: SequenceNumber, acknowledgment: SequenceNumber?, flags: TCPFlags,
    window: UInt16 = 0, options: TCPOptions = TCPOptions(), now: Instant, network: inout Network
  ) {
    var segmentFlags = flags
    if acknowledgment != nil { segmentFlags.insert(.ack) }
    let header = TCPHeader(
      sourcePort: tuple.localPort, destinationPort: tuple.remotePort, sequenceNumber: sequence,
      acknowledgmentNumber: acknowledgment ?? SequenceNumber(0), flags: segmentFlags,
      window: window,
      options: options)
    let packet = network.makePacketBuffer(
      capacity: PacketBuffer.defaultHeadroom + header.length,
      headroom: PacketBuffer.defaultHeadroom)
    header.prepend(to: packet, source: tuple.localAddress, destination: tuple.remoteAddress)
    do {
      try network.send(
        packet, protocolNumber: .tcp, to: tuple.remoteAddress,
        options: TransportSendOptions(source: tuple.localAddress, dontFragment: true), now: now)
      shared.counters.segmentsSent += 1
    } catch {}
  }
}
