/// A device that moves whole Ethernet frames: the protocol every driver implements (TAP, the
/// Unix-socket frame link, Xen netfront, the simulation's in-memory link), and every device
/// that wraps another (the pcap capture, the fault injector, the frame tracer; smoltcp's
/// `phy` wrappers).
///
/// The stack calls a device from its one poll entry (`DirectStack.poll(now:device:)`): it
/// takes the frames the device has, then gives it the frames it queued for sending. Frames
/// are read into buffers the driver owns and are only borrowed by the stack for the duration
/// of the call. A device that holds frames for later (a fault injector's delayed frames) says
/// when it wants to be polled again in ``nextDeadline``.
public protocol NetworkDevice: ~Copyable {
  /// The error type of this driver's operations (typed throws; no existentials).
  associatedtype Failure: Error

  /// The largest IPv4 packet (Ethernet payload) the link carries.
  var mtu: Int { get }

  /// The device's own hardware address, when it has one (netfront reads it from xenstore);
  /// nil when the stack chooses it (a TAP device).
  var hardwareAddress: MACAddress? { get }

  /// Reads up to `limit` frames without blocking and calls `handler` with each; returns how many
  /// were read (zero when none was waiting).
  mutating func receive(
    limit: Int, now: Instant, _ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void
  ) throws(Failure) -> Int

  /// Sends frames from the front of `queue`, removing each one sent; stops early, leaving the
  /// rest queued, when the device cannot take more now.
  mutating func transmit(_ queue: inout FrameQueue, now: Instant) throws(Failure)

  /// When the device next needs a poll of its own (frames it holds become due); nil for never.
  var nextDeadline: Instant? { get }
}

extension NetworkDevice where Self: ~Copyable {
  /// A plain driver holds nothing for later.
  public var nextDeadline: Instant? { nil }
}

/// What a device knows about a received frame beyond its bytes.
public struct ReceivedFrameInfo: Sendable, Equatable {
  /// The device (or the host kernel behind it) has verified, or vouches for, the transport
  /// checksum: virtio-net `DATA_VALID`, or `NEEDS_CSUM` for a packet that never left the host.
  public var transportChecksumVerified: Bool

  public init(transportChecksumVerified: Bool = false) {
    self.transportChecksumVerified = transportChecksumVerified
  }
}
