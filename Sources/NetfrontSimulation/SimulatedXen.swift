import NetCore
import Netfront

/// What the simulated hypervisor refuses, as Xen would (`-EINVAL`, `-EPERM`, `-ENOENT`).
public enum SimulatedXenError: Error, Equatable, CustomStringConvertible {
  /// No such grant reference, or the entry does not grant access (`GTF_permit_access`).
  case badGrant(GrantReference)
  /// The grant is for another domain, or read-only and written.
  case grantPermissionDenied(GrantReference)
  /// No such event-channel port.
  case badPort(EventChannelPort)
  /// An operation the test made fail on purpose.
  case injected(String)

  public var description: String {
    switch self {
    case .badGrant(let reference): "grant \(reference.rawValue) is not valid"
    case .grantPermissionDenied(let reference): "grant \(reference.rawValue) does not allow that"
    case .badPort(let port): "event channel \(port.rawValue) is not bound"
    case .injected(let what): "injected failure: \(what)"
    }
  }
}

/// A hypervisor and xenstore for two or more domains in one process: each domain's v1 grant
/// table (in real ``GrantTableV1`` entries, which Xen's checks read and mark), interdomain
/// event channels with pending bits, and a xenstore tree with watches.
///
/// The front end reaches it through ``SimulatedXenPlatform``; the simulated back end calls it
/// directly, as netback calls Xen (grant map and copy, event-channel bind and send).
public final class SimulatedXen {
  /// Guest frames: frame number → page. Frame numbers start at 0x1000 so that 0 is never one.
  private var frames: [UInt32: UnsafeMutableRawPointer] = [:]
  private var nextFrame: UInt32 = 0x1000
  /// Each domain's grant table and the page behind each of its grants.
  private var grantTables: [XenDomainID: GrantTableV1] = [:]
  private var freeGrants: [XenDomainID: [UInt32]] = [:]
  /// Mappings the back end holds: (owner, reference) → count.
  private var mappings: [GrantKey: Int] = [:]

  private struct GrantKey: Hashable {
    var owner: XenDomainID
    var reference: GrantReference
  }

  private struct Channel {
    var domain: XenDomainID
    var remoteDomain: XenDomainID
    /// The peer's port, once bound (interdomain).
    var remotePort: EventChannelPort?
    var pending = false
  }
  private var channels: [ChannelKey: Channel] = [:]
  private var nextPort: [XenDomainID: UInt32] = [:]

  private struct ChannelKey: Hashable {
    var domain: XenDomainID
    var port: EventChannelPort
  }

  /// The xenstore tree: absolute path → value.
  public private(set) var store: [String: String] = [:]
  private var watches: [Watch] = []
  private var firedWatches: Set<WatchFiring> = []

  private struct Watch {
    var domain: XenDomainID
    var path: String
    var token: XenstoreWatchToken
  }

  private struct WatchFiring: Hashable {
    var domain: XenDomainID
    var token: XenstoreWatchToken
  }

  /// Every write and removal, in order: (path, value or nil for a removal).
  public private(set) var journal: [(path: String, value: String?)] = []
  /// Called when a domain waits (``SimulatedXenPlatform/wait(timeout:)``): where the other
  /// side runs.
  public var onWait: ((XenDomainID) -> Void)?
  /// The timeout of the wait that called ``onWait`` (nil: none), for a test whose clock
  /// moves as long as a wait that nothing wakes would last.
  public internal(set) var waitTimeout: Interval?
  /// Grant operations that fail on purpose after this many more succeed (nil: never).
  public var grantsBeforeFailure: Int?
  /// Called when one of a domain's ports becomes pending (where a simulated bare-metal guest
  /// sets its `shared_info` bit).
  public var onEvent: ((XenDomainID, EventChannelPort) -> Void)?
  /// Guests that keep their own grant table (a bare-metal platform's): the table and how to
  /// find a frame's page.
  private var guestTables: [XenDomainID: (GrantTableV1, (UInt32) -> UnsafeMutableRawPointer?)] =
    [:]

