import NetCore
import Testing

@testable import TCP

/// The timestamps option in use (RFC 7323 §3–5): every segment carries our clock and echoes
/// TS.Recent; TS.Recent follows only the segment at the left window edge (§4.3); PAWS drops a
/// segment with an older timestamp and answers it with an ACK (§5.3).
struct TimestampTests {
  static func established() -> Harness {
    var h = Harness.listening()
    h.peerSynOptions = .with(mss: 1460, sackPermitted: true, timestamp: (7000, 0))
    h.establishPassive()
    return h
  }

  @Test func ourClockRunsInMillisecondsAndTheEchoFollowsThePeer() {
    var h = Self.established()
    let start = h.ourClock
    h.now += .milliseconds(250)
    #expect(h.ourClock == start &+ 250)
    h.peerClock = 7100
    h.deliver(
      Segment(
        [.ack, .psh], seq: h.peerNext, ack: h.ourNext, options: h.peerOptions(),
        payload: pattern(10)))
    h.peerNext += 10
    h.advance(by: .milliseconds(40))
    h.expectSent(
      Segment(
        .ack, seq: h.ourNext, ack: h.peerNext, window: h.ourWindow,
        options: .with(timestamp: (start &+ 290, 7100))))
  }

  @Test func clockOffsetDiffersBetweenConnections() {
    // RFC 7323 §7.1: a random offset per connection, so the clock reveals no uptime.
    let h = Self.established()
    var other = h.tuple
    other.remotePort += 1
    #expect(h.tcp.timestampOffset(for: h.tuple) != h.tcp.timestampOffset(for: other))
  }

  @Test func olderTimestampIsDroppedByPAWSWithAnAck() {
    var h = Self.established()
    h.deliver(
      Segment(
        [.ack, .psh], seq: h.peerNext, ack: h.ourNext,
        options: .with(timestamp: (6999, h.lastOurTimestamp)),
        payload: pattern(10)))
    // Not accepted: a duplicate ACK, echoing TS.Recent.
    h.expectSent(h.ourAck())
    #expect(h.connection?.readableBytes == 0)
    #expect(h.tcp.counters.droppedPAWS == 1)
    // The same data with a current timestamp is accepted.
    h.deliver(
      Segment(
        [.ack, .psh], seq: h.peerNext, ack: h.ourNext, options: h.peerOptions(),
        payload: pattern(10)))
    #expect(h.connection?.readableBytes == 10)
  }

  @Test func pawsComparesModulo2To32() {
    var h = Harness.listening()
    h.peerClock = 0xFFFF_FFF0
    h.peerSynOptions = .with(mss: 1460, timestamp: (h.peerClock, 0))
    h.establishPassive()
    // 0x10 is after 0xFFFFFFF0 once the clock wraps.
    h.peerClock = 0x10
    h.deliver(
      Segment(
        [.ack, .psh], seq: h.peerNext, ack: h.ourNext, options: h.peerOptions(),
        payload: pattern(10)))
    #expect(h.connection?.readableBytes == 10)
    #expect(h.tcp.counters.droppedPAWS == 0)
  }

  @Test func pawsIgnoresResets() {
    var h = Self.established()
    h.deliver(Segment(.rst, seq: h.peerNext, window: 0, options: .with(timestamp: (1, 0))))
    #expect(h.state == .closed)
  }

  @Test func pawsLetsAnOldTimestampThroughAfter24DaysIdle() {
    // RFC 7323 §5.5: TS.Recent older than 24 days is invalid.
    var h = Self.established()
    h.now += .seconds(25 * 24 * 3600)
    h.deliver(
      Segment(
        [.ack, .psh], seq: h.peerNext, ack: h.ourNext, options: .with(timestamp: (1, 0)),
        payload: pattern(10)))
    #expect(h.connection?.readableBytes == 10)
  }

  @Test func tsRecentFollowsOnlyTheSegmentAtTheLeftEdge() {
    var h = Self.established()
    // An in-order segment at Last.ACK.sent: TS.Recent becomes 7100.
    h.peerClock = 7100
    h.deliver(
      Segment(
        [.ack, .psh], seq: h.peerNext, ack: h.ourNext, options: h.peerOptions(),
        payload: pattern(100)))
    h.peerNext += 100
    h.advance(by: .milliseconds(40))
    h.expectSent(h.ourAck())
    // An out-of-order segment with a newer clock does not move TS.Recent (§4.3 (2)): the
    // duplicate ACK echoes 7100.
    h.peerClock = 7200
    h.deliver(
      Segment(
        [.ack, .psh], seq: h.peerNext + 100, ack: h.ourNext, options: h.peerOptions(),
        payload: pattern(100, from: 200)))
    let gap = [SACKBlock(left: h.peerNext + 100, right: h.peerNext + 200)]
    h.expectSent(
      Segment(
        .ack, seq: h.ourNext, ack: h.peerNext, window: h.ourWindow,
        options: .with(timestamp: (h.ourClock, 7100), sack: gap)))
    // The segment that fills the gap is at Last.ACK.sent: TS.Recent becomes 7300.
    h.peerClock = 7300
    h.deliver(
      Segment(
        [.ack, .psh], seq: h.peerNext, ack: h.ourNext, options: h.peerOptions(),
        payload: pattern(100, from: 100)))
    h.peerNext += 200
    h.expectSent(
      Segment(
        .ack, seq: h.ourNext, ack: h.peerNext, window: h.ourWindow,
        options: .with(timestamp: (h.ourClock, 7300))))
  }

  @Test func delayedAckEchoesTheEarliestUnacknowledgedSegment() {
    // §4.3 (2): with delayed ACKs, TS.Recent is the clock of the first segment acknowledged,
    // so that the peer measures the longest round trip.
    var h = Self.established()
    h.peerClock = 7100
    h.deliver(
      Segment(
        .ack, seq: h.peerNext, ack: h.ourNext, options: h.peerOptions(), payload: pattern(1448)))
    h.peerClock = 7200
    h.deliver(
      Segment(
        .ack, seq: h.peerNext + 1448, ack: h.ourNext, options: h.peerOptions(),
        payload: pattern(1448)))
    h.peerNext += 2896
    h.expectSent(
      Segment(
        .ack, seq: h.ourNext, ack: h.peerNext, window: h.ourWindow,
        options: .with(timestamp: (h.ourClock, 7100))))
  }

  @Test func timestampsLeaveLessRoomForData() {
    // RFC 9293 §3.7.1: the 12 bytes of the option come out of the MSS: 1448 bytes of data.
    var h = Self.established()
    #expect(h.write(pattern(3000)) == 3000)
    let sent = h.takeSent()
    #expect(sent.map(\.payload.count) == [1448, 1448])
    #expect(
      sent.allSatisfy {
        $0.options.timestamp?.value == h.ourClock && $0.options.timestamp?.echoReply == 7000
      })
  }
}
