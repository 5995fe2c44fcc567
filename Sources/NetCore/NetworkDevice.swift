/// A device that moves whole Ethernet frames: the protocol every driver implements (TAP, the
/// Unix-socket frame link, Xen netfront, the simulation's in-memory link).
///
/// The runtime, not the protocol code, calls a device: it waits until the device is readable
/// or the stack's next deadline, hands each received frame to the stack, and then gives the
/// device the frames the stack queued for sending. Frames are read into buffers the driver
/// owns and are only borrowed by the stack for the duration of the call.
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
    limit: Int, _ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void
  ) throws(Failure) -> Int

  /// Sends frames from the front of `queue`, removing each one sent; stops early, leaving the
  /// rest queued, when the device cannot take more now.
  mutating func transmit(_ queue: inout FrameQueue) throws(Failure)
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
