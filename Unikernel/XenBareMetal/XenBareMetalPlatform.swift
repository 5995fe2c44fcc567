import NetCore
import Netfront
import Synchronization

/// Why the bare-metal platform failed.
public enum XenBareMetalError: Error, Equatable {
  /// A hypercall returned this negative errno.
  case hypercall(XenHypercallError)
  /// The page region is used up.
  case outOfPages
  /// Every grant entry is in use.
  case grantTableFull
  /// xenstored answered with an error (`ENOENT` for a write, `EACCES`, ...).
  case xenstore(String)
  /// The response ring held something that is not a xenstore message.
  case malformedMessage(XenstoreWireError)
}

extension XenBareMetalError: CustomStringConvertible {
  public var description: String {
    switch self {
    case .hypercall(let error): "hypercall failed with \(error.code)"
    case .outOfPages: "no free page left"
    case .grantTableFull: "no free grant entry left"
    case .xenstore(let name): "xenstore: \(name)"
    case .malformedMessage: "malformed xenstore message"
    }
  }
}

/// The ``XenPlatform`` of a guest with no operating system (the unikernel): everything it does
/// is memory shared with Xen plus the hypercalls of a ``XenHypervisor``.
///
/// - Pages come from a ``PageAllocator`` region; granting writes a v1 entry into the grant
///   table frames the start-of-day code mapped (``GrantTableV1``), with the page's frame number.
/// - Events: ports are allocated and signalled with `EVTCHNOP_*`; an event that arrived is the
///   port's bit in `shared_info.evtchn_pending`, taken with an atomic and-not. Ports stay
///   masked: ``wait(timeout:)`` is `SCHEDOP_poll` on all of them (xenstore's too), which wakes on
///   a pending bit whether masked or not, so no interrupt handler is needed. A platform that
///   wants interrupts instead unmasks the ports and makes its upcall mark work pending; the
///   driver does not change.
/// - Xenstore: requests and replies through the ring page (``XenstoreRing``), a notification
///   on xenstore's port after each write, `SCHEDOP_poll` on it while waiting for a reply;
///   watch events that arrive meanwhile are kept for ``takeWatchEvent(_:)``; since reading
///   the ring took the pending bit that would have ended the next ``wait(timeout:)``, that
///   wait polls without sleeping.
public struct XenBareMetalPlatform<Hypervisor: XenHypervisor & ~Copyable>: XenPlatform, ~Copyable {
  public typealias Failure = XenBareMetalError

  public var hypervisor: Hypervisor
  private let grantTable: GrantTableV1
  private var freeGrants: [UInt32]
  private var pages: PageAllocator
  private let eventPending: UnsafeMutablePointer<UInt64>
  private let xenstore: XenstoreRing
  private let xenstorePort: EventChannelPort
  private var ports: [EventChannelPort] = []
  private var responses: [UInt8] = []
  private var firedTokens: [UInt32] = []
  private var nextRequest: UInt32 = 1
  private var pollRequested = false
  /// A watch event was read off the ring (with a reply, or for another token) since the last
  /// wait: its event's pending bit is gone, so that wait must not sleep.
  private var watchEventArrived = false

  /// - Parameters:
  ///   - grantTable: the mapped grant-table frames (its first
  ///     ``GrantTableV1/reservedEntries`` entries are left to the toolstack);
  ///   - pages: where granted pages come from;
  ///   - eventPending: `&shared_info->evtchn_pending[0]`, 64-bit words;
  ///   - xenstore: the page of `HVM_PARAM_STORE_PFN`, and `HVM_PARAM_STORE_EVTCHN`.
  public init(
    hypervisor: consuming Hypervisor, grantTable: GrantTableV1, pages: PageAllocator,
    eventPending: UnsafeMutablePointer<UInt64>, xenstore: UnsafeMutableRawPointer,
    xenstorePort: EventChannelPort
  ) {
    self.hypervisor = hypervisor
    self.grantTable = grantTable
    freeGrants = (UInt32(GrantTableV1.reservedEntries)..<UInt32(grantTable.entryCount)).reversed()
    self.pages = pages
    self.eventPending = eventPending
    self.xenstore = XenstoreRing(page: xenstore)
    self.xenstorePort = xenstorePort
  }

  // MARK: Grants

  public mutating func grantPage(to domain: XenDomainID, readOnly: Bool) throws(XenBareMetalError)
    -> GrantedPage
  {
    guard let reference = freeGrants.popLast() else { throw .grantTableFull }
    guard let page = pages.allocate() else {
      freeGrants.append(reference)
      throw .outOfPages
    }
    grantTable.grantAccess(
      GrantReference(rawValue: reference), to: domain, frame: hypervisor.frameNumber(of: page),
      readOnly: readOnly)
    return GrantedPage(
      address: page, reference: GrantReference(rawValue: reference), domain: domain,
      readOnly: readOnly)
  }

  public mutating func endAccess(_ page: GrantedPage) throws(XenBareMetalError) -> Bool {
    guard grantTable.endAccess(page.reference) else { return false }
    freeGrants.append(page.reference.rawValue)
    pages.release(page.address)
    return true
  }

  // MARK: Event channels

  public mutating func allocateEventChannel(remote domain: XenDomainID) throws(XenBareMetalError)
    -> EventChannelPort
  {
    do {
      let port = try hypervisor.allocateUnboundEventChannel(remote: domain)
      ports.append(port)
      return port
    } catch {
      throw .hypercall(error)
    }
  }

  public mutating func notify(_ port: EventChannelPort) throws(XenBareMetalError) {
    do { try hypervisor.sendEvent(port) } catch { throw .hypercall(error) }
  }

  public mutating func takeEvent(_ port: EventChannelPort) throws(XenBareMetalError) -> Bool {
    takePending(port)
  }

