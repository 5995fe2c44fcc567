/// What the unikernel needs from the machine it boots on: the functions of
/// `Unikernel/arch/include/unikernel_arch.h`, which each architecture's start-of-day code and
/// the shared C runtime provide (`Unikernel/arch/ABI.md`).
///
/// The program is generic over it so that this module is standard library only (and builds
/// in `scripts/embedded-check`); the image's entry file binds it to the C functions.
public protocol GuestArchitecture {
  /// A Xen hypercall with a command and an argument (every hypercall the unikernel makes
  /// has that shape); Xen's result (negative errno on failure).
  func hypercall(_ operation: XenHypercallNumber, _ command: UInt, _ argument: UInt) -> Int

  /// Nanoseconds of Xen system time (valid once shared_info is mapped at `freeFrame(0)`).
  func systemTime() -> UInt64

  /// 64 bits from the CPU's random number generator, or nil when it has none (or it failed).
  func hardwareRandom() -> UInt64?

  /// The name of that generator's instruction, for the boot report ("RDRAND", "RNDR").
  var hardwareRandomName: String { get }

  /// The guest's command line (`extra=` of the xl configuration), or "".
  var commandLine: String { get }

  /// A guest frame number free for Xen's pages: 0 for shared_info, 1... for grant-table
  /// frames (consecutive).
  func freeFrame(_ index: Int) -> UInt

  /// Sends `print` output to the PV console ring from now on.
  func attachConsole(ring: UnsafeMutableRawPointer, port: UInt32)

  /// Bytes of heap in use and the heap's size, for the boot report.
  var heapUsage: (inUse: Int, size: Int) { get }

  /// Stops the guest (`SCHEDOP_shutdown`).
  func shutdown(_ reason: ShutdownReason) -> Never
}

/// The reason given to `SCHEDOP_shutdown` (xen/sched.h `SHUTDOWN_*`).
public enum ShutdownReason: UInt32 {
  case poweroff = 0
  case reboot = 1
  case crash = 3
}

/// Hypercall numbers (xen/xen.h `__HYPERVISOR_*`), the same on x86_64 and arm64.
public struct XenHypercallNumber: RawRepresentable, Equatable, Sendable {
  public var rawValue: UInt
  public init(rawValue: UInt) { self.rawValue = rawValue }

  public static let memoryOperation = XenHypercallNumber(rawValue: 12)
  public static let scheduleOperation = XenHypercallNumber(rawValue: 29)
  public static let eventChannelOperation = XenHypercallNumber(rawValue: 32)
  public static let hvmOperation = XenHypercallNumber(rawValue: 34)
}
