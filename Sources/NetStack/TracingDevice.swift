import NetCore

/// A device that describes every frame in and out of the device it wraps in one line each
/// (``FrameDescription``), for `netstackd --log-level trace` or a unikernel's console; the
/// frames pass unchanged. Without a trace function it passes everything straight through.
public struct TracingDevice<Inner: NetworkDevice & ~Copyable>: NetworkDevice, ~Copyable {
  public var inner: Inner
  /// Where the lines go: "in  ..." and "out ..."; nil to trace nothing.
  public let trace: ((String) -> Void)?
  private var outbound: FrameQueue

  public init(
    wrapping inner: consuming Inner, queueLimit: Int = 4096, trace: ((String) -> Void)?
  ) {
    self.inner = inner
    self.trace = trace
    outbound = FrameQueue(limit: queueLimit)
  }

  public var mtu: Int { inner.mtu }
  public var hardwareAddress: MACAddress? { inner.hardwareAddress }
  public var nextDeadline: Instant? { inner.nextDeadline }

  public mutating func receive(
    limit: Int, now: Instant, _ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void
  ) throws(Inner.Failure) -> Int {
    guard let trace else { return try inner.receive(limit: limit, now: now, handler) }
    return try inner.receive(limit: limit, now: now) { frame, info in
      trace("in  \(FrameDescription.describe(frame))")
      handler(frame, info)
    }
  }

  public mutating func transmit(_ queue: inout FrameQueue, now: Instant) throws(Inner.Failure) {
    guard let trace else { return try inner.transmit(&queue, now: now) }
    while !outbound.isFull, let frame = queue.popFirst() {
      frame.withBytes { trace("out \(FrameDescription.describe($0))") }
      outbound.append(frame)
    }
    try inner.transmit(&outbound, now: now)
  }
}
