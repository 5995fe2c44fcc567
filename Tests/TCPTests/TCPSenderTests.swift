import NetCore
import Testing

@testable import TCP

/// The send side on its own (RFC 9293 §3.3.1, §3.10.7.4 "fifth"): SND.UNA moving over the
/// SYN, data and FIN, and the window taken only from the newest segment (SND.WL1 / SND.WL2).
/// (`TCPSender` is not copyable: values are read into locals before `#expect` looks at them.)
struct TCPSenderTests {
  static let iss = SequenceNumber(1000)

  /// A sender whose SYN and 3000 written bytes were sent.
  func sentSynAndData() -> TCPSender {
    var sender = TCPSender(
      initialSequence: Self.iss, buffer: TCPSendBuffer(budget: MemoryBudget()))
    let bytes = [UInt8](repeating: 7, count: 3000)
    let written = sender.buffer.append(bytes.span, limit: 10_000)
    #expect(written == 3000)
    sender.next = Self.iss + 3001
    sender.maximum = Self.iss + 3001
    return sender
  }

  @Test func theSYNAndFINTakeSequenceSpaceNotBuffer() {
    var sender = sentSynAndData()
    let flight = sender.flightSize
    #expect(flight == 3001)
    let synOnly = sender.acknowledge(upTo: Self.iss + 1)
    #expect(synOnly == 0)
    let firstData = sender.acknowledge(upTo: Self.iss + 1001)
    #expect(firstData == 1000)
    let (held, start) = (sender.buffer.count, sender.bufferStart)
    #expect(held == 2000 && start == Self.iss + 1001)
    sender.finQueued = true
    let fin = sender.finSequenceNumber
    #expect(fin == Self.iss + 3001)
    sender.next = Self.iss + 3002
    sender.maximum = Self.iss + 3002
    let rest = sender.acknowledge(upTo: Self.iss + 3002)  // the data and the FIN
    let (empty, flightAfter) = (sender.buffer.isEmpty, sender.flightSize)
    #expect(rest == 2000 && empty && flightAfter == 0)
  }

  @Test func anAcknowledgmentAboveSNDNXTPullsItUp() {
    var sender = sentSynAndData()
    sender.next = Self.iss  // the SYN is to go again
    _ = sender.acknowledge(upTo: Self.iss + 1)
    let next = sender.next
    #expect(next == Self.iss + 1)
  }

  @Test func onlyANewerSegmentUpdatesTheWindow() {
    var sender = sentSynAndData()
    let peer = SequenceNumber(9000)
    let first = sender.takeWindow(4000, sequence: peer, acknowledgment: Self.iss + 1)
    // Same SEG.SEQ, older SEG.ACK: a reordered segment, its window is stale.
    let stale = sender.takeWindow(100, sequence: peer, acknowledgment: Self.iss)
    let windowAfterStale = sender.window
    #expect(first && !stale && windowAfterStale == 4000)
    let newerAcknowledgment = sender.takeWindow(
      2000, sequence: peer, acknowledgment: Self.iss + 1001)
    let newerSequence = sender.takeWindow(
      1000, sequence: peer + 10, acknowledgment: Self.iss + 1001)
    let (window, maximumWindow) = (sender.window, sender.maximumWindow)
    #expect(newerAcknowledgment && newerSequence && window == 1000 && maximumWindow == 4000)
  }
}
