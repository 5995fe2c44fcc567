import NetCore
import Testing

@testable import TCP

/// Output is pulled (issue 12, item 3): whatever reaches a connection through the layer (an
/// application call, a received segment, a timer) marks it touched, and the flush lets each
/// touched connection, and only those, work out from its state what is due. No call has to
/// queue output itself, and the flush never walks the whole table.
struct OutputMarkingTests {
  /// Two established connections (peers on ports 40000 and 40001), nothing left to flush.
  static func twoConnections() -> (Harness, first: TCPConnectionID, second: TCPConnectionID) {
    var h = Harness.listening()
    h.establishPassive()
    let first = h.id!
    h.remotePort += 1
    h.id = nil
    h.establishPassive()
    return (h, first, h.id!)
  }

  @Test func anApplicationCallMarksOnlyItsConnection() throws {
    var (h, first, _) = Self.twoConnections()
    #expect(!h.tcp.hasPendingOutput)
    #expect(h.tcp.touchedCount == 0)
    let bytes = pattern(100)
    _ = try h.tcp.write(first, bytes.span)
    #expect(h.tcp.hasPendingOutput)
    #expect(h.tcp.touchedSlots == [first.slot])
    h.flush()
    #expect(!h.tcp.hasPendingOutput)
    #expect(h.tcp.touchedSlots.isEmpty)
    #expect(h.network.sent.map(\.destinationPort) == [Harness.clientPort])
  }

  @Test func aReceivedSegmentMarksItsConnectionUntilTheFlush() {
    var (h, _, second) = Self.twoConnections()
    h.deliver(
      Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(10)),
      flush: false)
    #expect(h.tcp.touchedSlots == [second.slot])
    h.flush()
    #expect(!h.tcp.hasPendingOutput)
    h.expectNothingSent()  // one small segment: its ACK is delayed, and the timer armed
    #expect(h.connection?.nextDeadline == h.now + .milliseconds(40))
  }

  @Test func aSegmentAnsweredAtOnceLeavesNothingForTheFlush() {
    var h = Harness.listening()
    h.deliver(
      Segment(.syn, seq: h.irs, window: h.peerWindow, options: h.peerSynOptions), flush: false)
    // The SYN-ACK went out as the SYN was taken.
    #expect(h.takeSent().map(\.flags) == [[.syn, .ack]])
    #expect(!h.tcp.hasPendingOutput)
  }

  /// A call that finds nothing to do (a read with nothing received, a write with no room)
  /// changes nothing, so it leaves nothing for the flush: a runtime that polls such calls does
  /// not keep the layer busy.
  @Test func aCallWithNothingToDoDoesNotTouch() throws {
    var h = Harness.listening()
    h.establishPassive()
    let id = try #require(h.id)
    var buffer = [UInt8](repeating: 0, count: 100)
    #expect(try buffer.withUnsafeMutableBytes { try h.tcp.read(id, into: $0, now: h.now) } == 0)
    #expect(try h.tcp.consume(id, now: h.now) { $0.count } == 0)
    #expect(try h.tcp.discard(id, 100, now: h.now) == 0)
    let empty: [UInt8] = []
    #expect(try h.tcp.write(id, empty.span) == 0)
    #expect(!h.tcp.hasPendingOutput)
    h.shutdownWrite()
    _ = h.takeSent()
    #expect(throws: TCPError.notConnected) { try h.tcp.write(id, buffer.span) }
    #expect(!h.tcp.hasPendingOutput)
  }

  /// Turning Nagle off releases the small segment it held: the call marks the connection, and
  /// the flush finds the data due.
  @Test func turningNagleOffSendsWhatItHeld() throws {
    var h = Harness.listening()
    h.establishPassive()
    #expect(h.write(pattern(10)) == 10)
    _ = h.takeSent()
    h.ourNext += 10
    #expect(h.write(pattern(10, from: 10)) == 10)
    h.expectNothingSent()
    try h.tcp.setNagle(h.id!, false)
    h.flush()
    h.expectSent(
      Segment([.ack, .psh], seq: h.ourNext, ack: h.peerNext, payload: pattern(10, from: 10)))
  }

  /// A connection settled because much data waited for its ACK inside a batch is not settled
  /// a second time by the flush that ends the batch.
  @Test func aConnectionSettledInTheBatchIsNotSettledAgain() {
    var h = Harness.listening(peerSynOptions: TCPOptions.with(mss: 1460, windowScale: 7))
    h.establishPassive()
    // A first delayed ACK offers the scaled window (a SYN-ACK's is at most 65,535 bytes).
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(10)))
    h.peerNext += 10
    h.advance(by: .milliseconds(40))
    #expect(h.takeSent().count == 1)
    let segments = TCPLayer.acknowledgmentBatchLimit / 1460 + 1
    for index in 0..<segments {
      h.deliver(
        Segment(
          .ack, seq: h.peerNext + index * 1460, ack: h.ourNext, window: 512,
          payload: pattern(1460)),
        flush: false)
    }
    h.peerNext += segments * 1460
    // One ACK, for everything, when the limit was passed inside the batch.
    let sent = h.takeSent()
    #expect(sent.count == 1)
    #expect(sent.first?.acknowledgment == h.peerNext)
    #expect(!h.tcp.hasPendingOutput)
    h.flush()
    h.expectNothingSent()
  }
}
