import Glibc
import NetCore
import Testing
import UnixSocket
import UnixSocketFraming

/// The Unix-socket link against hostile peers, over real sockets in a private directory. The
/// test process does not ignore SIGPIPE: a write to a peer that left without `MSG_NOSIGNAL`
/// would end it.
@Suite(.serialized)
struct UnixSocketDeviceTests {
  /// A 60-byte frame whose first two bytes are `sequence` (not IPv4, so sent unshortened).
  static func frame(_ sequence: Int, size: Int = 60) -> PacketBuffer {
    var bytes = [UInt8](repeating: 0x5A, count: size)
    bytes[0] = UInt8(sequence >> 8)
    bytes[1] = UInt8(sequence & 0xFF)
    return PacketBuffer(copying: bytes.span, headroom: 0)
  }

  /// A 4-byte big-endian length and `bytes`.
  static func framed(_ bytes: [UInt8]) -> [UInt8] {
    withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { Array($0) } + bytes
  }

  static func receiveAll(_ device: inout UnixSocketDevice) throws(UnixSocketError) -> [[UInt8]] {
    var frames: [[UInt8]] = []
    _ = try device.receive(limit: 1000, now: .zero) { frame, _ in
      frames.append(frame.withUnsafeBufferPointer { Array($0) })
    }
    return frames
  }

  @Test func aPeerSendingALengthOfZeroIsDroppedAndTheNextIsServed() throws {
    try badLengthDropsThePeer(prefix: [0, 0, 0, 0])
  }

  @Test func aPeerSendingALengthAboveTheMaximumIsDroppedAndTheNextIsServed() throws {
    let length = UInt32(UnixSocketDevice.maximumFrameLength + 1)
    try badLengthDropsThePeer(prefix: withUnsafeBytes(of: length.bigEndian) { Array($0) })
  }

  private func badLengthDropsThePeer(prefix: [UInt8]) throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/link.sock"
    var device = try UnixSocketDevice(mode: .listen(path), mtu: 1500)
    let first = try TestPeer(connectingTo: path)
    first.send(Self.framed([UInt8](repeating: 1, count: 60)) + prefix + [1, 2, 3, 4])
    let frames = try Self.receiveAll(&device)
    #expect(frames == [[UInt8](repeating: 1, count: 60)])
    #expect(device.isConnected == false)
    #expect(device.counters.peersDroppedBadLength == 1)
    #expect(first.readUntilClosed() == [])

