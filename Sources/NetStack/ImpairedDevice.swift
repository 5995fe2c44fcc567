import NetCore

/// A device that damages the traffic of the device it wraps, both ways, as a bad link would
/// (`netstackd --impair`): each direction has a ``FrameImpairer`` that drops, duplicates,
/// corrupts, delays and reorders frames from a seeded random source, so that a run replays.
///
/// A received frame whose transport checksum the device vouches for (a TAP's `NEEDS_CSUM`) is
/// copied with the checksum completed first, and handed up as unverified, so that corruption
/// is caught as on a wire. Delayed frames wait here; ``nextDeadline`` says when they are due.
/// With a configuration that impairs nothing, the device passes everything straight through.
public struct ImpairedDevice<Inner: NetworkDevice & ~Copyable>: NetworkDevice, ~Copyable {
  public var inner: Inner
  public private(set) var inbound: FrameImpairer
  public private(set) var outbound: FrameImpairer
  /// Frames the outbound impairer released, on their way to the inner device.
  private var released: FrameQueue
  /// Whether anything is impaired at all.
  public let isActive: Bool

  public init(
    wrapping inner: consuming Inner, configuration: ImpairmentConfiguration, seed: UInt64,
    queueLimit: Int = 4096
  ) {
    self.inner = inner
    isActive = configuration.isActive
    inbound = FrameImpairer(configuration: configuration, seed: seed)
    outbound = FrameImpairer(configuration: configuration, seed: seed &+ 1)
    released = FrameQueue(limit: queueLimit)
  }

  public var mtu: Int { inner.mtu }
  public var hardwareAddress: MACAddress? { inner.hardwareAddress }
  public var nextDeadline: Instant? {
    Instant.earliest(
      inner.nextDeadline, Instant.earliest(inbound.nextDeadline, outbound.nextDeadline))
  }

  public mutating func receive(
    limit: Int, now: Instant, _ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void
  ) throws(Inner.Failure) -> Int {
    guard isActive else { return try inner.receive(limit: limit, now: now, handler) }
    _ = try inner.receive(limit: limit, now: now) { frame, info in
      if info.transportChecksumVerified {
        let copy = PacketBuffer(copying: frame, headroom: 0)
        copy.withMutableBytes { FrameChecksum.completeTransportChecksum(&$0) }
        inbound.submit(copy, now: now)
      } else {
        inbound.submit(frame, now: now)
      }
    }
    var delivered = 0
    inbound.release(now: now) { frame in
      delivered += 1
      frame.withBytes { handler($0, ReceivedFrameInfo()) }
    }
    return delivered
  }

  public mutating func transmit(_ queue: inout FrameQueue, now: Instant) throws(Inner.Failure) {
    guard isActive else { return try inner.transmit(&queue, now: now) }
    while let frame = queue.popFirst() { outbound.submit(frame, now: now) }
    outbound.release(now: now) { frame in
      // A frame the inner device's queue has no room for is lost, as on a congested link.
      released.append(frame)
    }
    try inner.transmit(&released, now: now)
  }
}
