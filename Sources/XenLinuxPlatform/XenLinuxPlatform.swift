import CXenShims
import Glibc
import NetCore
import Netfront

/// The `XenPlatform` of a Linux process in a Xen guest: netfront in user space.
///
/// - Pages and grants: `/dev/xen/gntalloc` (module xen-gntalloc).
///   `IOCTL_GNTALLOC_ALLOC_GREF` allocates a zeroed kernel page and grants it to a domain; the
///   page is `mmap`ed at the offset the ioctl returns. `IOCTL_GNTALLOC_DEALLOC_GREF` gives it
///   back; the kernel ends the grant once the other domain has unmapped it, so ending access
///   never has to be retried here.
/// - Event channels: `/dev/xen/evtchn` (module xen-evtchn). `IOCTL_EVTCHN_BIND_UNBOUND_PORT`,
///   `IOCTL_EVTCHN_NOTIFY`, `IOCTL_EVTCHN_UNBIND`; pending ports are `read(2)` from the
///   descriptor (4 bytes each) and `write(2)`n back to unmask them.
/// - Xenstore: `/dev/xen/xenbus` (or `/proc/xen/xenbus`), xs_wire messages through the
///   guest kernel (`XenstoreConnection`); relative paths are under the guest's home.
///
/// One `epoll` descriptor, ``fileDescriptor``, is readable when an event channel fired, a watch
/// event arrived, or ``requestPoll()`` was called (an eventfd): the event loop waits on it and
/// calls the driver. Owns its descriptors: `~Copyable`, closed (and the pages unmapped) in
/// `deinit`.
public struct XenLinuxPlatform: XenPlatform, ~Copyable {
  public typealias Failure = XenLinuxError

  /// The descriptor to wait on (an epoll set of the others).
  public let fileDescriptor: Int32
  private let grantDevice: Int32
  private let eventDevice: Int32
  private let wakeDescriptor: Int32
  private var xenstore: XenstoreConnection
  /// Offsets (for dealloc) of the pages mapped, by address.
  private var mappedPages: [UnsafeMutableRawPointer: UInt64] = [:]
  /// Ports read from the event device and not yet taken.
  private var pendingPorts: Set<UInt32> = []