  public mutating func closeEventChannel(_ port: EventChannelPort) throws(XenBareMetalError) {
    ports.removeAll { $0 == port }
    do { try hypervisor.closeEventChannel(port) } catch { throw .hypercall(error) }
  }

  /// Clears `port`'s bit in `evtchn_pending`; whether it was set.
  private func takePending(_ port: EventChannelPort) -> Bool {
    let word = UnsafeMutableRawPointer(eventPending + Int(port.rawValue / 64))
      .assumingMemoryBound(to: Atomic<UInt64>.self)
    let bit = UInt64(1) << UInt64(port.rawValue % 64)
    return word.pointee.bitwiseAnd(~bit, ordering: .sequentiallyConsistent).oldValue & bit != 0
  }

  // MARK: Xenstore

  public mutating func read(_ path: String) throws(XenBareMetalError) -> String? {
    let reply = try request(.read(path, id: takeID()))
    if reply.isNoSuchKey { return nil }
    if let name = reply.errorName { throw .xenstore(name) }
    return String(decoding: reply.payload, as: UTF8.self)
  }

  public mutating func write(_ path: String, _ value: String) throws(XenBareMetalError) {
    let reply = try request(.write(path, value, id: takeID()))
    if let name = reply.errorName { throw .xenstore(name) }
  }

  public mutating func watch(_ path: String, token: XenstoreWatchToken) throws(XenBareMetalError) {
    let reply = try request(
      .watch(path, token: XenstoreValue.decimal(UInt64(token.rawValue)), id: takeID()))
    if let name = reply.errorName { throw .xenstore(name) }
  }

  public mutating func unwatch(_ path: String, token: XenstoreWatchToken) throws(XenBareMetalError)
  {
    let reply = try request(
      .watch(path, token: XenstoreValue.decimal(UInt64(token.rawValue)), id: takeID(), remove: true)
    )
    if let name = reply.errorName { throw .xenstore(name) }
  }

  public mutating func takeWatchEvent(_ token: XenstoreWatchToken) throws(XenBareMetalError) -> Bool
  {
    _ = takePending(xenstorePort)
    _ = try collect(until: nil)
    guard firedTokens.contains(token.rawValue) else { return false }
    firedTokens.removeAll { $0 == token.rawValue }
    return true
  }

  private mutating func takeID() -> UInt32 {
    defer { nextRequest = nextRequest == UInt32.max ? 1 : nextRequest + 1 }
    return nextRequest
  }

  /// Sends `message` through the request ring and waits for the reply with its id.
  private mutating func request(_ message: XenstoreMessage) throws(XenBareMetalError)
    -> XenstoreMessage
  {
    let bytes = message.encoded
    var sent = 0
    while sent < bytes.count {
      _ = takePending(xenstorePort)
      sent += xenstore.write(bytes[sent...])
      try notify(xenstorePort)
      if sent < bytes.count { try pollXenstore() }
    }
    while true {
      // Clear the bit before looking, so that a reply written after the look still wakes us.
      _ = takePending(xenstorePort)
      if let reply = try collect(until: message.requestID) { return reply }
      try pollXenstore()
    }
  }

  /// Reads the response ring, noting watch events; returns the reply to `id` if it came.
  private mutating func collect(until id: UInt32?) throws(XenBareMetalError) -> XenstoreMessage? {
    if xenstore.read(into: &responses) > 0 {
      // xenstored may be waiting for room in the response ring.
      try notify(xenstorePort)
    }
    while true {
      let parsed: (message: XenstoreMessage, length: Int)?
      do { parsed = try XenstoreMessage.parse(responses) } catch { throw .malformedMessage(error) }
      guard let parsed else { return nil }
      responses.removeFirst(parsed.length)
      if parsed.message.type == .watchEvent {
        watchEventArrived = true
        if let token = Self.token(of: parsed.message), !firedTokens.contains(token) {
          firedTokens.append(token)
        }
        continue
      }
      if parsed.message.requestID == id { return parsed.message }
    }
  }

  /// The numeric token of a watch event (`path\0token\0`), as this platform sets them.
  private static func token(of event: XenstoreMessage) -> UInt32? {
    let parts = event.payload.split(separator: 0, omittingEmptySubsequences: false)
    guard parts.count >= 2 else { return nil }
    var value: UInt32 = 0
    for byte in parts[1] {
      guard byte >= 48, byte <= 57 else { return nil }
      value = value &* 10 &+ UInt32(byte - 48)
    }
    return value
  }

  private mutating func pollXenstore() throws(XenBareMetalError) {
    do { try hypervisor.poll([xenstorePort], deadline: 0) } catch { throw .hypercall(error) }
  }

  // MARK: Waiting

  public mutating func requestPoll() {
    pollRequested = true
  }

  public mutating func wait(timeout: Interval?) throws(XenBareMetalError) {
    if pollRequested {
      pollRequested = false
      return
    }
    // Watch events read with a reply may still wait in `responses`: note them too.
    _ = try collect(until: nil)
    var deadline: UInt64 = 0
    if watchEventArrived {
      // A deadline already passed: SCHEDOP_poll returns at once.
      watchEventArrived = false
      deadline = hypervisor.systemTime()
    } else if let timeout {
      deadline = hypervisor.systemTime() &+ UInt64(max(1, timeout.nanoseconds))
    }
    do { try hypervisor.poll(ports + [xenstorePort], deadline: deadline) } catch {
      throw .hypercall(error)
    }
  }

  /// Pages left in the region (for diagnostics and tests).
  public var pagesAvailable: Int { pages.available }

  /// Xen's system time as the stack's clock.
  public var now: Instant { Instant(nanoseconds: Int64(hypervisor.systemTime())) }
}
