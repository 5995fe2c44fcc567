import NetCore
import Testing

@testable import TCP

/// A peer that closes its window (RFC 9293 §3.8.6.1): the data waits, the persist timer
/// probes with a segment the peer must acknowledge, backing off while the window stays shut,
/// and sending resumes as soon as it opens.
struct ZeroWindowProbeTests {
  /// RTO 300 ms; the peer has just announced a zero window.
  static func closedWindow(configuration: TCPConfiguration = TCPConfiguration()) -> Harness {
    var h = Harness.listening(configuration: configuration)
    h.establishPassive(roundTrip: .milliseconds(100))
    h.deliver(h.peerAck(window: 0))
    #expect(h.connection?.sender.window == 0)
    return h
  }

  /// Linux's window probe: an ACK at SND.UNA − 1 the peer must answer with its window.
  func probe(_ h: Harness) -> Segment {
    Segment(.ack, seq: h.ourNext - 1, ack: h.peerNext)
  }

  @Test func dataWaitsAndTheWindowIsProbedWithBackoff() {
    var h = Self.closedWindow()
    #expect(h.write(pattern(100)) == 100)
    h.expectNothingSent()
    for interval in [300, 600, 1200, 2400] as [Int64] {
      h.advance(by: .milliseconds(interval - 1))
      h.expectNothingSent()
      h.advance(by: .milliseconds(1))
      h.expectSent(probe(h))
      // The peer answers: still shut.
      h.deliver(h.peerAck(window: 0))
      h.expectNothingSent()
    }
    #expect(h.tcp.counters.zeroWindowProbes == 4)
    #expect(h.state == .established)
  }

  @Test func openingWindowResumesSendingAtOnce() {
    var h = Self.closedWindow()
    #expect(h.write(pattern(100)) == 100)
    h.advance(by: .milliseconds(300))
    h.expectSent(probe(h))
    // A window too small to be worth it (sender silly-window avoidance, RFC 9293
    // §3.8.6.2.1: less than half the largest window the peer offered) still waits.
    h.deliver(h.peerAck(window: 50))
    h.expectNothingSent()
    h.deliver(h.peerAck(window: 65535))
    h.expectSent(Segment([.ack, .psh], seq: h.ourNext, ack: h.peerNext, payload: pattern(100)))
    // The persist timer is off; only the retransmission timer runs.
    #expect(h.connection?.persistDeadline == nil)
  }

  @Test func smallWindowIsUsedAfterTheOverrideTimeout() {
    // RFC 9293 §3.8.6.2.1: pushed data held for silly-window avoidance goes out when "the
    // override timeout occurs" (suggested 0.1 to 1.0 s), so that a peer which announces only
    // a small window is not waited on for ever.
    var h = Self.closedWindow()
    #expect(h.write(pattern(100)) == 100)
    h.deliver(h.peerAck(window: 50))
    h.expectNothingSent()
    // The persist timer is the override timer: the RTO, 300 ms here.
    h.advance(by: .milliseconds(299))
    h.expectNothingSent()
    h.advance(by: .milliseconds(1))
    h.expectSent(Segment(.ack, seq: h.ourNext, ack: h.peerNext, payload: pattern(50)))
    // The rest waits for the window, under the retransmission timer.
    h.ourNext += 50
    h.deliver(h.peerAck(window: 65535))
    h.expectSent(
      Segment([.ack, .psh], seq: h.ourNext, ack: h.peerNext, payload: pattern(50, from: 50)))
  }

  @Test func windowUpdateWithoutNewAckIsTaken() {
    // §3.10.7.4: SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK: the window is updated.
    var h = Self.closedWindow()
    #expect(h.write(pattern(100)) == 100)
    h.deliver(h.peerAck(window: 1000))
    h.expectSent(Segment([.ack, .psh], seq: h.ourNext, ack: h.peerNext, payload: pattern(100)))
  }

  @Test func oldSegmentDoesNotShutTheWindowAgain() {
    var h = Harness.listening()
    h.establishPassive()
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(10)))
    h.peerNext += 10
    // A reordered older segment (lower SEG.SEQ) with a zero window is not a window update.
    h.deliver(Segment(.ack, seq: h.peerNext - 10, ack: h.ourNext, window: 0))
    #expect(h.connection?.sender.window == 65535)
  }

  @Test func noProbesWithNothingToSend() {
    var h = Self.closedWindow()
    h.advance(by: .seconds(10))
    h.expectNothingSent()
    #expect(h.connection?.nextDeadline == nil)
  }

  @Test func probeIntervalIsCappedAt60Seconds() {
    var configuration = TCPConfiguration()
    configuration.userTimeout = nil
    var h = Self.closedWindow(configuration: configuration)
    #expect(h.write(pattern(100)) == 100)
    var intervals: [Interval] = []
    for _ in 0..<12 {
      if let moved = h.advanceToNextDeadline() { intervals.append(moved) }
      _ = h.takeSent()
    }
    #expect(intervals.last == .seconds(60))
    #expect(intervals.max() == .seconds(60))
    // Without a user timeout, probes never give the connection up (RFC 1122 §4.2.2.17: as
    // long as they are answered).
    #expect(h.state == .established)
  }

  /// RFC 9293 §3.8.3, RFC 5482: a peer that answers every probe but never opens its window
  /// holds the data (and its memory) only for the user timeout, five minutes by default.
  @Test func userTimeoutEndsAConnectionWhoseWindowStaysShut() {
    var h = Self.closedWindow()
    #expect(h.write(pattern(100)) == 100)
    var elapsed = Interval.zero
    while h.state == .established, let moved = h.advanceToNextDeadline() {
      elapsed = elapsed + moved
      let sent = h.takeSent()
      if sent.contains(where: { !$0.flags.contains(.rst) }) { h.deliver(h.peerAck(window: 0)) }
    }
    #expect(h.state == .closed)
    #expect(h.connection?.error == .timedOut)
    #expect(elapsed <= .seconds(301) && elapsed >= .seconds(299))
    #expect(h.tcp.counters.userTimeouts == 1)
  }

  @Test func progressRestartsTheUserTimeout() {
    var h = Self.closedWindow()
    #expect(h.write(pattern(100)) == 100)
    h.advance(by: .seconds(250))
    // The window opens: the data goes and is acknowledged; then more waits behind a shut one.
    h.deliver(h.peerAck(window: 65535))
    let sent = h.takeSent()
    #expect(sent.last?.payload.count == 100)
    h.ourNext += 100
    h.deliver(h.peerAck(window: 0))
    #expect(h.write(pattern(100)) == 100)
    h.advance(by: .seconds(250))
    #expect(h.state == .established)
    #expect(h.tcp.counters.userTimeouts == 0)
  }
}
