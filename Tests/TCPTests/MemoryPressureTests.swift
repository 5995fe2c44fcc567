import NetCore
import Testing

@testable import TCP

/// What TCP does as the stack's memory budget fills (Linux's `tcp_mem`): under pressure it
/// drops out-of-order data first and gives back what it can, it offers smaller windows, it
/// refuses new connections before the existing ones run short, and nothing passes the limit.
struct MemoryPressureTests {
  /// A layer on a 4 MiB budget, `filled` of it already taken by something else.
  static func harness(filled: Int) -> (Harness, MemoryBudget) {
    let budget = MemoryBudget(limit: 4 << 20)
    budget.charge(filled, for: .udpQueues)
    var h = Harness(budget: budget)
    h.listener = try? h.tcp.listen(port: Harness.serverPort)
    return (h, budget)
  }

  @Test func outOfOrderDataIsDroppedUnderPressure() {
    var (h, budget) = Self.harness(filled: 0)
    h.establishPassive()
    budget.charge(budget.pressureLevel, for: .udpQueues)
    #expect(budget.isUnderPressure)
    h.deliver(Segment(.ack, seq: h.peerNext + 1460, ack: h.ourNext, payload: pattern(1460)))
    #expect(h.tcp.counters.droppedOutOfOrderPressure == 1)
    #expect(h.connection?.receiver.buffer.outOfOrderBytes == 0)
    // In-order data is still taken.
    h.deliver(Segment(.ack, seq: h.peerNext, ack: h.ourNext, payload: pattern(1460)))
    #expect(h.connection?.readableBytes == 1460)
  }

  @Test func heldOutOfOrderDataIsPrunedWhenPressureComes() {
    var (h, budget) = Self.harness(filled: 0)
    h.establishPassive()
    h.deliver(Segment(.ack, seq: h.peerNext + 1460, ack: h.ourNext, payload: pattern(1460)))
    #expect(h.connection?.receiver.buffer.outOfOrderBytes == 1460)
    budget.charge(budget.pressureLevel, for: .udpQueues)
    // The next timer run gives back what can be given back.
    h.advance(by: .milliseconds(1))
    #expect(h.connection?.receiver.buffer.outOfOrderBytes == 0)
    #expect(h.tcp.counters.outOfOrderBytesPruned == 1460)
    #expect(budget.used(for: .tcpOutOfOrder) == 0)
  }

  @Test func windowsStopGrowingAndStartSmallUnderPressure() {
    let (start, budget) = Self.harness(filled: 0)
    var h = start
    budget.charge(budget.pressureLevel, for: .udpQueues)
    h.deliver(Segment(.syn, seq: h.irs, window: 65535, options: h.peerSynOptions))
    // Four segments, not the 64 KiB the buffer would allow (Linux clamps rcv_ssthresh so).
    #expect(h.takeSent().first?.window == UInt16(4 * 1460))
    #expect(h.tcp.counters.windowsClampedByPressure >= 1)
  }

  @Test func newConnectionsAreRefusedNearTheLimit() {
    let budget = MemoryBudget(limit: 4 << 20)
    var h = Harness(budget: budget)
    h.listener = try? h.tcp.listen(port: Harness.serverPort)
    budget.charge(budget.admissionLevel, for: .udpQueues)
    h.deliver(Segment(.syn, seq: h.irs, window: 65535, options: h.peerSynOptions))
    h.expectNothingSent()
    #expect(h.tcp.counters.connectionsRefusedMemory == 1)
    #expect(throws: TCPError.noMemory) {
      _ = try h.tcp.connect(
        to: .v4(Harness.remoteAddress), port: 80, now: h.now, network: &h.network)
    }
    // Below the level again, the client's retransmitted SYN is answered.
    budget.release(budget.admissionLevel, for: .udpQueues)
    h.deliver(Segment(.syn, seq: h.irs, window: 65535, options: h.peerSynOptions))
    #expect(h.takeSent().first?.flags == [.syn, .ack])
  }

  @Test func nothingPassesTheLimit() {
    var (h, budget) = Self.harness(filled: 0)
    h.establishPassive()
    budget.charge(budget.available - 4500, for: .udpQueues)
    // 20 kB in order arrive and are not read: what does not fit is dropped, not acknowledged.
    for index in 0..<14 {
      h.deliver(
        Segment(
          .ack, seq: h.peerNext + 1460 * index, ack: h.ourNext,
          payload: pattern(1460, from: 1460 * index)))
    }
    #expect(budget.used <= budget.limit)
    #expect(h.tcp.counters.droppedMemoryLimit > 0)
    let readable = h.connection?.readableBytes ?? 0
    #expect(readable > 0 && readable < 14 * 1460)
    #expect(h.read() == pattern(readable))
  }

  @Test func aWriterTurnedAwayForMemoryIsToldWhenThereIsRoom() throws {
    var (h, budget) = Self.harness(filled: 0)
    h.establishPassive()
    budget.charge(budget.available - 100, for: .udpQueues)
    #expect(h.write(pattern(1000)) == 0)
    _ = h.tcp.takeNotifications()
    budget.release(1 << 20, for: .udpQueues)
    h.tcp.flush(now: h.now, network: &h.network)
    let id = try #require(h.id)
    #expect(h.tcp.takeNotifications() == [.connection(id, .writable)])
    #expect(h.write(pattern(1000)) == 1000)
  }

  @Test func connectionsChargeTheirStateAndGiveItBack() {
    var (h, budget) = Self.harness(filled: 0)
    h.establishPassive()
    #expect(budget.used(for: .tcpConnections) == TCPConnection.stateCharge)
    h.tcp.abort(h.id!)
    h.tcp.flush(now: h.now, network: &h.network)
    #expect(budget.used(for: .tcpConnections) == 0)
    #expect(budget.used == 0)
  }
}
