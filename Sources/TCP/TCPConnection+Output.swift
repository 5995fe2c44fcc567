import NetCore

/// Deciding what to send and building segments: the send side of RFC 9293 §3.8.6 (windows,
/// Nagle, silly-window avoidance), RFC 5681/6582/6675 retransmissions, and the header of each
/// segment with its options (RFC 7323 timestamps, RFC 2018 SACK blocks).
extension TCPConnection {
  /// How long a receiver may hold back the ACK of a lone segment (RFC 8985 §7.2 WCDelAckT).
  static let worstCaseDelayedAck = Interval.milliseconds(200)

  /// The largest TCP segment handed to a device that does segmentation offload.
  static let maximumOffloadSegment = 65_000

  /// Sends whatever is due: a reset, the SYN, retransmissions, new data, FIN, or a bare ACK.
  func output<Network: TransportNetwork>(now: Instant, network: inout Network) {
    if let sequence = resetToSend {
      resetToSend = nil
      sendReset(sequence: sequence, acknowledging: nil, now: now, network: &network)
    }
    if resetPending {
      resetPending = false
      sendReset(sequence: sender.next, acknowledging: receiver.next, now: now, network: &network)
      return
    }
    switch state {
    case .closed, .listen:
      return
    case .timeWait:
      if receiver.acknowledgmentNeeded {
        sendSegment(sequence: sender.maximum, flags: .ack, now: now, network: &network)
      }
      return
    case .synSent, .synReceived:
      if sender.next == sender.initialSequence {
        sendSynchronize(now: now, network: &network)
      } else if state == .synReceived && receiver.acknowledgmentNeeded {
        // A challenge ACK (RFC 5961 §3.2, which RFC 9293 §3.10.7.4 applies to SYN-RECEIVED
        // too) or the ACK that answers an unacceptable segment.
        sendSegment(sequence: sender.maximum, flags: .ack, now: now, network: &network)
      }
      return
    default:
      break
    }
    var sent = false
    if recovery.retransmissionQueue.lostBytes > 0 {
      sent = retransmitLost(now: now, network: &network)
    }
    if sendNewData(now: now, network: &network) {
      sent = true
      recovery.probeDeadline = nil  // restarted below (RFC 8985 §7.2: after transmitting new data)
    }
    if !sent && receiver.acknowledgmentNeeded {
      // A bare ACK carries SND.MAX (equal to SND.NXT in the synchronized states).
      sendSegment(sequence: sender.maximum, flags: .ack, now: now, network: &network)
    }
    // Data waits behind a window that is zero, or too small to be worth a segment, with
    // nothing in flight to draw a window update: the persist timer probes a zero window
    // (RFC 9293 §3.8.6.1) and sends what fits a small one (§3.8.6.2.1's override timeout), so
    // that a lost window update cannot stall the connection.
    if sender.next < sender.bufferStart + sender.buffer.count && retransmissionDeadline == nil
      && persistDeadline == nil
    {
      persistDeadline = now + persistInterval
    }
    armProbeTimer(now: now)
    // The user timeout runs while anything waits for the peer (RFC 9293 §3.8.3).
    if hasDataForPeer {
      if stalledSince == nil { stalledSince = now }
    } else {
      stalledSince = nil
    }
  }

  /// Whether data or our FIN waits for the peer's acknowledgment (sent or not).
  var hasDataForPeer: Bool {
    if sender.unacknowledged < sender.maximum || !sender.buffer.isEmpty { return true }
    if let finSequence = sender.finSequenceNumber, sender.unacknowledged <= finSequence {
      return true
    }
    return false
  }

  /// The window we can offer now: the receive buffer's free space, within what the window
  /// field holds (65535 << Rcv.Wind.Shift, RFC 7323 §2.3); under memory pressure at most four
  /// segments (Linux clamps `rcv_ssthresh` to 4 × MSS then). An edge already offered still
  /// stands (``windowField()`` never moves it left).
  var offerableWindow: Int {
    let window = min(receiver.buffer.window, 65535 << Int(receiveWindowShift))
    guard shared.budget.isUnderPressure else { return window }
    return min(window, 4 * receiveMaximumSegmentSize)
  }

  /// How many more bytes congestion control lets into the network: RFC 6675's `cwnd − pipe`
  /// (with NewReno's inflation when the peer has no SACK).
  var congestionBudget: Int {
    congestion.congestionWindow + recovery.windowInflation - recovery.retransmissionQueue.pipe
  }

  /// The persist timer's period: the RTO, doubled per unanswered probe, at most 60 s.
  var persistInterval: Interval {
    var interval = max(retransmissionTimeout.baseTimeout, .milliseconds(200))
    for _ in 0..<persistBackoff where interval < .seconds(60) { interval = interval * 2 }
    return min(interval, .seconds(60))
  }

