import NetCore

/// A frame device as the event loop drives it: a descriptor to wait on, and batched receive
/// and transmit. Wraps any `NetworkDevice` (TAP, Unix socket) in a class so that the loop can
/// hold it; the device's own error type becomes a message.
public final class LoopDevice<Device: NetworkDevice & ~Copyable> {
  var device: Device
  /// The descriptor epoll waits on.
  public let fileDescriptor: Int32

  /// Takes `device` (it moves in) and the descriptor that is readable when it has frames
  /// (read it from the device before moving it in).
  public init(_ device: consuming Device, fileDescriptor: Int32) {
    self.device = device
    self.fileDescriptor = fileDescriptor
  }

  /// Calls `body` with the device (on the loop thread, or after the loop stopped): for what a
  /// driver offers beyond `NetworkDevice`, such as its counters or an orderly disconnect.
  public func withDevice<Result>(_ body: (inout Device) -> Result) -> Result {
    body(&device)
  }
}

/// What the runtime needs of a device, whatever its type.
protocol FrameDevice: AnyObject {
  var fileDescriptor: Int32 { get }
  var mtu: Int { get }
  func receive(limit: Int, _ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void)
    throws(DeviceFailure) -> Int
  func transmit(_ queue: inout FrameQueue) throws(DeviceFailure)
}

/// A device error, as text.
public struct DeviceFailure: Error, CustomStringConvertible {
  /// The device's error, as its own description.
  public var description: String
}

extension LoopDevice: FrameDevice where Device: ~Copyable {
  var mtu: Int { device.mtu }

  func receive(limit: Int, _ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void)
    throws(DeviceFailure) -> Int
  {
    do {
      return try device.receive(limit: limit, handler)
    } catch {
      throw DeviceFailure(description: "\(error)")
    }
  }

  func transmit(_ queue: inout FrameQueue) throws(DeviceFailure) {
    do {
      try device.transmit(&queue)
    } catch {
      throw DeviceFailure(description: "\(error)")
    }
  }
}