    let second = try TestPeer(connectingTo: path)
    second.send(Self.framed([UInt8](repeating: 2, count: 60)))
    #expect(try Self.receiveAll(&device) == [[UInt8](repeating: 2, count: 60)])
    #expect(device.isConnected == true)
    #expect(device.counters.peersAccepted == 2)
    #expect(device.counters.framesReceived == 2)
  }

  @Test func aPeerThatLeavesWithFramesQueuedIsDroppedWithoutSIGPIPE() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/link.sock"
    var device = try UnixSocketDevice(mode: .listen(path), mtu: 1500)
    var peer: TestPeer? = try TestPeer(connectingTo: path)
    #expect(try Self.receiveAll(&device) == [])
    #expect(device.isConnected == true)
    peer = nil  // closes
    var queue = FrameQueue(limit: 64)
    for sequence in 0..<10 { queue.append(Self.frame(sequence)) }
    try device.transmit(&queue, now: .zero)
    #expect(queue.isEmpty)
    #expect(device.counters.framesDroppedNoPeer == 10)
    // The next receive sees the connection closed and drops the peer.
    #expect(try Self.receiveAll(&device) == [])
    #expect(device.isConnected == false)
    #expect(device.counters.peersClosed == 1)
    _ = peer

    let next = try TestPeer(connectingTo: path)
    _ = try Self.receiveAll(&device)
    for sequence in 0..<3 { queue.append(Self.frame(sequence)) }
    try device.transmit(&queue, now: .zero)
    #expect(device.counters.framesSent == 3)
    let received = next.read(count: 3 * 64)
    #expect(received.count == 3 * 64)
  }

  @Test func aPeerThatShutsDownItsReadingSideIsDropped() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/link.sock"
    var device = try UnixSocketDevice(mode: .listen(path), mtu: 1500)
    let peer = try TestPeer(connectingTo: path)
    _ = try Self.receiveAll(&device)
    Glibc.shutdown(peer.descriptor, Int32(SHUT_RD))
    var queue = FrameQueue(limit: 64)
    for sequence in 0..<5 { queue.append(Self.frame(sequence)) }
    try device.transmit(&queue, now: .zero)
    #expect(device.counters.framesDroppedNoPeer == 5)
    _ = try Self.receiveAll(&device)
    #expect(device.isConnected == false)
    #expect(device.counters.peersClosed == 1)
  }

  /// A peer that never reads: the frames waiting for it stay within the budget, the oldest
  /// are dropped, and once it reads it gets whole frames in order.
  @Test func aPeerThatDoesNotReadHoldsAtMostTheBudget() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/link.sock"
    let budget = 256 * 1024
    var device = try UnixSocketDevice(mode: .listen(path), mtu: 9000, maximumQueuedBytes: budget)
    let peer = try TestPeer(connectingTo: path)
    _ = try Self.receiveAll(&device)
    var queue = FrameQueue(limit: 4096)
    let total = 1000
    for sequence in 0..<total { queue.append(Self.frame(sequence, size: 9000)) }
    try device.transmit(&queue, now: .zero)
    var queuedBytes = 0
    var rest = FrameQueue(limit: 4096)
    while let frame = queue.popFirst() {
      queuedBytes += 4 + frame.count
      rest.append(frame)
    }
    queue = rest
    #expect(queuedBytes <= budget)
    #expect(device.counters.framesDroppedSlowPeer > 0)
    #expect(
      Int(device.counters.framesSent + device.counters.framesDroppedSlowPeer) + queue.count
        == total)

    // The peer reads now: every frame it gets is whole, in order, and the last is the last.
    peer.setNonBlocking()
    var decoder = StreamFrameDecoder(maximumFrameLength: 9000)
    var sequences: [Int] = []
    var idleRounds = 0
    while idleRounds < 3 {
      try device.transmit(&queue, now: .zero)
      let space = decoder.reserveSpace()
      let count = read(peer.descriptor, space.baseAddress, space.count)
      if count <= 0 {
        idleRounds += queue.isEmpty ? 1 : 0
        continue
      }
      decoder.commit(count)
      while try decoder.nextFrame({ frame in
        #expect(frame.count == 9000)
        sequences.append(Int(frame[0]) << 8 | Int(frame[1]))
      }) {}
    }
    #expect(sequences.count == Int(device.counters.framesSent))
    #expect(sequences == sequences.sorted() && Set(sequences).count == sequences.count)
    #expect(sequences.last == total - 1)
    #expect(sequences.count + Int(device.counters.framesDroppedSlowPeer) == total)
  }

  @Test func aSecondPeerWaitsWithoutMakingTheDeviceReadable() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/link.sock"
    var device = try UnixSocketDevice(mode: .listen(path), mtu: 1500)
    var first: TestPeer? = try TestPeer(connectingTo: path)
    _ = try Self.receiveAll(&device)
    let second = try TestPeer(connectingTo: path)
    #expect(!Self.readable(device.fileDescriptor))
    second.send(Self.framed([UInt8](repeating: 2, count: 60)))
    #expect(!Self.readable(device.fileDescriptor))
    first = nil
    _ = first
    #expect(Self.readable(device.fileDescriptor))
    _ = try Self.receiveAll(&device)  // the first peer's end
    #expect(device.counters.peersClosed == 1)
    #expect(Self.readable(device.fileDescriptor))
    #expect(try Self.receiveAll(&device) == [[UInt8](repeating: 2, count: 60)])
    #expect(device.counters.peersAccepted == 2)
  }

  @Test func connectModeEndsWhenThePeerSendsABadLength() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/peer.sock"
    let listener = try TestListener(path: path)
    var device = try UnixSocketDevice(mode: .connect(path), mtu: 1500)
    let peer = try listener.accept()
    peer.send([0, 0, 0, 0])
    #expect(throws: UnixSocketError.badFrameLength(path, 0)) { _ = try Self.receiveAll(&device) }
    #expect(device.counters.peersDroppedBadLength == 1)
    #expect(
      "\(UnixSocketError.badFrameLength(path, 0))"
        == "the peer on '\(path)' sent a frame length of 0 bytes (an Ethernet frame has 1 to 65553); closed the connection"
    )
  }

  @Test func connectModeEndsWhenThePeerLeavesWhileFramesAreQueued() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/peer.sock"
    let listener = try TestListener(path: path)
    var device = try UnixSocketDevice(mode: .connect(path), mtu: 1500)
    var peer: TestPeer? = try listener.accept()
    peer = nil
    _ = peer
    var queue = FrameQueue(limit: 64)
    for sequence in 0..<4 { queue.append(Self.frame(sequence)) }
    try device.transmit(&queue, now: .zero)
    #expect(device.counters.framesDroppedNoPeer == 4)
    #expect(throws: UnixSocketError.peerClosed(path)) { _ = try Self.receiveAll(&device) }
  }

  /// Whether `descriptor` is readable now (poll with no wait).
  static func readable(_ descriptor: Int32) -> Bool {
    var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
    return poll(&entry, 1, 0) == 1 && entry.revents & Int16(POLLIN) != 0
  }
}
