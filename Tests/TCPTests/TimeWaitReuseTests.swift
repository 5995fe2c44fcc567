import NetCore
import Testing

@testable import TCP

/// A new SYN for a 4-tuple still in TIME-WAIT (RFC 6191, RFC 1122 §4.2.2.13): accepted when it
/// is clearly from a new incarnation (a newer timestamp when the old connection used them,
/// else a higher sequence number), answered with the old final ACK otherwise.
struct TimeWaitReuseTests {
  /// A server connection on 10.0.0.1:80 ← 10.0.0.2:40000, closed by us, in TIME-WAIT.
  static func inTimeWait(timestamps: Bool) -> Harness {
    var h = Harness.listening()
    if timestamps { h.peerSynOptions = .with(mss: 1460, timestamp: (7000, 0)) }
    h.establishPassive()
    h.enterTimeWait()
    h.tcp.release(h.id!)
    h.id = nil
    #expect(h.tcp.timeWaitCount == 1)
    h.now += .seconds(1)
    return h
  }

  @Test func newerTimestampOpensANewConnection() {
    var h = Self.inTimeWait(timestamps: true)
    let oldISS = h.iss
    h.irs = h.peerNext - 1000  // a lower sequence number: the timestamp decides
    h.peerClock = 8000
    h.peerSynOptions = .with(mss: 1460, timestamp: (8000, 0))
    h.receiveSyn()
    #expect(h.tcp.timeWaitCount == 0)
    #expect(h.tcp.counters.timeWaitReused == 1)
    #expect(oldISS < h.iss)  // RFC 6528's clock moved on
    h.deliver(h.peerAck())
    #expect(h.state == .established)
  }

  @Test func olderTimestampGetsTheFinalAckAgain() {
    var h = Self.inTimeWait(timestamps: true)
    h.deliver(
      Segment(.syn, seq: h.peerNext + 1000, options: .with(mss: 1460, timestamp: (6000, 0))))
    h.expectSent(
      Segment(
        .ack, seq: h.ourNext, ack: h.peerNext, window: 0,
        options: .with(timestamp: (h.ourClock, 6000))))
    #expect(h.tcp.timeWaitCount == 1)
    #expect(h.tcp.connectionCount == 0)
  }

  @Test func equalTimestampIsNotNewer() {
    var h = Self.inTimeWait(timestamps: true)
    h.deliver(
      Segment(.syn, seq: h.peerNext + 1000, options: .with(mss: 1460, timestamp: (7000, 0))))
    #expect(h.tcp.timeWaitCount == 1)
    #expect(h.tcp.connectionCount == 0)
  }

  @Test func higherSequenceNumberOpensANewConnectionWithoutTimestamps() {
    var h = Self.inTimeWait(timestamps: false)
    h.irs = h.peerNext + 100_000
    h.receiveSyn()
    #expect(h.tcp.timeWaitCount == 0)
    #expect(h.tcp.counters.timeWaitReused == 1)
  }

  @Test(arguments: [0, -1, -100_000])
  func lowerSequenceNumberGetsTheFinalAckAgain(offset: Int) {
    var h = Self.inTimeWait(timestamps: false)
    h.deliver(Segment(.syn, seq: h.peerNext + offset, options: .with(mss: 1460)))
    h.expectSent(Segment(.ack, seq: h.ourNext, ack: h.peerNext, window: 0))
    #expect(h.tcp.timeWaitCount == 1)
    #expect(h.tcp.connectionCount == 0)
  }

  @Test func synWithoutTimestampsFallsBackToTheSequenceNumber() {
    // RFC 6191 §2: the old incarnation used timestamps, the new SYN has none.
    var h = Self.inTimeWait(timestamps: true)
    h.peerSynOptions = .with(mss: 1460)
    h.irs = h.peerNext + 10
    h.receiveSyn()
    #expect(h.tcp.counters.timeWaitReused == 1)
  }

  @Test func tableDecisionFollowsRFC6191() {
    let tuple = Harness().tuple
    let entry = TCPTimeWaitTable.Entry(
      tuple: tuple, sendNext: SequenceNumber(5), receiveNext: SequenceNumber(0xFFFF_FFF0),
      timestampRecent: 0xFFFF_FF00, timestampOffset: 0, receiveWindowShift: 0,
      expires: .zero)
    let newer = TCPTimestampOption(value: 0x10, echoReply: 0)  // after the wrap
    let older = TCPTimestampOption(value: 0xFFFF_FE00, echoReply: 0)
    #expect(TCPTimeWaitTable.acceptsNewSYN(entry, sequence: SequenceNumber(0), timestamp: newer))
    #expect(
      !TCPTimeWaitTable.acceptsNewSYN(entry, sequence: SequenceNumber(0x10), timestamp: older))
    #expect(TCPTimeWaitTable.acceptsNewSYN(entry, sequence: SequenceNumber(0x10), timestamp: nil))
    #expect(
      !TCPTimeWaitTable.acceptsNewSYN(entry, sequence: SequenceNumber(0xFFFF_FFF0), timestamp: nil))
  }
}