  /// Grant entries per domain.
  public static let grantEntries = 4096

  public init() {}

  deinit {
    for page in frames.values { page.deallocate() }
    for table in grantTables.values { table.base.deallocate() }
  }

  // MARK: Grants

  /// Lets the back end use `domain`'s own grant table, whose frames `resolve` finds: a guest
  /// that grants pages itself, as ``XenBareMetalPlatform`` does.
  public func attachGuest(
    _ domain: XenDomainID, grantTable: GrantTableV1,
    resolve: @escaping (UInt32) -> UnsafeMutableRawPointer?
  ) {
    guestTables[domain] = (grantTable, resolve)
  }

  private func table(_ domain: XenDomainID) -> GrantTableV1 {
    if let (table, _) = guestTables[domain] { return table }
    if let table = grantTables[domain] { return table }
    let bytes = SimulatedXen.grantEntries * GrantTableV1.entrySize
    let base = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: xenPageSize)
    base.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
    let table = GrantTableV1(base: base, entryCount: SimulatedXen.grantEntries)
    grantTables[domain] = table
    freeGrants[domain] = (UInt32(GrantTableV1.reservedEntries)..<UInt32(SimulatedXen.grantEntries))
      .reversed()
    return table
  }

  /// A zeroed page of `owner`'s, granted to `grantee` (what a guest does with its allocator
  /// and its grant table).
  public func grantPage(owner: XenDomainID, to grantee: XenDomainID, readOnly: Bool)
    throws(SimulatedXenError) -> GrantedPage
  {
    if let remaining = grantsBeforeFailure {
      if remaining == 0 { throw .injected("grant") }
      grantsBeforeFailure = remaining - 1
    }
    let table = table(owner)
    guard let reference = freeGrants[owner]?.popLast() else { throw .injected("grant table full") }
    let page = UnsafeMutableRawPointer.allocate(byteCount: xenPageSize, alignment: xenPageSize)
    page.initializeMemory(as: UInt8.self, repeating: 0, count: xenPageSize)
    let frame = nextFrame
    nextFrame += 1
    frames[frame] = page
    table.grantAccess(
      GrantReference(rawValue: reference), to: grantee, frame: frame, readOnly: readOnly)
    return GrantedPage(
      address: page, reference: GrantReference(rawValue: reference), domain: grantee,
      readOnly: readOnly)
  }

  /// Ends the grant (false while mapped) and frees the page.
  public func endAccess(owner: XenDomainID, _ page: GrantedPage) -> Bool {
    let table = table(owner)
    let frame = table.load(page.reference).frame
    guard table.endAccess(page.reference) else { return false }
    if let memory = frames.removeValue(forKey: frame) { memory.deallocate() }
    freeGrants[owner, default: []].append(page.reference.rawValue)
    return true
  }

  /// Xen's checks on a grant another domain uses: valid, for `user`, writable if asked.
  private func check(
    owner: XenDomainID, _ reference: GrantReference, user: XenDomainID, writable: Bool
  ) throws(SimulatedXenError) -> (UnsafeMutableRawPointer, GrantFlags) {
    guard Int(reference.rawValue) < table(owner).entryCount else { throw .badGrant(reference) }
    let entry = table(owner).load(reference)
    let page = guestTables[owner].map { $0.1(entry.frame) } ?? frames[entry.frame]
    guard entry.flags.intersection(.typeMask) == .permitAccess, let page else {
      throw .badGrant(reference)
    }
    guard entry.domain == user, !(writable && entry.flags.contains(.readOnly)) else {
      throw .grantPermissionDenied(reference)
    }
    return (page, entry.flags)
  }

  /// Maps `owner`'s grant into `user` (`GNTTABOP_map_grant_ref`): marks the entry
  /// `GTF_reading` (and `GTF_writing`), so that the owner cannot end access meanwhile.
  public func mapGrant(
    owner: XenDomainID, _ reference: GrantReference, by user: XenDomainID, writable: Bool
  ) throws(SimulatedXenError) -> UnsafeMutableRawPointer {
    let (page, _) = try check(owner: owner, reference, user: user, writable: writable)
    let table = table(owner)
    while true {
      let flags = table.load(reference).flags
      var marked = flags.union(.reading)
      if writable { marked.insert(.writing) }
      if table.compareExchangeFlags(reference, expected: flags, desired: marked).exchanged { break }
    }
    mappings[GrantKey(owner: owner, reference: reference), default: 0] += 1
    return page
  }

  /// Undoes ``mapGrant(owner:_:by:writable:)`` (`GNTTABOP_unmap_grant_ref`).
  public func unmapGrant(owner: XenDomainID, _ reference: GrantReference) {
    let key = GrantKey(owner: owner, reference: reference)
    guard let count = mappings[key] else { return }
    if count > 1 {
      mappings[key] = count - 1
      return
    }
    mappings[key] = nil
    let table = table(owner)
    while true {
      let flags = table.load(reference).flags
      let cleared = flags.subtracting([.reading, .writing])
      if table.compareExchangeFlags(reference, expected: flags, desired: cleared).exchanged {
        break
      }
    }
  }

  /// Copies `bytes` into `owner`'s granted page at `offset` (`GNTTABOP_copy`, destination a
  /// grant): the grant must be writable by `user`.
  public func copy(
    _ bytes: UnsafeRawBufferPointer, toGrant reference: GrantReference, of owner: XenDomainID,
    offset: Int, by user: XenDomainID
  ) throws(SimulatedXenError) {
    let (page, _) = try check(owner: owner, reference, user: user, writable: true)
    guard offset >= 0, offset + bytes.count <= xenPageSize else { throw .badGrant(reference) }
    if let base = bytes.baseAddress {
      (page + offset).copyMemory(from: base, byteCount: bytes.count)
    }
  }

  /// Copies `count` bytes at `offset` of `owner`'s granted page into `destination`
  /// (`GNTTABOP_copy`, source a grant).
  public func copy(
    fromGrant reference: GrantReference, of owner: XenDomainID, offset: Int, count: Int,
    by user: XenDomainID, into destination: inout [UInt8]
  ) throws(SimulatedXenError) {
    let (page, _) = try check(owner: owner, reference, user: user, writable: false)
    guard offset >= 0, count >= 0, offset + count <= xenPageSize else { throw .badGrant(reference) }
    destination.append(
      contentsOf: UnsafeRawBufferPointer(start: page + offset, count: count))
  }

  /// How many of `owner`'s grants are currently mapped by another domain.
  public func mappedGrants(of owner: XenDomainID) -> Int {
    mappings.keys.filter { $0.owner == owner }.count
  }

  /// How many grants `owner` has given out and not ended.
  public func activeGrants(of owner: XenDomainID) -> Int {
    guard grantTables[owner] != nil else { return 0 }
    return SimulatedXen.grantEntries - GrantTableV1.reservedEntries
      - (freeGrants[owner]?.count ?? 0)
  }

  // MARK: Event channels

  /// `EVTCHNOP_alloc_unbound`: a port of `domain`'s that `remote` may bind.
  public func allocateUnbound(domain: XenDomainID, remote: XenDomainID) -> EventChannelPort {
    let number = nextPort[domain, default: 1]
    nextPort[domain] = number + 1
    let port = EventChannelPort(rawValue: number)
    channels[ChannelKey(domain: domain, port: port)] = Channel(domain: domain, remoteDomain: remote)
    return port
  }

  /// `EVTCHNOP_bind_interdomain`: binds a new port of `domain`'s to `remote`'s unbound port.
  public func bindInterdomain(
    domain: XenDomainID, remote: XenDomainID, remotePort: EventChannelPort
  ) throws(SimulatedXenError) -> EventChannelPort {
    let remoteKey = ChannelKey(domain: remote, port: remotePort)
    guard var remoteChannel = channels[remoteKey], remoteChannel.remoteDomain == domain,
      remoteChannel.remotePort == nil
    else { throw .badPort(remotePort) }
    let local = allocateUnbound(domain: domain, remote: remote)
    remoteChannel.remotePort = local
    channels[remoteKey] = remoteChannel
    channels[ChannelKey(domain: domain, port: local)]!.remotePort = remotePort
    return local
  }

  /// `EVTCHNOP_send`: marks the peer's port pending (a no-op while unbound).
  public func send(domain: XenDomainID, port: EventChannelPort) throws(SimulatedXenError) {
    guard let channel = channels[ChannelKey(domain: domain, port: port)] else {
      throw .badPort(port)
    }
    guard let remotePort = channel.remotePort else { return }
    channels[ChannelKey(domain: channel.remoteDomain, port: remotePort)]?.pending = true
    onEvent?(channel.remoteDomain, remotePort)
  }

  /// Clears and returns `port`'s pending bit.
  public func takeEvent(domain: XenDomainID, port: EventChannelPort) throws(SimulatedXenError)
    -> Bool
  {
    let key = ChannelKey(domain: domain, port: port)
    guard let channel = channels[key] else { throw .badPort(port) }
    channels[key]!.pending = false
    return channel.pending
  }

  /// Whether any of `domain`'s ports is pending.
  public func hasPendingEvent(domain: XenDomainID) -> Bool {
    channels.contains { $0.key.domain == domain && $0.value.pending }
  }

  /// `EVTCHNOP_close`: the peer's port becomes unbound again.
  public func close(domain: XenDomainID, port: EventChannelPort) throws(SimulatedXenError) {
    guard let channel = channels.removeValue(forKey: ChannelKey(domain: domain, port: port)) else {
      throw .badPort(port)
    }
    if let remotePort = channel.remotePort {
      channels[ChannelKey(domain: channel.remoteDomain, port: remotePort)]?.remotePort = nil
    }
  }

  /// How many ports `domain` has open.
  public func openPorts(of domain: XenDomainID) -> Int {
    channels.keys.filter { $0.domain == domain }.count
  }

  // MARK: Xenstore

  /// `path` made absolute: relative paths are under `/local/domain/<domid>`.
  public func absolute(_ path: String, for domain: XenDomainID) -> String {
    path.hasPrefix("/") ? path : "/local/domain/\(domain.rawValue)/" + path
  }

  public func read(_ path: String, for domain: XenDomainID = .controlDomain) -> String? {
    store[absolute(path, for: domain)]
  }

  /// Writes a key (creating its parents, as xenstored does) and fires the watches on it and
  /// its ancestors.
  public func write(_ path: String, _ value: String, for domain: XenDomainID = .controlDomain) {
    let full = absolute(path, for: domain)
    var parent = full
    while let slash = parent.lastIndex(of: "/"), slash != parent.startIndex {
      parent = String(parent[..<slash])
      if store[parent] == nil { store[parent] = "" }
    }
    store[full] = value
    journal.append((full, value))
    fire(changed: full, removed: false)
  }

  /// Removes a key and everything under it; fires the watches on, above and below it.
  public func remove(_ path: String, for domain: XenDomainID = .controlDomain) {
    let full = absolute(path, for: domain)
    for key in store.keys where key == full || key.hasPrefix(full + "/") {
      store[key] = nil
    }
    journal.append((full, nil))
    fire(changed: full, removed: true)
  }

  private func fire(changed path: String, removed: Bool) {
    for watch in watches
    where path == watch.path || path.hasPrefix(watch.path + "/")
      || (removed && watch.path.hasPrefix(path + "/"))
    {
      firedWatches.insert(WatchFiring(domain: watch.domain, token: watch.token))
    }
  }

  public func watch(_ path: String, token: XenstoreWatchToken, for domain: XenDomainID) {
    watches.append(Watch(domain: domain, path: absolute(path, for: domain), token: token))
    firedWatches.insert(WatchFiring(domain: domain, token: token))
  }

  public func unwatch(_ path: String, token: XenstoreWatchToken, for domain: XenDomainID) {
    let full = absolute(path, for: domain)
    watches.removeAll { $0.domain == domain && $0.path == full && $0.token == token }
  }

  /// Whether the watch fired since the last call.
  public func takeWatchEvent(_ token: XenstoreWatchToken, for domain: XenDomainID) -> Bool {
    firedWatches.remove(WatchFiring(domain: domain, token: token)) != nil
  }

  /// The number of watches `domain` has set.
  public func watchCount(of domain: XenDomainID) -> Int {
    watches.filter { $0.domain == domain }.count
  }

  /// The values written to `path`, in order (nil for a removal).
  public func history(of path: String) -> [String?] {
    journal.filter { $0.path == path }.map(\.value)
  }
}

