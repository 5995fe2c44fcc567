import NetCore

/// SEGMENT ARRIVES in SYN-SENT (RFC 9293 §3.10.7.3): check the ACK, then RST, then SYN; the
/// peer's SYN-ACK establishes the connection and negotiates the options of its SYN (RFC 7323
/// §2.2, §3.2; RFC 2018 §2), its bare SYN starts a simultaneous open.
extension TCPConnection {
  /// SYN-SENT (RFC 9293 §3.10.7.3).
  func synSentSegmentArrives(_ segment: borrowing TCPSegment, now: Instant) {
    let flags = segment.flags
    let acknowledgment = segment.acknowledgmentNumber
    var acknowledgmentAcceptable = false
    if flags.contains(.ack) {
      guard sender.initialSequence < acknowledgment && acknowledgment <= sender.maximum else {
        if !flags.contains(.rst) { resetFor(acknowledgment: acknowledgment) }
        return
      }
      acknowledgmentAcceptable = true
    }
    if flags.contains(.rst) {
      if acknowledgmentAcceptable {
        shared.counters.resetsReceived += 1
        enterClosed(error: .connectionRefused)
      }
      return
    }
    guard flags.contains(.syn) else { return }
    receiver.initialSequence = segment.sequenceNumber
    receiver.next = receiver.initialSequence + 1
    receiver.advertisedWindowEdge = receiver.next
    receiver.lastAcknowledgmentSent = receiver.next
    negotiate(peer: segment.options, weOffered: offeredOptions, now: now)
    if acknowledgmentAcceptable {
      takeRoundTripSample(acknowledgment: acknowledgment, now: now)
      sender.unacknowledged = acknowledgment
      retransmissionDeadline = nil
      retransmissionCount = 0
      retransmissionTimeout.acknowledged()
      state = .established
      events.insert(.established)
      events.insert(.writable)
      shared.counters.connectionsEstablished += 1
      // The window of a SYN is never scaled (RFC 7323 §2.2).
      sender.window = Int(segment.window)
      sender.maximumWindow = sender.window
      sender.windowUpdateSequence = segment.sequenceNumber
      sender.windowUpdateAcknowledgment = acknowledgment
      receiver.acknowledgmentNeeded = true
      if sender.finQueued { state = .finWait1 }
    } else {
      // Simultaneous open: answer with SYN-ACK, our SYN again (§3.10.7.3 "fourth").
      state = .synReceived
      sender.next = sender.initialSequence
      sender.window = Int(segment.window)
      sender.maximumWindow = sender.window
      sender.windowUpdateSequence = segment.sequenceNumber
    }
  }

  /// The options our SYN carried (for negotiation on the SYN-ACK).
  var offeredOptions: TCPOptions {
    var options = TCPOptions()
    options.maximumSegmentSize = UInt16(min(receiveMaximumSegmentSize, 65535))
    if configuration.windowScaling { options.windowScale = receiveWindowShift }
    if configuration.selectiveAcknowledgments { options.sackPermitted = true }
    if configuration.timestamps { options.timestamp = TCPTimestampOption(value: 0, echoReply: 0) }
    return options
  }

}
