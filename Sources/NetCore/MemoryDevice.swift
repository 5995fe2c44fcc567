/// A device whose frames are in memory: what is put in ``inbox`` is received, what the stack
/// sends collects in ``sent``. The simulation's link ends, the netfront test bed's host side
/// and the stack's fuzzer drive a stack through its one poll with it.
public struct MemoryDevice: NetworkDevice {
  public typealias Failure = Never

  public var mtu: Int
  public var hardwareAddress: MACAddress?
  /// Frames waiting to be received, oldest first.
  public var inbox: [PacketBuffer] = []
  /// Frames the stack sent, oldest first, until the owner takes them.
  public var sent: [PacketBuffer] = []
  /// What each received frame is said to be (checksum verified or not).
  public var receivedFrameInfo = ReceivedFrameInfo()

  public init(mtu: Int = 1500, hardwareAddress: MACAddress? = nil) {
    self.mtu = mtu
    self.hardwareAddress = hardwareAddress
  }

  public mutating func receive(
    limit: Int, now: Instant, _ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void
  ) -> Int {
    let count = min(limit, inbox.count)
    for index in 0..<count { inbox[index].withBytes { handler($0, receivedFrameInfo) } }
    inbox.removeFirst(count)
    return count
  }

  public mutating func transmit(_ queue: inout FrameQueue, now: Instant) {
    while let frame = queue.popFirst() { sent.append(frame) }
  }

  /// Takes the frames sent so far.
  public mutating func takeSent() -> [PacketBuffer] {
    defer { sent.removeAll(keepingCapacity: true) }
    return sent
  }
}