  /// Opens the three devices. `xenbusPaths` are tried in order.
  public init(
    xenbusPaths: [String] = ["/dev/xen/xenbus", "/proc/xen/xenbus"]
  ) throws(XenLinuxError) {
    let grantDevice = try Self.open("/dev/xen/gntalloc", flags: O_RDWR | O_CLOEXEC)
    let eventDevice: Int32
    do {
      eventDevice = try Self.open("/dev/xen/evtchn", flags: O_RDWR | O_CLOEXEC | O_NONBLOCK)
    } catch {
      close(grantDevice)
      throw error
    }
    var xenbus: Int32 = -1
    var failure = XenLinuxError.cannotOpen(path: xenbusPaths.first ?? "xenbus", errno: ENOENT)
    for path in xenbusPaths {
      do {
        xenbus = try Self.open(path, flags: O_RDWR | O_CLOEXEC)
        break
      } catch {
        failure = error
      }
    }
    let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
    let wake = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
    let problem: XenLinuxError? =
      xenbus < 0
      ? failure
      : epoll < 0
        ? .system(operation: "epoll_create1", errno: errno)
        : wake < 0 ? .system(operation: "eventfd", errno: errno) : nil
    if problem == nil {
      for descriptor in [eventDevice, xenbus, wake] {
        var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: descriptor))
        if epoll_ctl(epoll, EPOLL_CTL_ADD, descriptor, &event) < 0 {
          let code = errno
          for open in [grantDevice, eventDevice, xenbus, epoll, wake] { close(open) }
          throw .system(operation: "epoll_ctl", errno: code)
        }
      }
    }
    if let problem {
      for open in [grantDevice, eventDevice, xenbus, epoll, wake] where open >= 0 { close(open) }
      throw problem
    }
    self.grantDevice = grantDevice
    self.eventDevice = eventDevice
    self.wakeDescriptor = wake
    fileDescriptor = epoll
    xenstore = XenstoreConnection(fileDescriptor: xenbus)
  }

  deinit {
    for (address, _) in mappedPages { munmap(address, xenPageSize) }
    // Closing gntalloc gives every grant back (once the other domain unmapped it); closing
    // evtchn unbinds every port.
    for descriptor in [
      fileDescriptor, wakeDescriptor, xenstore.fileDescriptor, eventDevice, grantDevice,
    ] {
      close(descriptor)
    }
  }

  private static func open(_ path: String, flags: Int32) throws(XenLinuxError) -> Int32 {
    while true {
      let descriptor = Glibc.open(path, flags)
      if descriptor >= 0 { return descriptor }
      if errno == EINTR { continue }
      throw .cannotOpen(path: path, errno: errno)
    }
  }

  // MARK: Grants

  public mutating func grantPage(to domain: XenDomainID, readOnly: Bool) throws(XenLinuxError)
    -> GrantedPage
  {
    var reference: UInt32 = 0
    var offset: UInt64 = 0
    let result = netstack_gntalloc_alloc(
      grantDevice, domain.rawValue, readOnly ? 1 : 0, &reference, &offset)
    guard result == 0 else {
      throw .system(operation: "IOCTL_GNTALLOC_ALLOC_GREF", errno: -result)
    }
    let address = mmap(
      nil, xenPageSize, PROT_READ | PROT_WRITE, MAP_SHARED, grantDevice, off_t(offset))
    guard let address, address != MAP_FAILED else {
      let code = errno
      _ = netstack_gntalloc_dealloc(grantDevice, offset)
      throw .system(operation: "mmap of a gntalloc page", errno: code)
    }
    mappedPages[address] = offset
    return GrantedPage(
      address: address, reference: GrantReference(rawValue: reference), domain: domain,
      readOnly: readOnly)
  }

  public mutating func endAccess(_ page: GrantedPage) throws(XenLinuxError) -> Bool {
    guard let offset = mappedPages.removeValue(forKey: page.address) else { return true }
    munmap(page.address, xenPageSize)
    let result = netstack_gntalloc_dealloc(grantDevice, offset)
    guard result == 0 else {
      throw .system(operation: "IOCTL_GNTALLOC_DEALLOC_GREF", errno: -result)
    }
    return true
  }

  // MARK: Event channels

  public mutating func allocateEventChannel(remote domain: XenDomainID) throws(XenLinuxError)
    -> EventChannelPort
  {
    let result = netstack_evtchn_bind_unbound(eventDevice, UInt32(domain.rawValue))
    guard result >= 0 else {
      throw .system(operation: "IOCTL_EVTCHN_BIND_UNBOUND_PORT", errno: -result)
    }
    return EventChannelPort(rawValue: UInt32(result))
  }

  public mutating func notify(_ port: EventChannelPort) throws(XenLinuxError) {
    let result = netstack_evtchn_notify(eventDevice, port.rawValue)
    guard result == 0 else { throw .system(operation: "IOCTL_EVTCHN_NOTIFY", errno: -result) }
  }

  public mutating func takeEvent(_ port: EventChannelPort) throws(XenLinuxError) -> Bool {
    drainWake()
    var ports = [UInt32](repeating: 0, count: 64)
    while true {
      let count = ports.withUnsafeMutableBytes { Glibc.read(eventDevice, $0.baseAddress, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        if errno == EAGAIN { break }
        throw .system(operation: "read from /dev/xen/evtchn", errno: errno)
      }
      let fired = count / MemoryLayout<UInt32>.size
      if fired == 0 { break }
      for index in 0..<fired { pendingPorts.insert(ports[index]) }
      // Writing the ports back unmasks them, so that they can fire again.
      let written = ports.withUnsafeBytes { Glibc.write(eventDevice, $0.baseAddress, fired * 4) }
      if written < 0 { throw .system(operation: "write to /dev/xen/evtchn", errno: errno) }
      if fired < ports.count { break }
    }
    return pendingPorts.remove(port.rawValue) != nil
  }

  public mutating func closeEventChannel(_ port: EventChannelPort) throws(XenLinuxError) {
    pendingPorts.remove(port.rawValue)
    let result = netstack_evtchn_unbind(eventDevice, port.rawValue)
    guard result == 0 else { throw .system(operation: "IOCTL_EVTCHN_UNBIND", errno: -result) }
  }

  // MARK: Xenstore

  public mutating func read(_ path: String) throws(XenLinuxError) -> String? {
    try xenstore.read(path)
  }

  public mutating func write(_ path: String, _ value: String) throws(XenLinuxError) {
    try xenstore.write(path, value)
  }

  public mutating func watch(_ path: String, token: XenstoreWatchToken) throws(XenLinuxError) {
    try xenstore.watch(path, token: XenstoreValue.decimal(UInt64(token.rawValue)))
  }

  public mutating func unwatch(_ path: String, token: XenstoreWatchToken) throws(XenLinuxError) {
    try xenstore.unwatch(path, token: XenstoreValue.decimal(UInt64(token.rawValue)))
  }

  public mutating func takeWatchEvent(_ token: XenstoreWatchToken) throws(XenLinuxError) -> Bool {
    drainWake()
    return try xenstore.takeWatchEvent(XenstoreValue.decimal(UInt64(token.rawValue)))
  }

  // MARK: Waiting

  public mutating func requestPoll() {
    var one: UInt64 = 1
    _ = Glibc.write(wakeDescriptor, &one, 8)
  }

  public mutating func wait(timeout: Interval?) throws(XenLinuxError) {
    var milliseconds: Int32 = -1
    if let timeout {
      milliseconds = Int32(clamping: max(0, (timeout.nanoseconds + 999_999) / 1_000_000))
    }
    // Which descriptor woke us does not matter (the caller takes events and watches next).
    var event = epoll_event()
    while true {
      let count = epoll_wait(fileDescriptor, &event, 1, milliseconds)
      if count >= 0 { return }
      if errno == EINTR { continue }
      throw .system(operation: "epoll_wait", errno: errno)
    }
  }

  private func drainWake() {
    var value: UInt64 = 0
    _ = Glibc.read(wakeDescriptor, &value, 8)
  }
}