  /// The SYN (active open) or SYN-ACK (passive or simultaneous open), with our options.
  private func sendSynchronize<Network: TransportNetwork>(now: Instant, network: inout Network) {
    var options = TCPOptions()
    options.maximumSegmentSize = UInt16(min(receiveMaximumSegmentSize, 65535))
    let answering = state == .synReceived
    if answering {
      if windowScalingEnabled { options.windowScale = receiveWindowShift }
      options.sackPermitted = sackEnabled
      if timestampsEnabled {
        options.timestamp = TCPTimestampOption(
          value: timestampClock(now), echoReply: timestampRecent)
      }
    } else {
      if configuration.windowScaling { options.windowScale = receiveWindowShift }
      options.sackPermitted = configuration.selectiveAcknowledgments
      if configuration.timestamps {
        options.timestamp = TCPTimestampOption(value: timestampClock(now), echoReply: 0)
      }
    }
    // The window of a SYN is never scaled (RFC 7323 §2.2).
    let window = UInt16(min(offerableWindow, 65535))
    if Int(window) < min(receiver.buffer.window, 65535) {
      shared.counters.windowsClampedByPressure += 1
    }
    receiver.advertisedWindowEdge = receiver.next + Int(window)
    let header = TCPHeader(
      sourcePort: tuple.localPort, destinationPort: tuple.remotePort,
      sequenceNumber: sender.initialSequence,
      acknowledgmentNumber: answering ? receiver.next : SequenceNumber(0),
      flags: answering ? [.syn, .ack] : .syn, window: window, options: options)
    transmit(header, payloadLength: 0, now: now, network: &network)
    if sender.maximum == sender.initialSequence {
      roundTripProbe = (sender.initialSequence, now)
    } else {
      shared.counters.segmentsRetransmitted += 1
      segmentsRetransmitted += 1
    }
    sender.next = sender.initialSequence + 1
    if sender.maximum < sender.next { sender.maximum = sender.next }
    if answering { noteAcknowledgmentSent() }
    if retransmissionDeadline == nil {
      retransmissionDeadline = now + retransmissionTimeout.timeout
    }
  }

  /// Sends new data (and FIN) as the windows, Nagle and silly-window avoidance allow (with
  /// `override`, what the windows allow: the override timeout of RFC 9293 §3.8.6.2.1).
  /// Returns whether anything was sent.
  func sendNewData<Network: TransportNetwork>(
    now: Instant, network: inout Network, limit: Int = .max, override: Bool = false
  ) -> Bool {
    let mss = segmentPayloadLimit
    let segmentLimit =
      network.supportsSegmentationOffload
      ? max(mss, TCPConnection.maximumOffloadSegment / mss * mss) : mss
    var sentAny = false
    var budgetLeft = limit
    while true {
      let dataEnd = sender.bufferStart + sender.buffer.count
      let unsent = max(dataEnd - sender.next, 0)
      // The usable window: the peer's, and what congestion control leaves.
      let allowed = min(
        sender.unacknowledged + sender.window - sender.next, congestionBudget, budgetLeft)
      let length = min(unsent, max(allowed, 0), segmentLimit)
      let finNow = sender.finQueued && sender.next <= dataEnd && sender.next + length == dataEnd
      if length > 0 {
        let isFull = length >= mss
        let isLast = sender.next + length == dataEnd
        let nothingOutstanding = sender.unacknowledged == sender.maximum
        let mayGo =
          override || isFull || (isLast && (!nagle || nothingOutstanding || sender.finQueued))
          || length >= sender.maximumWindow / 2
        guard mayGo else { break }
      } else if !finNow {
        break
      }
      var flags: TCPFlags = .ack
      if length > 0 && sender.next + length == dataEnd { flags.insert(.psh) }
      if finNow { flags.insert(.fin) }
      sendSegment(
        sequence: sender.next, flags: flags, payloadLength: length, now: now, network: &network)
      let end = sender.next + length + (finNow ? 1 : 0)
      recovery.retransmissionQueue.sent(
        start: sender.next, end: end, fin: finNow, segmentSize: mss, at: now)
      sender.next = end
      if sender.maximum < sender.next { sender.maximum = sender.next }
      budgetLeft -= length
      sentAny = true
      if finNow || budgetLeft <= 0 { break }
    }
    return sentAny
  }

  /// Builds and sends one segment: `payloadLength` bytes of the send buffer from `sequence`,
  /// with our ACK, window and options.
  func sendSegment<Network: TransportNetwork>(
    sequence: SequenceNumber, flags: TCPFlags, payloadLength: Int = 0, now: Instant,
    network: inout Network
  ) {
    var options = TCPOptions()
    if timestampsEnabled {
      options.timestamp = TCPTimestampOption(value: timestampClock(now), echoReply: timestampRecent)
    }
    if sackEnabled && (receiver.buffer.hasOutOfOrderData || receiver.duplicateReport != nil) {
      options.sackBlocks = sackBlocks(limit: timestampsEnabled ? 3 : 4)
    }
    let header = TCPHeader(
      sourcePort: tuple.localPort, destinationPort: tuple.remotePort, sequenceNumber: sequence,
      acknowledgmentNumber: flags.contains(.ack) ? receiver.next : SequenceNumber(0), flags: flags,
      window: windowField(), options: options)
    let occupies = payloadLength + (flags.contains(.fin) ? 1 : 0)
    if occupies > 0 {
      if sequence < sender.maximum {
        shared.counters.segmentsRetransmitted += 1
        segmentsRetransmitted += 1
        roundTripProbe = nil  // Karn: no sample while anything is being retransmitted
      } else {
        bytesSent += UInt64(payloadLength)
        if roundTripProbe == nil { roundTripProbe = (sequence, now) }
      }
      if retransmissionDeadline == nil {
        retransmissionDeadline = now + retransmissionTimeout.timeout
      }
    }
    transmit(
      header, payloadLength: payloadLength, payloadOffset: sequence - sender.bufferStart, now: now,
      network: &network)
    if flags.contains(.ack) { noteAcknowledgmentSent() }
  }

