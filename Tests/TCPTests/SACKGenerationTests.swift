import NetCore
import Testing

@testable import TCP

/// The SACK blocks we send as a receiver (RFC 2018 §4): one per out-of-order range, the block
/// holding the segment that triggered the ACK first, as many as fit the option space (three
/// beside timestamps, four without), and only while there is a gap.
struct SACKGenerationTests {
  static func established(timestamps: Bool) -> Harness {
    var h = Harness.listening()
    h.peerSynOptions = .with(
      mss: 1460, sackPermitted: true, timestamp: timestamps ? (7000, 0) : nil)
    h.establishPassive()
    return h
  }

  /// The peer's segment of `length` bytes at `offset` past RCV.NXT.
  func data(_ h: Harness, at offset: Int, _ length: Int) -> Segment {
    Segment(
      .ack, seq: h.peerNext + offset, ack: h.ourNext, options: h.peerOptions(),
      payload: pattern(length, from: offset))
  }

  func block(_ h: Harness, _ from: Int, _ to: Int) -> SACKBlock {
    SACKBlock(left: h.peerNext + from, right: h.peerNext + to)
  }

  @Test func outOfOrderSegmentIsAcknowledgedAtOnceWithItsBlock() {
    var h = Self.established(timestamps: false)
    h.deliver(data(h, at: 100, 100))
    h.expectSent(h.ourAck(sack: [block(h, 100, 200)]))
    #expect(h.tcp.counters.outOfOrderSegments == 1)
  }

  @Test func latestBlockComesFirst() {
    var h = Self.established(timestamps: false)
    h.deliver(data(h, at: 100, 100))
    h.expectSent(h.ourAck(sack: [block(h, 100, 200)]))
    h.deliver(data(h, at: 300, 100))
    h.expectSent(h.ourAck(sack: [block(h, 300, 400), block(h, 100, 200)]))
    h.deliver(data(h, at: 500, 100))
    let third = h.takeSent()
    #expect(third.count == 1)
    #expect(third.first?.options.sackBlocks.first == block(h, 500, 600))
    #expect(
      Set(third.first?.options.sackBlocks ?? [])
        == [block(h, 100, 200), block(h, 300, 400), block(h, 500, 600)])
    // A segment extending an older block puts that (merged) block first.
    h.deliver(data(h, at: 200, 50))
    let fourth = h.takeSent()
    #expect(fourth.first?.options.sackBlocks.first == block(h, 100, 250))
    #expect(fourth.first?.options.sackBlocks.count == 3)
  }

  @Test func laterBlocksRepeatTheMostRecentlyReported() {
    // RFC 2018 §4: after the first block, "the SACK option SHOULD be filled out by repeating
    // the most recently reported SACK blocks". With timestamps only three fit, so which two
    // follow the first matters.
    var h = Self.established(timestamps: true)
    for offset in [100, 300, 500, 700] {
      h.deliver(data(h, at: offset, 100))
    }
    _ = h.takeSent()
    h.deliver(data(h, at: 900, 100))
    let sent = h.takeSent()
    #expect(sent.first?.options.sackBlocks.first == block(h, 900, 1000))
    #expect(
      sent.first?.options.sackBlocks == [
        block(h, 900, 1000), block(h, 700, 800), block(h, 500, 600),
      ])
  }

  @Test func atMostThreeBlocksBesideTimestamps() {
    var h = Self.established(timestamps: true)
    for offset in [100, 300, 500, 700, 900] {
      h.deliver(data(h, at: offset, 100))
      let sent = h.takeSent()
      #expect(sent.count == 1)
      #expect(sent.first?.options.sackBlocks.count == min((offset + 100) / 200, 3))
      #expect(sent.first?.options.sackBlocks.first == block(h, offset, offset + 100))
      #expect(sent.first?.options.timestamp != nil)
    }
  }

  @Test func atMostFourBlocksWithoutTimestamps() {
    var h = Self.established(timestamps: false)
    for offset in [100, 300, 500, 700, 900, 1100] {
      h.deliver(data(h, at: offset, 100))
      let sent = h.takeSent()
      #expect(sent.first?.options.sackBlocks.count == min((offset + 100) / 200, 4))
    }
  }

  @Test func fillingTheGapsRetiresTheirBlocks() {
    var h = Self.established(timestamps: false)
    h.deliver(data(h, at: 100, 100))
    h.deliver(data(h, at: 300, 100))
    _ = h.takeSent()
    // The first gap fills: RCV.NXT jumps past the first block, at once acknowledged.
    h.deliver(data(h, at: 0, 100))
    h.peerNext += 200
    h.expectSent(h.ourAck(sack: [SACKBlock(left: h.peerNext + 100, right: h.peerNext + 200)]))
    h.deliver(data(h, at: 0, 100))
    h.peerNext += 200
    h.expectSent(h.ourAck())  // no gap left, no SACK option
    #expect(h.read() == pattern(200) + pattern(100) + pattern(100, from: 300))
  }

  @Test func withoutSackNegotiatedNoBlocksAreSent() {
    var h = Harness.listening()
    h.establishPassive()
    h.deliver(data(h, at: 100, 100))
    h.expectSent(h.ourAck())
  }

  @Test func duplicateOutOfOrderSegmentIsReportedAsADSACK() {
    // RFC 2883 §4: the first block reports the duplicate; the second the block above
    // RCV.NXT that holds it.
    var h = Self.established(timestamps: false)
    h.deliver(data(h, at: 100, 100))
    _ = h.takeSent()
    h.deliver(data(h, at: 100, 100))
    h.expectSent(h.ourAck(sack: [block(h, 100, 200), block(h, 100, 200)]))
    h.deliver(data(h, at: 120, 30))
    h.expectSent(h.ourAck(sack: [block(h, 120, 150), block(h, 100, 200)]))
  }

  @Test func duplicateOfAcknowledgedDataIsReportedAsADSACK() {
    // RFC 2883 §4.1.1: a D-SACK block below the cumulative acknowledgment.
    var h = Self.established(timestamps: false)
    h.deliver(data(h, at: 0, 100))
    h.peerNext += 100
    h.advance(by: .milliseconds(40))
    h.expectSent(h.ourAck())
    h.deliver(
      Segment(.ack, seq: h.peerNext - 100, ack: h.ourNext, payload: pattern(100)))
    h.expectSent(h.ourAck(sack: [SACKBlock(left: h.peerNext - 100, right: h.peerNext)]))
    // Only once: the next ACK carries no block.
    h.deliver(data(h, at: 0, 10))
    h.peerNext += 10
    h.advance(by: .milliseconds(40))
    h.expectSent(h.ourAck())
  }
}
