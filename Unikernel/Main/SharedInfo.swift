import Synchronization

/// The page Xen shares with every guest (`struct shared_info`, xen/xen.h), mapped with
/// `XENMEM_add_to_physmap`: per-vCPU time and event state, then the event-channel bitmaps.
/// Offsets are the x86_64 and arm64 ones (32 `vcpu_info` of 64 bytes, then 64-bit words).
public struct SharedInfo {
  private enum Offset {
    static let eventPending = 2048
    static let eventMask = 2560
  }
  /// Event-channel words in each bitmap (`sizeof(xen_ulong_t) * 8`).
  static let words = 64

  public let page: UnsafeMutableRawPointer

  public init(page: UnsafeMutableRawPointer) { self.page = page }

  /// `evtchn_pending[0]`, for ``XenBareMetalPlatform``.
  public var eventPending: UnsafeMutablePointer<UInt64> {
    (page + Offset.eventPending).assumingMemoryBound(to: UInt64.self)
  }

  /// Sets every bit of `evtchn_mask`: no event becomes an upcall; `SCHEDOP_poll` still wakes
  /// on a pending bit of a port it polls (xen/common/event_2l.c checks pollers either way).
  public func maskAllEvents() {
    for word in 0..<Self.words {
      (page + Offset.eventMask + 8 * word).assumingMemoryBound(to: Atomic<UInt64>.self).pointee
        .store(~0, ordering: .sequentiallyConsistent)
    }
  }
}
