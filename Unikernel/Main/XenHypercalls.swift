import Netfront
import XenBareMetal

/// The hypercalls the unikernel makes, with their argument structures laid out byte by byte
/// as xen/event_channel.h, xen/sched.h, xen/memory.h and xen/hvm/hvm_op.h define them (the
/// same on x86_64 and arm64). Netfront's ``XenBareMetalPlatform`` uses it as its
/// ``XenHypervisor``.
public struct XenHypercalls<Architecture: GuestArchitecture>: XenHypervisor {
  public let architecture: Architecture

  /// `DOMID_SELF`.
  static var selfDomain: UInt16 { 0x7FF0 }

  public init(architecture: Architecture) { self.architecture = architecture }

  /// Calls `operation` with a zeroed argument block of `size` bytes that `fill` writes.
  func call(
    _ operation: XenHypercallNumber, command: UInt, size: Int,
    _ fill: (UnsafeMutableRawPointer) -> Void,
    result: (UnsafeMutableRawPointer) -> Void = { _ in }
  ) -> Int {
    withUnsafeTemporaryAllocation(byteCount: size, alignment: 8) { buffer in
      let block = buffer.baseAddress!
      block.initializeMemory(as: UInt8.self, repeating: 0, count: size)
      fill(block)
      let status = architecture.hypercall(operation, command, UInt(bitPattern: block))
      result(block)
      return status
    }
  }

  private func check(_ status: Int) throws(XenHypercallError) {
    if status < 0 { throw XenHypercallError(code: Int32(truncatingIfNeeded: status)) }
  }

  // MARK: Event channels (xen/event_channel.h)

  public mutating func allocateUnboundEventChannel(remote: XenDomainID) throws(XenHypercallError)
    -> EventChannelPort
  {
    // EVTCHNOP_alloc_unbound (6): struct evtchn_alloc_unbound { domid_t dom, remote_dom; evtchn_port_t port; }
    var port: UInt32 = 0
    let status = call(
      .eventChannelOperation, command: 6, size: 8,
      {
        $0.storeBytes(of: Self.selfDomain, as: UInt16.self)
        $0.storeBytes(of: remote.rawValue, toByteOffset: 2, as: UInt16.self)
      },
      result: { port = $0.load(fromByteOffset: 4, as: UInt32.self) })
    try check(status)
    return EventChannelPort(rawValue: port)
  }

  public mutating func sendEvent(_ port: EventChannelPort) throws(XenHypercallError) {
    // EVTCHNOP_send (4): struct evtchn_send { evtchn_port_t port; }
    try check(
      call(.eventChannelOperation, command: 4, size: 4) {
        $0.storeBytes(of: port.rawValue, as: UInt32.self)
      })
  }

  public mutating func closeEventChannel(_ port: EventChannelPort) throws(XenHypercallError) {
    // EVTCHNOP_close (3): struct evtchn_close { evtchn_port_t port; }
    try check(
      call(.eventChannelOperation, command: 3, size: 4) {
        $0.storeBytes(of: port.rawValue, as: UInt32.self)
      })
  }

  // MARK: Scheduling (xen/sched.h)

  public mutating func poll(_ ports: [EventChannelPort], deadline: UInt64) throws(XenHypercallError)
  {
    // SCHEDOP_poll (3): struct sched_poll { XEN_GUEST_HANDLE(evtchn_port_t) ports;
    // unsigned int nr_ports; uint64_t timeout; }
    var raw = ports.map { $0.rawValue }
    let status = raw.withUnsafeMutableBufferPointer { list in
      call(.scheduleOperation, command: 3, size: 24) {
        $0.storeBytes(of: UInt64(UInt(bitPattern: list.baseAddress)), as: UInt64.self)
        $0.storeBytes(of: UInt32(list.count), toByteOffset: 8, as: UInt32.self)
        $0.storeBytes(of: deadline, toByteOffset: 16, as: UInt64.self)
      }
    }
    try check(status)
  }

  public func systemTime() -> UInt64 { architecture.systemTime() }

  /// The guest maps its memory 1:1 (x86 identity page tables; arm64 with the MMU off).
  public func frameNumber(of page: UnsafeMutableRawPointer) -> UInt32 {
    UInt32(truncatingIfNeeded: UInt(bitPattern: page) >> 12)
  }

  // MARK: Memory and HVM parameters

  /// `XENMEM_add_to_physmap` for `DOMID_SELF`: puts Xen's page `index` of `space`
  /// (0: shared_info, 1: grant table) at guest frame `frame`.
  public func addToPhysmap(space: UInt32, index: UInt, frame: UInt) throws(XenHypercallError) {
    // XENMEM_add_to_physmap (7): struct xen_add_to_physmap { domid_t domid; uint16_t size; unsigned int space;
    // xen_ulong_t idx; xen_pfn_t gpfn; }
    try check(
      call(.memoryOperation, command: 7, size: 24) {
        $0.storeBytes(of: Self.selfDomain, as: UInt16.self)
        $0.storeBytes(of: space, toByteOffset: 4, as: UInt32.self)
        $0.storeBytes(of: UInt64(index), toByteOffset: 8, as: UInt64.self)
        $0.storeBytes(of: UInt64(frame), toByteOffset: 16, as: UInt64.self)
      })
  }

  /// `HVMOP_get_param` for `DOMID_SELF` (xen/hvm/params.h numbers the parameters).
  public func parameter(_ index: HVMParameter) throws(XenHypercallError) -> UInt64 {
    // HVMOP_get_param (1): struct xen_hvm_param { domid_t domid; uint32_t index; uint64_t value; }
    var value: UInt64 = 0
    let status = call(
      .hvmOperation, command: 1, size: 16,
      {
        $0.storeBytes(of: Self.selfDomain, as: UInt16.self)
        $0.storeBytes(of: index.rawValue, toByteOffset: 4, as: UInt32.self)
      },
      result: { value = $0.load(fromByteOffset: 8, as: UInt64.self) })
    try check(status)
    return value
  }
}

/// HVM parameters the guest reads (xen/hvm/params.h `HVM_PARAM_*`).
public enum HVMParameter: UInt32 {
  case storeFrame = 1
  case storeEventChannel = 2
  case consoleFrame = 17
  case consoleEventChannel = 18
}