/// The front end's view of a ``SimulatedXen``: the ``XenPlatform`` a ``NetfrontDevice`` runs
/// on in tests. Waiting runs the other side (``SimulatedXen/onWait``).
public struct SimulatedXenPlatform: XenPlatform {
  public typealias Failure = SimulatedXenError

  public let xen: SimulatedXen
  public let domain: XenDomainID
  /// Set by ``requestPoll()``, cleared by the next wait.
  public private(set) var pollRequested = false
  /// Waits so far.
  public private(set) var waits = 0

  public init(xen: SimulatedXen, domain: XenDomainID) {
    self.xen = xen
    self.domain = domain
  }

  public mutating func grantPage(to domain: XenDomainID, readOnly: Bool) throws(SimulatedXenError)
    -> GrantedPage
  {
    try xen.grantPage(owner: self.domain, to: domain, readOnly: readOnly)
  }

  public mutating func endAccess(_ page: GrantedPage) throws(SimulatedXenError) -> Bool {
    xen.endAccess(owner: domain, page)
  }

  public mutating func allocateEventChannel(remote domain: XenDomainID) throws(SimulatedXenError)
    -> EventChannelPort
  {
    xen.allocateUnbound(domain: self.domain, remote: domain)
  }

  public mutating func notify(_ port: EventChannelPort) throws(SimulatedXenError) {
    try xen.send(domain: domain, port: port)
  }

