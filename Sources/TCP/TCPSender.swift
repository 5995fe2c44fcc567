import NetCore

/// A connection's send side: the send sequence space of RFC 9293 §3.3.1 (ISS, SND.UNA,
/// SND.NXT, SND.MAX, SND.WND with SND.WL1 / SND.WL2), the data the application wrote and not
/// yet acknowledged, and the FIN it queued, as gVisor's `sender` keeps them apart from the
/// receive side. Not copyable: it owns the send buffer's memory.
///
/// The connection drives it: it decides what goes out (`TCPConnection+Output.swift`), and on
/// each acceptable ACK moves SND.UNA (``acknowledge(upTo:)``) and takes the window
/// (``takeWindow(_:sequence:acknowledgment:)``, §3.10.7.4 "fifth").
struct TCPSender: ~Copyable {
  /// ISS.
  var initialSequence: SequenceNumber
  /// SND.UNA: oldest unacknowledged sequence number.
  var unacknowledged: SequenceNumber
  /// SND.NXT: next sequence number to send (moves back to SND.UNA on a timeout).
  var next: SequenceNumber
  /// SND.MAX: one past the highest sequence number ever sent.
  var maximum: SequenceNumber
  /// SND.WND, scaled to bytes.
  var window = 0
  /// SND.WL1 and SND.WL2: the segment that last updated the window.
  var windowUpdateSequence = SequenceNumber(0)
  var windowUpdateAcknowledgment = SequenceNumber(0)
  /// The largest window the peer has offered.
  var maximumWindow = 0
  /// Data written by the application, from ``bufferStart`` on.
  var buffer: TCPSendBuffer
  /// The sequence number of the first byte in ``buffer`` (ISS + 1 until data is acked).
  var bufferStart: SequenceNumber
  /// The application has no more to send: a FIN follows the data.
  var finQueued = false

  /// Nothing sent yet: everything at the ISS, the buffer empty.
  init(initialSequence: SequenceNumber, buffer: consuming TCPSendBuffer) {
    self.initialSequence = initialSequence
    unacknowledged = initialSequence
    next = initialSequence
    maximum = initialSequence
    bufferStart = initialSequence + 1
    self.buffer = buffer
  }

  /// The sequence number our FIN has (or will have), once the application queued it.
  var finSequenceNumber: SequenceNumber? {
    finQueued ? bufferStart + buffer.count : nil
  }

  /// Bytes sent and not yet acknowledged (SND.MAX − SND.UNA: RFC 5681's FlightSize).
  var flightSize: Int { maximum - unacknowledged }

  /// SND.UNA moves to `acknowledgment` (which is above it): the data it covers leaves the
  /// buffer (the SYN and FIN occupy sequence space, not buffer), and SND.NXT is kept at or
  /// above SND.UNA (a SYN that was to go again may be acknowledged before it went). Returns
  /// how many data bytes were acknowledged.
  mutating func acknowledge(upTo acknowledgment: SequenceNumber) -> Int {
    let bufferEnd = bufferStart + buffer.count
    let covered = acknowledgment < bufferEnd ? acknowledgment : bufferEnd
    let dataAcknowledged = max(covered - bufferStart, 0)
    if dataAcknowledged > 0 {
      buffer.removeFirst(dataAcknowledged)
      bufferStart += dataAcknowledged
    }
    unacknowledged = acknowledgment
    if next < acknowledgment { next = acknowledgment }
    return dataAcknowledged
  }

  /// Takes the window (`window`, scaled to bytes) of an acceptable segment if it is newer
  /// than the one that last set it (RFC 9293 §3.10.7.4: SND.WL1 < SEG.SEQ, or SND.WL1 =
  /// SEG.SEQ and SND.WL2 =< SEG.ACK). Returns whether it was taken.
  mutating func takeWindow(
    _ window: Int, sequence: SequenceNumber, acknowledgment: SequenceNumber
  ) -> Bool {
    guard
      windowUpdateSequence < sequence
        || (windowUpdateSequence == sequence && windowUpdateAcknowledgment <= acknowledgment)
    else { return false }
    self.window = window
    maximumWindow = max(maximumWindow, window)
    windowUpdateSequence = sequence
    windowUpdateAcknowledgment = acknowledgment
    return true
  }
}
