import NetCore
import Testing

@testable import TCP

/// The window a read opens is announced, whichever of the layer's calls the application reads
/// with (RFC 9293 §3.8.6.2.2: once it grew by min(half the buffer, 2 × MSS)): the Linux
/// runtime's direct backend reads with `TCPLayer.read`, the services with `exchange`, a
/// discard service with `discard`. Until issue 12 the direct backend read from the connection
/// object itself, past the layer, and a peer facing a shut window waited for its persist timer.
struct ApplicationReadWindowTests {
  /// The ways an application takes received bytes through the layer.
  enum ReadCall: CaseIterable, CustomStringConvertible {
    case read, consume, discard, exchange

    var description: String {
      switch self {
      case .read: "read"
      case .consume: "consume"
      case .discard: "discard"
      case .exchange: "exchange"
      }
    }

    /// Takes `count` bytes from the connection through the layer; returns how many it took.
    func take(_ count: Int, from h: inout Harness) -> Int {
      let id = h.id!
      let now = h.now
      switch self {
      case .read:
        var buffer = [UInt8](repeating: 0, count: count)
        return buffer.withUnsafeMutableBytes { (try? h.tcp.read(id, into: $0, now: now)) ?? 0 }
      case .consume:
        var left = count
        return
          (try? h.tcp.consume(id, now: now) { bytes in
            let taken = min(bytes.count, left)
            left -= taken
            return taken
          }) ?? 0
      case .discard:
        return (try? h.tcp.discard(id, count, now: now)) ?? 0
      case .exchange:
        return h.tcp.exchange(id, now: now) { input, _ in
          var left = count
          return input.consume { bytes in
            let taken = min(bytes.count, left)
            left -= taken
            return taken
          }
        } ?? 0
      }
    }
  }

  /// An established connection with an 8 KiB receive buffer that the peer has filled: our
  /// last ACK shut the window.
  static func fullWindow() -> Harness {
    var configuration = TCPConfiguration()
    configuration.receiveBufferSize = 8192
    var h = Harness.listening(configuration: configuration)
    h.establishPassive()
    var offset = 0
    while offset < 8192 {
      let length = min(1460, 8192 - offset)
      h.deliver(
        Segment(.ack, seq: h.peerNext + offset, ack: h.ourNext, payload: pattern(length)))
      offset += length
    }
    h.peerNext += 8192
    let sent = h.takeSent()
    #expect(sent.last == h.ourAck(window: 0))
    return h
  }

  @Test(arguments: ReadCall.allCases)
  func aReadThatOpensTheWindowIsAnnounced(_ call: ReadCall) {
    var h = Self.fullWindow()
    #expect(call.take(4096, from: &h) == 4096)
    h.flush()
    h.expectSent(h.ourAck(window: 4096))
  }

  @Test(arguments: ReadCall.allCases)
  func aReadTooSmallToBeWorthAnnouncingSendsNothing(_ call: ReadCall) {
    var h = Self.fullWindow()
    // Less than min(half the buffer, 2 × MSS) = 2920 bytes: silly-window avoidance.
    #expect(call.take(1000, from: &h) == 1000)
    h.flush()
    h.expectNothingSent()
    #expect(call.take(2000, from: &h) == 2000)
    h.flush()
    h.expectSent(h.ourAck(window: 3000))
  }
}