  public mutating func takeEvent(_ port: EventChannelPort) throws(SimulatedXenError) -> Bool {
    try xen.takeEvent(domain: domain, port: port)
  }

  public mutating func closeEventChannel(_ port: EventChannelPort) throws(SimulatedXenError) {
    try xen.close(domain: domain, port: port)
  }

  public mutating func read(_ path: String) throws(SimulatedXenError) -> String? {
    xen.read(path, for: domain)
  }

  public mutating func write(_ path: String, _ value: String) throws(SimulatedXenError) {
    xen.write(path, value, for: domain)
  }

  public mutating func watch(_ path: String, token: XenstoreWatchToken) throws(SimulatedXenError) {
    xen.watch(path, token: token, for: domain)
  }

  public mutating func unwatch(_ path: String, token: XenstoreWatchToken) throws(SimulatedXenError)
  {
    xen.unwatch(path, token: token, for: domain)
  }

  public mutating func takeWatchEvent(_ token: XenstoreWatchToken) throws(SimulatedXenError)
    -> Bool
  {
    xen.takeWatchEvent(token, for: domain)
  }

  public mutating func requestPoll() {
    pollRequested = true
  }

  public mutating func wait(timeout: Interval?) throws(SimulatedXenError) {
    pollRequested = false
    waits += 1
    xen.waitTimeout = timeout
    xen.onWait?(domain)
  }
}
