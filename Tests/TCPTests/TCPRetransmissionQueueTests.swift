import NetCore
import Testing

@testable import TCP

/// The connection's per-segment scoreboard (RFC 6675 §3 kept Linux's way, with RACK's send
/// times, RFC 8985): records cut to the MSS, SACK marks, RFC 6675 IsLost and `pipe`, RACK's
/// time-based loss marking, and the timeout that marks everything unSACKed lost.
struct TCPRetransmissionQueueTests {
  static let start = SequenceNumber(5000)
  static let mss = 1000
  static let t0 = Instant(nanoseconds: 1_000_000_000)

  func s(_ offset: Int) -> SequenceNumber { Self.start + offset }

  /// Ten 1000-byte segments sent at t0.
  func tenSegments() -> TCPRetransmissionQueue {
    var queue = TCPRetransmissionQueue()
    queue.sent(start: s(0), end: s(10_000), fin: false, segmentSize: Self.mss, at: Self.t0)
    return queue
  }

  @Test func sendsAreRecordedPerSegment() {
    var queue = tenSegments()
    #expect(queue.count == 10)
    #expect(queue.outstandingBytes == 10_000)
    #expect(queue.pipe == 10_000)
    #expect(queue[3] == .init(start: s(3000), end: s(4000), sentAt: Self.t0, transmissions: 1))
    // A FIN takes the last sequence number of the last record.
    queue.sent(start: s(10_000), end: s(10_501), fin: true, segmentSize: Self.mss, at: Self.t0)
    #expect(queue.last?.fin == true)
    #expect(queue.last?.length == 501)
  }

  @Test func acknowledgmentRemovesWholeAndCutsPartialRecords() {
    var queue = tenSegments()
    queue.acknowledge(upTo: s(2500), now: Self.t0 + .milliseconds(100))
    #expect(queue.count == 8)
    #expect(queue[0].start == s(2500))
    #expect(queue.outstandingBytes == 7500)
    #expect(queue.rackRoundTrip == .milliseconds(100))
    #expect(queue.minimumRoundTrip == .milliseconds(100))
    queue.acknowledge(upTo: s(10_000), now: Self.t0 + .milliseconds(100))
    #expect(queue.isEmpty)
    #expect(queue.pipe == 0)
  }

  @Test func sackMarksOnlyWholeRecords() {
    var queue = tenSegments()
    queue.sack(
      [SACKBlock(left: s(1000), right: s(3000)), SACKBlock(left: s(4500), right: s(6000))],
      now: Self.t0 + .milliseconds(100))
    // 1000–3000 covers two records; 4500–6000 only the record at 5000.
    #expect(queue.sackedBytes == 3000)
    #expect((0..<10).filter { queue[$0].sacked } == [1, 2, 5])
    #expect(queue.pipe == 7000)
  }

  @Test func isLostFollowsRFC6675() {
    var queue = tenSegments()
    let now = Self.t0 + .milliseconds(100)
    queue.sack([SACKBlock(left: s(1000), right: s(3000))], now: now)
    // Exactly 2 × SMSS above segment 0: not lost (RACK's window keeps it too).
    var result = queue.detectLosses(
      now: now, reorderingWindow: .milliseconds(25), maximumSegmentSize: Self.mss, useSACK: true)
    #expect(!result.newlyLost)
    #expect(result.reorderDeadline == Self.t0 + .milliseconds(125))
    queue.sack([SACKBlock(left: s(1000), right: s(4000))], now: now)
    result = queue.detectLosses(
      now: now, reorderingWindow: .milliseconds(25), maximumSegmentSize: Self.mss, useSACK: true)
    #expect(result.newlyLost)
    #expect(queue.firstLost == 0)
    #expect(queue.lostBytes == 1000)
    #expect(queue.pipe == 10_000 - 3000 - 1000)
  }

  @Test func rackMarksLostAfterTheReorderingWindow() {
    var queue = tenSegments()
    queue.sack([SACKBlock(left: s(9000), right: s(10_000))], now: Self.t0 + .milliseconds(100))
    // Without the SACK rule: segments 0–8 were sent no later than the delivered one; lost
    // once 100 ms (its RTT) + 25 ms have passed since they were sent.
    var result = queue.detectLosses(
      now: Self.t0 + .milliseconds(124), reorderingWindow: .milliseconds(25),
      maximumSegmentSize: Self.mss, useSACK: false)
    #expect(!result.newlyLost)
    result = queue.detectLosses(
      now: Self.t0 + .milliseconds(125), reorderingWindow: .milliseconds(25),
      maximumSegmentSize: Self.mss, useSACK: false)
    #expect(result.newlyLost)
    #expect(queue.lostBytes == 9000)
  }

  @Test func retransmissionClearsTheLostMark() {
    var queue = tenSegments()
    queue.markFirstLost()
    #expect(queue.firstLost == 0)
    #expect(queue.pipe == 9000)
    queue.retransmitted(0, at: Self.t0 + .milliseconds(300))
    #expect(queue.firstLost == nil)
    #expect(queue[0].transmissions == 2)
    #expect(queue.pipe == 10_000)
  }

  @Test func timeoutMarksEverythingUnsackedLost() {
    var queue = tenSegments()
    queue.sack([SACKBlock(left: s(2000), right: s(4000))], now: Self.t0 + .milliseconds(100))
    queue.markAllLost()
    #expect(queue.lostBytes == 8000)
    #expect(queue.pipe == 0)
    // A second timeout running forgets the SACKs (RFC 2018 §8: the receiver may renege).
    queue.clearSACKs()
    queue.markAllLost()
    #expect(queue.lostBytes == 10_000)
    #expect(queue.sackedBytes == 0)
  }

  @Test func splitKeepsTheAccounting() {
    var queue = tenSegments()
    queue.split(0, at: 400)
    #expect(queue.count == 11)
    #expect(queue[0].end == s(400) && queue[1].start == s(400) && queue[1].end == s(1000))
    #expect(queue.outstandingBytes == 10_000)
  }
}
