import NetCore
import Testing

@testable import TCP

/// The bounds on passive opens (ARCHITECTURE.md "everything bounded"): the accept queue
/// (SYNs are dropped while it is full, and a connection that completes into a full queue is
/// reset), and the connection table (new SYNs dropped, connect refused).
struct ListenerLimitsTests {
  @Test func fullAcceptQueueDropsSyns() {
    var h = Harness.listening(backlog: 1)
    h.establishPassive()  // accepted: the queue is empty again
    h.remotePort += 1
    h.id = nil
    h.receiveSyn()
    h.deliver(h.peerAck())
    #expect(h.tcp.hasPendingConnection(h.listener!))
    // Queue full: the next client's SYN is dropped (it will retransmit).
    h.remotePort += 1
    h.deliver(Segment(.syn, seq: h.irs, options: .with(mss: 1460)))
    h.expectNothingSent()
    #expect(h.tcp.counters.listenOverflows == 1)
    // Once the application accepts, there is room again.
    #expect(h.tcp.accept(h.listener!) != nil)
    h.receiveSyn()
  }

  @Test func connectionCompletingIntoAFullQueueIsReset() {
    var h = Harness.listening(backlog: 1)
    // Two half-open connections; the first completes and fills the queue.
    h.receiveSyn()
    let first = (port: h.remotePort, next: h.ourNext)
    h.remotePort += 1
    h.receiveSyn()
    let second = (port: h.remotePort, next: h.ourNext)
    h.remotePort = first.port
    h.deliver(h.peerAck(first.next))
    #expect(h.state == .established)
    h.remotePort = second.port
    h.deliver(h.peerAck(second.next))
    h.expectSent(Segment([.rst, .ack], seq: h.ourNext, ack: h.peerNext, window: 0))
    #expect(h.tcp.counters.listenOverflows == 1)
    #expect(h.tcp.connectionCount == 1)
  }

  @Test func connectionTableCapDropsSynsAndRefusesConnect() {
    var configuration = TCPConfiguration()
    configuration.maximumConnections = 1
    var h = Harness.listening(configuration: configuration)
    h.establishPassive()
    h.remotePort += 1
    h.deliver(Segment(.syn, seq: h.irs, options: .with(mss: 1460)))
    h.expectNothingSent()  // no cookie either: a cookie would only bring the table over
    #expect(h.tcp.counters.listenOverflows == 1)
    #expect(h.tcp.connectionCount == 1)
    #expect(throws: TCPError.tooManyConnections) {
      _ = try h.tcp.connect(
        to: .v4(Harness.remoteAddress), port: 80, now: h.now, network: &h.network)
    }
  }

  @Test func listeningTwiceOnAPortIsRefused() throws {
    var h = Harness.listening()
    #expect(throws: TCPError.addressInUse) { _ = try h.tcp.listen(port: Harness.serverPort) }
    #expect(throws: TCPError.addressInUse) { _ = try h.tcp.listen(port: 0) }
    #expect(h.tcp.listeningPorts == [Harness.serverPort])
  }

  @Test func connectWithoutARouteFails() {
    var h = Harness()
    #expect(throws: TCPError.noRoute) {
      _ = try h.tcp.connect(
        to: .v4(IPv4Address(192, 168, 1, 1)), port: 80, now: h.now, network: &h.network)
    }
    #expect(throws: TCPError.noRoute) {
      _ = try h.tcp.connect(
        to: .v4(IPv4Address(255, 255, 255, 255)), port: 80, now: h.now, network: &h.network)
    }
  }

  @Test func ephemeralPortsAreNotReusedWhileInUse() {
    var configuration = TCPConfiguration()
    configuration.ephemeralPorts = 50000...50001
    var h = Harness(configuration: configuration)
    var ports = Set<UInt16>()
    for _ in 0..<2 {
      let id = try? h.tcp.connect(
        to: .v4(Harness.remoteAddress), port: 80, now: h.now, network: &h.network)
      if let id, let connection = h.tcp.connection(id) { ports.insert(connection.tuple.localPort) }
    }
    #expect(ports == [50000, 50001])
    #expect(throws: TCPError.addressInUse) {
      _ = try h.tcp.connect(
        to: .v4(Harness.remoteAddress), port: 80, now: h.now, network: &h.network)
    }
  }
}
