import NetCore
import NetStack

/// A frame device as the event loop drives it: a descriptor to wait on, and the stack's poll
/// over it. Wraps any `NetworkDevice` (TAP, Unix socket, netfront, each possibly inside the
/// capture, fault-injection and tracing wrappers) in a class, so that the loop can hold it
/// whatever its type; the device's own error type becomes a message.
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
  /// One `DirectStack.poll(now:device:receiveBatch:)` of `stack` over the device.
  func poll(_ stack: inout DirectStack, now: Instant, receiveBatch: Int) throws(DeviceFailure)
    -> Instant?
}

/// A device error, as text.
public struct DeviceFailure: Error, CustomStringConvertible {
  /// The device's error, as its own description.
  public var description: String
}

extension LoopDevice: FrameDevice where Device: ~Copyable {
  var mtu: Int { device.mtu }

  func poll(_ stack: inout DirectStack, now: Instant, receiveBatch: Int) throws(DeviceFailure)
    -> Instant?
  {
    do {
      return try stack.poll(now: now, device: &device, receiveBatch: receiveBatch)
    } catch {
      throw DeviceFailure(description: "\(error)")
    }
  }
}
