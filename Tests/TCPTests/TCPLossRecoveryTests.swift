import NetCore
import Testing

@testable import TCP

/// The loss recovery state on its own (RFC 5681 §3.2, RFC 6582 §3.2, RFC 6675 §5, RFC 6298
/// §5.4): duplicate ACKs, one episode at a time, and what a timeout leaves owed.
struct TCPLossRecoveryTests {
  static let iss = SequenceNumber(1000)
  static let mss = 1000
  static let t0 = Instant(nanoseconds: 1_000_000_000)

  /// Recovery with ten 1000-byte segments in flight after the ISS's SYN.
  func tenSegmentsInFlight() -> TCPLossRecovery {
    var recovery = TCPLossRecovery(initialSequence: Self.iss)
    recovery.retransmissionQueue.sent(
      start: Self.iss + 1, end: Self.iss + 10_001, fin: false, segmentSize: Self.mss, at: Self.t0)
    return recovery
  }

  /// One duplicate ACK; whether it calls for the fast retransmit.
  func duplicate(_ recovery: inout TCPLossRecovery, useSACK: Bool) -> Bool {
    recovery.duplicateAcknowledgment(useSACK: useSACK, maximumSegmentSize: Self.mss)
  }

  @Test func withoutSACKTheThirdDuplicateIsTheFastRetransmit() {
    var recovery = tenSegmentsInFlight()
    #expect(!duplicate(&recovery, useSACK: false))
    #expect(recovery.windowInflation == Self.mss)  // limited transmit (RFC 3042)
    #expect(!duplicate(&recovery, useSACK: false))
    #expect(recovery.windowInflation == 2 * Self.mss)
    #expect(recovery.retransmissionQueue.lostBytes == 0)
    #expect(duplicate(&recovery, useSACK: false))
    #expect(recovery.retransmissionQueue.lostBytes == Self.mss)
  }

  @Test func withSACKDuplicatesAreOnlyCounted() {
    var recovery = tenSegmentsInFlight()
    for _ in 0..<5 {
      #expect(!duplicate(&recovery, useSACK: true))
    }
    #expect(recovery.duplicateAcknowledgments == 5)
    #expect(recovery.windowInflation == 0)
    #expect(recovery.retransmissionQueue.lostBytes == 0)
  }

  @Test func oneEpisodeAtATimeUntilSNDUNAPassesTheRecoveryPoint() {
    var recovery = tenSegmentsInFlight()
    let sendMaximum = Self.iss + 10_001
    #expect(
      recovery.mayStartEpisode(sendUnacknowledged: Self.iss + 1, initialSendSequence: Self.iss))
    recovery.probeDeadline = Self.t0 + .milliseconds(200)
    recovery.startEpisode(sendMaximum: sendMaximum)
    #expect(recovery.inRecovery && recovery.retransmissionOwed)
    #expect(recovery.probeDeadline == nil)  // no tail loss probe during recovery
    #expect(
      !recovery.mayStartEpisode(sendUnacknowledged: Self.iss + 1, initialSendSequence: Self.iss))
    recovery.endEpisode()
    #expect(!recovery.inRecovery)
    // Over, but not yet behind SND.UNA: losses of the same flight cut the window only once.
    #expect(
      !recovery.mayStartEpisode(sendUnacknowledged: Self.iss + 5001, initialSendSequence: Self.iss))
    #expect(
      recovery.mayStartEpisode(sendUnacknowledged: sendMaximum, initialSendSequence: Self.iss))
  }

  @Test func aPartialAcknowledgmentOwesTheNextSegment() {
    var recovery = tenSegmentsInFlight()
    recovery.startEpisode(sendMaximum: Self.iss + 10_001)
    recovery.retransmissionOwed = false
    recovery.windowInflation = 3 * Self.mss
    recovery.retransmissionQueue.acknowledge(upTo: Self.iss + 2001, now: Self.t0)
    recovery.partialAcknowledgment(acknowledged: 2000, maximumSegmentSize: Self.mss)
    #expect(recovery.retransmissionOwed)
    #expect(recovery.windowInflation == 2 * Self.mss)  // 3000 − 2000 + 1000
    #expect(recovery.retransmissionQueue.lostBytes == Self.mss)
  }

  @Test func aTimeoutEndsTheEpisodeAndJudgesEverythingLost() {
    var recovery = tenSegmentsInFlight()
    recovery.startEpisode(sendMaximum: Self.iss + 10_001)
    recovery.retransmissionQueue.sack(
      [SACKBlock(left: Self.iss + 5001, right: Self.iss + 6001)], now: Self.t0)
    recovery.retransmissionTimedOut(sendMaximum: Self.iss + 10_001, timeoutsRunning: 1)
    #expect(!recovery.inRecovery && recovery.retransmissionOwed)
    #expect(recovery.recoveryPoint == Self.iss + 10_001)
    #expect(recovery.retransmissionQueue.lostBytes == 9000)  // SACKed data kept at first
    recovery.retransmissionTimedOut(sendMaximum: Self.iss + 10_001, timeoutsRunning: 2)
    #expect(recovery.retransmissionQueue.lostBytes == 10_000)  // RFC 2018 §8: renege
  }
}
