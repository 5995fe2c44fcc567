import Netfront

/// What a bare-metal guest's start-of-day code provides to ``XenBareMetalPlatform``: the few
/// hypercalls netfront needs, Xen's clock, and the guest's address-to-frame translation. The
/// real implementation calls into assembly (`vmcall`/`vmmcall` through the hypercall page on
/// x86, `hvc #0xEA1` on arm64); a test implements it in Swift.
public protocol XenHypervisor: ~Copyable {
  /// `EVTCHNOP_alloc_unbound` for `DOMID_SELF`: a port `remote` may bind.
  mutating func allocateUnboundEventChannel(remote: XenDomainID) throws(XenHypercallError)
    -> EventChannelPort

  /// `EVTCHNOP_send`.
  mutating func sendEvent(_ port: EventChannelPort) throws(XenHypercallError)

  /// `EVTCHNOP_close`.
  mutating func closeEventChannel(_ port: EventChannelPort) throws(XenHypercallError)

  /// `SCHEDOP_poll`: blocks this vCPU until one of `ports` is pending (it returns at once if
  /// one already is) or Xen's system time reaches `deadline` nanoseconds (0: no deadline).
  mutating func poll(_ ports: [EventChannelPort], deadline: UInt64) throws(XenHypercallError)

  /// Xen's system time in nanoseconds (the vCPU's `vcpu_time_info` and the TSC or the
  /// generic timer).
  func systemTime() -> UInt64

  /// The guest frame number of a page of ours, for a grant entry (the address shifted by 12
  /// when the guest maps its memory 1:1, as a PVH guest with identity page tables does).
  func frameNumber(of page: UnsafeMutableRawPointer) -> UInt32
}

/// A hypercall that returned an error: the negative errno value Xen gave.
public struct XenHypercallError: Error, Equatable, Sendable {
  public var code: Int32
  public init(code: Int32) { self.code = code }
}