  /// An acknowledgment went out: nothing is owed any more.
  private func noteAcknowledgmentSent() {
    receiver.lastAcknowledgmentSent = receiver.next
    receiver.acknowledgmentNeeded = false
    delayedAcknowledgmentDeadline = nil
    receiver.segmentsSinceAcknowledgment = 0
  }

  /// An RST: `<SEQ=sequence><CTL=RST>`, or with `acknowledging`, `<SEQ><ACK><CTL=RST,ACK>`.
  func sendReset<Network: TransportNetwork>(
    sequence: SequenceNumber, acknowledging: SequenceNumber?, now: Instant, network: inout Network
  ) {
    let header = TCPHeader(
      sourcePort: tuple.localPort, destinationPort: tuple.remotePort, sequenceNumber: sequence,
      acknowledgmentNumber: acknowledging ?? SequenceNumber(0),
      flags: acknowledging == nil ? .rst : [.rst, .ack], window: 0)
    transmit(header, payloadLength: 0, now: now, network: &network)
    shared.counters.resetsSent += 1
  }

  /// The window field: the window we can offer (``offerableWindow``), scaled, never moving the
  /// right edge of the window left (RFC 9293 §3.8.6.2.1 says a receiver should not shrink it).
  private func windowField() -> UInt16 {
    let shift = Int(receiveWindowShift)
    let window = offerableWindow
    if window < min(receiver.buffer.window, 65535 << shift)
      && receiver.next + window > receiver.advertisedWindowEdge
    {
      shared.counters.windowsClampedByPressure += 1
    }
    var edge = receiver.next + window
    if edge < receiver.advertisedWindowEdge { edge = receiver.advertisedWindowEdge }
    let offered = edge - receiver.next
    // Round up, so that the edge implied by the field is never left of the one promised.
    let field = min((offered + (1 << shift) - 1) >> shift, 65535)
    receiver.advertisedWindowEdge = receiver.next + (field << shift)
    return UInt16(field)
  }

  /// The SACK blocks to send: a D-SACK first if a duplicate arrived, then the one holding the
  /// latest out-of-order segment, then the others (RFC 2018 §4, RFC 2883 §4).
  private func sackBlocks(limit: Int) -> [SACKBlock] {
    var remaining = receiver.buffer.outOfOrderBlocks(after: receiver.next)
    var blocks: [SACKBlock] = []
    if let duplicate = receiver.duplicateReport {
      // The D-SACK block goes first, once (RFC 2883 §4).
      blocks.append(duplicate)
      receiver.duplicateReport = nil
    }
    // Then the blocks that received data most recently, latest first.
    for sequence in receiver.recentOutOfOrderSequences {
      if let index = remaining.firstIndex(where: { $0.left <= sequence && sequence < $0.right }) {
        blocks.append(remaining.remove(at: index))
      }
    }
    blocks.append(contentsOf: remaining)
    return Array(blocks.prefix(limit))
  }

  /// Fills a buffer with the header and payload and hands it to the network layer.
  private func transmit<Network: TransportNetwork>(
    _ header: TCPHeader, payloadLength: Int, payloadOffset: Int = 0, now: Instant,
    network: inout Network
  ) {
    // The network's buffer: the link below gives it whatever room its framing needs.
    let packet = network.makePacketBuffer(
      capacity: PacketBuffer.defaultHeadroom + header.length + payloadLength,
      headroom: PacketBuffer.defaultHeadroom)
    if payloadLength > 0 {
      packet.append(payloadLength)
      packet.withMutableBytes { bytes in
        sender.buffer.copy(offset: payloadOffset, length: payloadLength, into: &bytes, at: 0)
      }
      shared.counters.sendBytesCopiedOut += UInt64(payloadLength)
    }
    let offload = network.supportsSegmentationOffload
    let mss = segmentPayloadLimit
    header.prepend(
      to: packet, source: tuple.localAddress, destination: tuple.remoteAddress,
      offloadChecksum: offload, segmentSize: offload && payloadLength > mss ? mss : nil)
    do {
      try network.send(
        packet, protocolNumber: .tcp, to: tuple.remoteAddress,
        options: TransportSendOptions(source: tuple.localAddress, dontFragment: true), now: now)
      shared.counters.segmentsSent += 1
    } catch {
      // No route (the retransmission timer will try again); never too large, since segments
      // are cut to the MSS less options.
      shared.counters.sendErrors += 1
    }
  }
}
