import NetCore
import Testing

@testable import TCP

/// What the layer tells about a connection through its handle (RFC 9293 §3.10.6 STATUS): the
/// snapshot `TCPLayer.info(_:)`, the small accessors, and `forEachConnection`, which are all
/// that code outside the TCP module sees of a connection.
struct ConnectionInfoTests {
  @Test func anEstablishedConnectionIsDescribed() throws {
    var h = Harness.listening()
    h.establishPassive()
    let id = try #require(h.id)
    let info = try #require(h.tcp.info(id))
    #expect(info.tuple == h.tuple)
    #expect(info.state == .established)
    #expect(info.isPassive)
    #expect(info.error == nil)
    #expect(info.readableBytes == 0)
    #expect(info.writableBytes == info.sendBufferTarget)
    // The backlog and what may be in flight: twice the initial congestion window.
    #expect(info.sendBufferTarget == 4096 + 2 * 14600)
    #expect(info.isAtEndOfStream == false)
    #expect(info.sendWindow == 65535)
    #expect(info.receiveWindow == 65535)
    #expect(info.sendMaximumSegmentSize == 1460)
    #expect(info.effectiveSendSegmentSize == 1460)
    #expect(info.windowScalingEnabled == false)
    #expect(info.timestampsEnabled == false)
    #expect(info.sackEnabled == false)
    #expect(info.congestionWindow == 14600)
    #expect(info.inRecovery == false)
    #expect(h.tcp.state(id) == .established)
    #expect(h.tcp.tuple(id) == h.tuple)
    #expect(h.tcp.writableBytes(id) == info.writableBytes)
  }

  @Test func dataAndTheEndOfTheStreamAreSeen() throws {
    var h = Harness.listening()
    h.establishPassive()
    let id = try #require(h.id)
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(300)))
    h.peerNext += 300
    #expect(h.tcp.readableBytes(id) == 300)
    #expect(h.tcp.info(id)?.bytesReceived == 300)
    h.enterCloseWait()
    #expect(h.tcp.info(id)?.finReceived == true)
    #expect(h.tcp.isAtEndOfStream(id) == false)  // 300 bytes still to read
    #expect(h.read() == pattern(300))
    #expect(h.tcp.isAtEndOfStream(id))
    #expect(h.tcp.readableBytes(id) == 0)
  }

  @Test func aResetIsSeenAsTheConnectionsError() throws {
    var h = Harness.listening()
    h.establishPassive()
    let id = try #require(h.id)
    h.deliver(Segment(.rst, seq: h.peerNext, window: 0))
    #expect(h.tcp.state(id) == .closed)
    #expect(h.tcp.error(id) == .connectionReset)
    #expect(h.tcp.info(id)?.error == .connectionReset)
  }

  @Test func aReleasedConnectionIsGone() throws {
    var h = Harness.listening()
    h.establishPassive()
    let id = try #require(h.id)
    h.deliver(Segment(.rst, seq: h.peerNext, window: 0))
    h.tcp.release(id)
    #expect(h.tcp.info(id) == nil)
    #expect(h.tcp.state(id) == nil)
    #expect(h.tcp.tuple(id) == nil)
    #expect(h.tcp.readableBytes(id) == 0)
    #expect(h.tcp.writableBytes(id) == 0)
    #expect(h.tcp.isAtEndOfStream(id) == false)
    #expect(h.tcp.error(id) == nil)
  }

  @Test func everyConnectionIsListedWithItsHandle() throws {
    var h = Harness.listening()
    h.establishPassive()
    let first = try #require(h.id)
    h.remotePort += 1
    h.id = nil
    h.establishPassive()
    let second = try #require(h.id)
    var listed: [TCPConnectionID: TCPConnectionInfo] = [:]
    h.tcp.forEachConnection { id, info in listed[id] = info }
    #expect(listed.count == 2)
    #expect(listed[first] == h.tcp.info(first))
    #expect(listed[second] == h.tcp.info(second))
    #expect(listed[second]?.tuple.remotePort == Harness.clientPort + 1)
  }
}
