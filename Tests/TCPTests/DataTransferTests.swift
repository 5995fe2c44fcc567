import NetCore
import Testing

@testable import TCP

/// Moving data in ESTABLISHED (RFC 9293 §3.8.6, §3.10.2–3): Nagle's algorithm (§3.7.4), the
/// peer's window and the congestion window limiting what is sent, the send buffer's bound,
/// and the notifications the application sees.
struct DataTransferTests {
  static func established(nagle: Bool = true, sendBuffer: Int? = nil) -> Harness {
    var configuration = TCPConfiguration()
    configuration.nagle = nagle
    if let sendBuffer { configuration.sendBufferSize = sendBuffer }
    var h = Harness.listening(configuration: configuration)
    h.establishPassive(roundTrip: .milliseconds(100))
    return h
  }

  func data(_ h: Harness, _ length: Int, from offset: Int, push: Bool = true) -> Segment {
    Segment(
      push ? [.ack, .psh] : .ack, seq: h.ourNext, ack: h.peerNext,
      payload: pattern(length, from: offset))
  }

  @Test func nagleHoldsASmallSegmentWhileDataIsUnacknowledged() {
    var h = Self.established()
    #expect(h.write(pattern(10)) == 10)
    h.expectSent(data(h, 10, from: 0))
    h.ourNext += 10
    #expect(h.write(pattern(10, from: 10)) == 10)
    #expect(h.write(pattern(10, from: 20)) == 10)
    h.expectNothingSent()
    // The ACK releases what was held, as one segment.
    h.deliver(h.peerAck())
    h.expectSent(data(h, 20, from: 10))
  }

  @Test func withoutNagleSmallSegmentsGoAtOnce() {
    var h = Self.established(nagle: false)
    #expect(h.write(pattern(10)) == 10)
    h.expectSent(data(h, 10, from: 0))
    h.ourNext += 10
    #expect(h.write(pattern(10, from: 10)) == 10)
    h.expectSent(data(h, 10, from: 10))
  }

  @Test func fullSegmentsAreNotHeldByNagle() {
    var h = Self.established()
    #expect(h.write(pattern(10)) == 10)
    _ = h.takeSent()
    h.ourNext += 10
    #expect(h.write(pattern(1500, from: 10)) == 1500)
    // The full segment goes; the 40-byte tail waits.
    h.expectSent(data(h, 1460, from: 10, push: false))
  }

  @Test func thePeersWindowLimitsWhatIsSent() {
    var h = Self.established(nagle: false)
    h.deliver(h.peerAck(window: 3000))
    #expect(h.write(pattern(5000)) == 5000)
    h.expectSent(
      data(h, 1460, from: 0, push: false),
      {
        var second = data(h, 1460, from: 1460, push: false)
        second.sequence = h.ourNext + 1460
        return second
      }())
    // 80 bytes would fit but are less than half the largest window offered: held
    // (sender-side silly window avoidance, RFC 9293 §3.8.6.2.1).
    h.ourNext += 2920
    h.deliver(h.peerAck(window: 65535))
    let sent = h.takeSent()
    #expect(sent.map(\.payload.count) == [1460, 620])
    #expect(sent.first?.sequence == h.ourNext)
  }

  @Test func sendBufferBoundsWritesAndWritableIsNotified() {
    var h = Self.established(sendBuffer: 4000)
    #expect(h.write(pattern(5000)) == 4000)
    #expect(h.connection?.writableBytes == 0)
    let sent = h.takeSent()
    #expect(sent.map(\.payload.count) == [1460, 1460])  // Nagle holds the 1080-byte tail
    _ = h.tcp.takeNotifications()
    h.deliver(h.peerAck(h.ourNext + 1460))
    #expect(h.connection?.writableBytes == 1460)
    let notifications = h.tcp.takeNotifications()
    #expect(
      notifications.contains {
        if case .connection(let id, let events) = $0 {
          id == h.id && events.contains(.writable)
        } else {
          false
        }
      })
  }

  @Test func receivedDataIsReadableInOrder() {
    var h = Self.established()
    _ = h.tcp.takeNotifications()
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(300)))
    let notifications = h.tcp.takeNotifications()
    #expect(
      notifications.contains {
        if case .connection(_, let events) = $0 { events.contains(.readable) } else { false }
      })
    #expect(h.connection?.readableBytes == 300)
    #expect(h.read(100) == pattern(100))
    #expect(h.read() == pattern(200, from: 100))
    #expect(h.connection?.bytesReceived == 300)
  }

  @Test func bulkTransferIsClockedByAcknowledgments() {
    // The peer acknowledges every second segment at once; 200 kB go out in slow start, every
    // byte exactly once, and the window grows.
    var h = Self.established(nagle: false)
    let total = 200_000
    var written = 0
    var received: [UInt8] = []
    var acknowledged = h.ourNext
    var rounds = 0
    while received.count < total && rounds < 100 {
      rounds += 1
      // The application writes what the send buffer takes (it grows with the window).
      written += h.write(pattern(total - written, from: written))
      let sent = h.takeSent()
      #expect(!sent.isEmpty)
      for (index, segment) in sent.enumerated() {
        #expect(segment.sequence == h.ourNext + received.count)
        received += segment.payload
        if index % 2 == 1 || index == sent.count - 1 {
          acknowledged = h.ourNext + received.count
          h.now += .milliseconds(1)
          h.deliver(h.peerAck(acknowledged))
        }
      }
    }
    #expect(received.count == total)
    #expect(received == pattern(total))
    #expect(h.tcp.counters.segmentsRetransmitted == 0)
    #expect((h.connection?.congestion.congestionWindow ?? 0) > 100_000)
    #expect(h.connection?.unacknowledgedBytes == 0)
  }
}
