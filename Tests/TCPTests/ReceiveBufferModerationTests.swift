import NetCore
import Testing

@testable import TCP

/// Receive buffers that grow with use (Linux `tcp_rcv_space_adjust`, Dynamic Right-Sizing): a
/// connection starts with room for a peer's initial window and grows as its application shows,
/// round trip after round trip, that it reads faster; a connection whose application reads
/// nothing never grows.
struct ReceiveBufferModerationTests {
  static func moderated() -> Harness {
    var h = Harness(fixedReceiveBuffer: false)
    h.listener = try? h.tcp.listen(port: Harness.serverPort)
    return h
  }

  @Test func aConnectionStartsWithRoomForTenSegments() {
    var h = Self.moderated()
    h.deliver(Segment(.syn, seq: h.irs, window: 65535, options: h.peerSynOptions))
    let synAck = h.takeSent().first
    #expect(synAck?.window == 14600)
    #expect(h.tcp.counters.receiveBufferGrowths == 0)
  }

  /// The peer sends as fast as the window allows and the application reads everything at
  /// once, for 20 round trips of 10 ms: the buffer (and the window) grow far past the start.
  @Test func theBufferGrowsWhileTheApplicationKeepsUp() throws {
    var h = Self.moderated()
    h.deliver(Segment(.syn, seq: h.irs, window: 65535, options: h.peerSynOptions))
    let synAck = try #require(h.takeSent().first)
    h.iss = synAck.sequence
    h.ourNext = h.iss + 1
    h.peerNext = h.irs + 1
    h.deliver(Segment(.ack, seq: h.peerNext, ack: h.ourNext, window: 65535))
    h.id = h.tcp.accept(h.listener!)
    var window = Int(synAck.window)
    let shift = Int(TCPConnection.windowShift(for: h.configuration.receiveBufferSize))
    for _ in 0..<20 {
      // One window's worth in MSS segments, read at once.
      var offset = 0
      while offset < window {
        let length = min(1460, window - offset)
        h.deliver(Segment(.ack, seq: h.peerNext, ack: h.ourNext, payload: pattern(length)))
        h.peerNext += length
        offset += length
        _ = h.read()
      }
      h.now += .milliseconds(10)
      _ = h.read()
      h.advance(by: .milliseconds(1))
      if let last = h.takeSent().last { window = Int(last.window) << shift }
    }
    #expect(h.tcp.counters.receiveBufferGrowths > 0)
    #expect((h.connection?.receiveBufferLimit ?? 0) >= 256 * 1024)
  }

  @Test func aConnectionWhoseApplicationReadsNothingDoesNotGrow() throws {
    var h = Self.moderated()
    h.deliver(Segment(.syn, seq: h.irs, window: 65535, options: h.peerSynOptions))
    let synAck = try #require(h.takeSent().first)
    h.iss = synAck.sequence
    h.ourNext = h.iss + 1
    h.peerNext = h.irs + 1
    h.deliver(Segment(.ack, seq: h.peerNext, ack: h.ourNext, window: 65535))
    h.id = h.tcp.accept(h.listener!)
    for _ in 0..<10 {
      h.deliver(Segment(.ack, seq: h.peerNext, ack: h.ourNext, payload: pattern(1460)))
      h.peerNext += 1460
      h.advance(by: .milliseconds(100))
    }
    #expect(h.connection?.receiveBufferLimit == 14600)
    #expect(h.connection?.readableBytes == 14600)
    // The window closed: the eleventh segment is beyond it.
    h.deliver(Segment(.ack, seq: h.peerNext, ack: h.ourNext, payload: pattern(1460)))
    #expect(h.connection?.readableBytes == 14600)
  }
}

/// The window field is rounded up to its scale (RFC 7323 §2.3), so the edge advertised can lie
/// up to 2^shift - 1 bytes past the buffer's free space: data up to that edge is taken, not
/// clipped (a peer that filled it saw its last bytes dropped and went back N, as passt did).
struct WindowScaleRoundingTests {
  @Test func dataUpToTheRoundedEdgeIsTaken() {
    var configuration = TCPConfiguration()
    configuration.receiveBufferSize = 100_000  // window shift 1: the field counts pairs of bytes
    var h = Harness.listening(configuration: configuration)
    h.peerSynOptions = h.fullOptions()
    h.establishPassive()
    // 11 bytes leave 99,989 free: the field says 49,995 pairs, an edge one byte past the space.
    h.deliver(Segment(.ack, seq: h.peerNext, ack: h.ourNext, payload: pattern(11)))
    h.advance(by: .milliseconds(50))
    guard let ack = h.takeSent().last else {
      Issue.record("no ACK")
      return
    }
    let advertised = Int(ack.window) << 1
    #expect(advertised == 99_990)
    // The peer fills the whole advertised window, in full segments.
    var offset = 0
    while offset < advertised {
      let length = min(1460, advertised - offset)
      h.deliver(
        Segment(.ack, seq: h.peerNext + 11 + offset, ack: h.ourNext, payload: pattern(length)))
      offset += length
    }
    #expect(h.connection?.readableBytes == 11 + advertised)
  }
}
