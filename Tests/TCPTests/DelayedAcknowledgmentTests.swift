import NetCore
import Testing

@testable import TCP

/// Delayed acknowledgments (RFC 1122 §4.2.3.2, RFC 5681 §4.2): an ACK may wait (here 40 ms,
/// Linux's minimum) but at least every second full-sized segment is acknowledged at once, and
/// so is anything out of order or filling a gap; data going the other way carries the ACK.
struct DelayedAcknowledgmentTests {
  static func established() -> Harness {
    var h = Harness.listening()
    h.establishPassive()
    return h
  }

  func fullSegment(_ h: Harness, at offset: Int = 0) -> Segment {
    Segment(.ack, seq: h.peerNext + offset, ack: h.ourNext, payload: pattern(1460, from: offset))
  }

  @Test func oneFullSegmentIsAcknowledgedAfter40ms() {
    var h = Self.established()
    h.deliver(fullSegment(h))
    h.peerNext += 1460
    h.expectNothingSent()
    #expect(h.connection?.nextDeadline == h.now + .milliseconds(40))
    h.advance(by: .milliseconds(39))
    h.expectNothingSent()
    h.advance(by: .milliseconds(1))
    h.expectSent(h.ourAck())
    #expect(h.connection?.nextDeadline == nil)
  }

  @Test func secondFullSegmentIsAcknowledgedAtOnce() {
    var h = Self.established()
    h.deliver(fullSegment(h))
    h.expectNothingSent()
    h.now += .milliseconds(10)
    h.deliver(fullSegment(h, at: 1460))
    h.peerNext += 2920
    h.expectSent(h.ourAck())
    // The timer went with the ACK.
    h.advance(by: .milliseconds(100))
    h.expectNothingSent()
  }

  @Test func smallSegmentIsDelayedToo() {
    var h = Self.established()
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(10)))
    h.peerNext += 10
    h.expectNothingSent()
    h.advance(by: .milliseconds(40))
    h.expectSent(h.ourAck())
  }

  @Test func outOfOrderSegmentIsAcknowledgedAtOnce() {
    var h = Self.established()
    h.deliver(fullSegment(h, at: 1460))
    h.expectSent(h.ourAck())  // a duplicate ACK, RFC 5681 §4.2
    h.deliver(fullSegment(h, at: 2920))
    h.expectSent(h.ourAck())
  }

  @Test func segmentFillingAGapIsAcknowledgedAtOnce() {
    var h = Self.established()
    h.deliver(fullSegment(h, at: 1460))
    _ = h.takeSent()
    h.deliver(fullSegment(h))
    h.peerNext += 2920
    h.expectSent(h.ourAck())
  }

  @Test func dataWeSendCarriesThePendingAck() {
    var h = Self.established()
    h.deliver(fullSegment(h))
    h.peerNext += 1460
    h.expectNothingSent()
    #expect(h.write(pattern(20)) == 20)
    h.expectSent(
      Segment([.ack, .psh], seq: h.ourNext, ack: h.peerNext, payload: pattern(20)))
    h.ourNext += 20
    // Nothing more is owed.
    h.advance(by: .milliseconds(40))
    h.expectNothingSent()
  }

  @Test func delayIsConfigurable() {
    var configuration = TCPConfiguration()
    configuration.delayedAcknowledgmentTimeout = .milliseconds(200)
    var h = Harness.listening(configuration: configuration)
    h.establishPassive()
    h.deliver(fullSegment(h))
    h.peerNext += 1460
    h.advance(by: .milliseconds(199))
    h.expectNothingSent()
    h.advance(by: .milliseconds(1))
    h.expectSent(h.ourAck())
  }

  @Test func readingThatOpensTheWindowAnnouncesIt() {
    // Receiver-side silly window avoidance (RFC 9293 §3.8.6.2.2): a read that opens the
    // window by at least min(half the buffer, 2 MSS) is announced at once.
    var configuration = TCPConfiguration()
    configuration.receiveBufferSize = 8192
    var h = Harness.listening(configuration: configuration)
    h.establishPassive()
    #expect(h.ourWindow == 8192)
    h.deliver(Segment(.ack, seq: h.peerNext, ack: h.ourNext, payload: pattern(1460)))
    h.deliver(
      Segment(.ack, seq: h.peerNext + 1460, ack: h.ourNext, payload: pattern(1460, from: 1460)))
    h.peerNext += 2920
    h.expectSent(h.ourAck(window: 8192 - 2920))
    // Reading 1000 bytes opens the window by less than 2 MSS: nothing.
    #expect(h.read(1000) == pattern(1000))
    h.expectNothingSent()
    // Reading the rest opens it by 2920: announced.
    #expect(h.read() == pattern(1920, from: 1000))
    h.expectSent(h.ourAck(window: 8192))
  }
}
