import NetCore

/// What a Xen frontend driver needs from whatever it runs on: shared pages with grant
/// references, an event channel, xenstore, and a way to wait.
///
/// Three kinds of platform implement it:
/// - a bare-metal (unikernel) platform: grant entries written into the grant-table frames it
///   mapped (`XENMEM_add_to_physmap`, ``GrantTableV1``), `EVTCHNOP_*` hypercalls and the
///   shared-info pending bits, the xenstore ring page (`xen/io/xs_wire.h`), and
///   `SCHEDOP_poll` to block;
/// - a Linux user-space platform over `/dev/xen/gntalloc`, `/dev/xen/evtchn` and
///   `/dev/xen/xenbus`, whose waiting is the event loop's `epoll_wait`;
/// - a test's simulated hypervisor, whose waiting runs the simulated backend.
///
/// Everything is synchronous and single-threaded: the driver calls the platform from the one
/// loop that owns it. Events are only wake-ups: the driver always looks at its rings after
/// ``takeEvent(_:)`` and before it goes idle (`RING_FINAL_CHECK_FOR_RESPONSES`), so a lost,
/// spurious or coalesced event costs nothing. A platform may therefore deliver events by
/// interrupt (an upcall that marks work pending) or by polling (`SCHEDOP_poll` in ``wait(timeout:)``).
///
/// Xenstore paths without a leading `/` are relative to the domain's home,
/// `/local/domain/<domid>` (as xenstored resolves them).
public protocol XenPlatform: ~Copyable {
  /// The platform's error type (typed throws; no existentials).
  associatedtype Failure: Error

  // MARK: Shared pages and grants (xen/grant_table.h)

  /// Allocates a zeroed 4 KiB page and grants `domain` access to it: a v1 grant entry with
  /// `GTF_permit_access`, plus `GTF_readonly` when `readOnly`.
  ///
  /// Allocation and grant are one operation because Linux's gntalloc can only share pages it
  /// allocates itself; a bare-metal platform takes a page from its allocator and writes the
  /// grant entry (frame, then domain, then flags last, with a release barrier).
  mutating func grantPage(to domain: XenDomainID, readOnly: Bool) throws(Failure) -> GrantedPage

  /// Ends the grant of `page` and frees the page. Returns false, changing nothing, while the
  /// other domain still has the page mapped (`GTF_reading`/`GTF_writing` in the entry): the
  /// caller keeps the page and tries again later.
  mutating func endAccess(_ page: GrantedPage) throws(Failure) -> Bool

  // MARK: Event channels (xen/event_channel.h)

  /// Allocates a port that `domain` may bind to (`EVTCHNOP_alloc_unbound`).
  mutating func allocateEventChannel(remote domain: XenDomainID) throws(Failure)
    -> EventChannelPort

  /// Notifies the other end of `port` (`EVTCHNOP_send`).
  mutating func notify(_ port: EventChannelPort) throws(Failure)

  /// Whether an event arrived on `port` since the last call; clears it and unmasks the port
  /// (the shared-info pending bit; on Linux the ports read from `/dev/xen/evtchn`).
  mutating func takeEvent(_ port: EventChannelPort) throws(Failure) -> Bool

  /// Closes `port` (`EVTCHNOP_close`).
  mutating func closeEventChannel(_ port: EventChannelPort) throws(Failure)

  // MARK: Xenstore (xen/io/xs_wire.h)

  /// The value at `path` (`XS_READ`), or nil when there is no such key (`ENOENT`).
  mutating func read(_ path: String) throws(Failure) -> String?

  /// Writes `value` at `path`, creating it and its parents (`XS_WRITE`).
  mutating func write(_ path: String, _ value: String) throws(Failure)

  /// Watches `path` and everything below it (`XS_WATCH`); the watch fires once at once, as
  /// xenstored's do.
  mutating func watch(_ path: String, token: XenstoreWatchToken) throws(Failure)

  /// Removes a watch set with ``watch(_:token:)`` (`XS_UNWATCH`).
  mutating func unwatch(_ path: String, token: XenstoreWatchToken) throws(Failure)

  /// Whether the watch with `token` fired since the last call (events are coalesced: a
  /// watch is a hint to read the keys again).
  mutating func takeWatchEvent(_ token: XenstoreWatchToken) throws(Failure) -> Bool

  // MARK: Waiting

  /// Makes the next ``wait(timeout:)`` (or the runtime's wait on the platform's descriptor)
  /// return at once: the driver stopped at a batch limit with work left on its rings, for
  /// which no new event will come.
  mutating func requestPoll()

  /// Blocks until an event channel or watch of this platform fires, ``requestPoll()`` was
  /// called, or `timeout` (nil: no limit) passes. `SCHEDOP_poll` on bare metal, `epoll_wait` on
  /// Linux; a simulation runs the other side here.
  mutating func wait(timeout: Interval?) throws(Failure)
}
