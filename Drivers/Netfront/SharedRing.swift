import Synchronization

/// The layout of a shared ring page, as `DEFINE_RING_TYPES` in xen/io/ring.h lays out
/// `struct NAME_sring`: four free-running 32-bit indices (`RING_IDX`), 4 private bytes, 44
/// bytes of padding, then the entries, each the size of the larger of request and response.
public enum SharedRingLayout {
  /// `req_prod`: requests produced by the front end.
  public static let requestProducerOffset = 0
  /// `req_event`: the request index at which the back end wants a notification.
  public static let requestEventOffset = 4
  /// `rsp_prod`: responses produced by the back end.
  public static let responseProducerOffset = 8
  /// `rsp_event`: the response index at which the front end wants a notification.
  public static let responseEventOffset = 12
  /// `pvt`: 4 bytes private to the protocol (netif's `smartpoll_active`, unused here).
  public static let privateOffset = 16
  /// `ring[0]`: the first entry (after `__pad[44]`).
  public static let entriesOffset = 64

  /// The number of entries a page holds: as many as fit, rounded down to a power of two
  /// (`__CONST_RING_SIZE`).
  public static func entryCount(entrySize: Int, pageSize: Int = xenPageSize) -> UInt32 {
    precondition(entrySize > 0 && pageSize >= entriesOffset + entrySize)
    let fit = UInt32((pageSize - entriesOffset) / entrySize)
    return UInt32(1) << (31 - UInt32(fit.leadingZeroBitCount))
  }
}

/// A view over one shared ring page: the four indices, read and written with the ordering
/// ring.h's barriers ask for, and the address of each entry. Does not own the page.
///
/// Indices run freely through all 2³² values and wrap; an index selects entry
/// `index & (size - 1)`, and differences of indices are taken modulo 2³² (`RING_IDX`
/// arithmetic).
public struct SharedRing {
  /// The page (4 KiB, shared with the other end).
  public let page: UnsafeMutableRawPointer
  /// Bytes per entry (12 for netif TX, 8 for netif RX).
  public let entrySize: Int
  /// Entries in the ring, a power of two (`RING_SIZE`).
  public let size: UInt32

  /// A view over `page` with entries of `entrySize` bytes.
  public init(page: UnsafeMutableRawPointer, entrySize: Int) {
    self.page = page
    self.entrySize = entrySize
    size = SharedRingLayout.entryCount(entrySize: entrySize)
  }

  /// Empties the ring: both producers at `index`, both event indices at `index + 1`, the
  /// private bytes and padding zeroed (`SHARED_RING_INIT`, which uses index 0; Linux's
  /// netback attaches at whatever `rsp_prod` the page holds, so any start works).
  public func initialize(at index: UInt32 = 0) {
    (page + SharedRingLayout.privateOffset).initializeMemory(
      as: UInt8.self, repeating: 0,
      count: SharedRingLayout.entriesOffset - SharedRingLayout.privateOffset)
    storeRelaxed(SharedRingLayout.requestEventOffset, index &+ 1)
    storeRelaxed(SharedRingLayout.responseEventOffset, index &+ 1)
    storeRelaxed(SharedRingLayout.requestProducerOffset, index)
    storeReleasing(SharedRingLayout.responseProducerOffset, index)
  }

  /// The address of the entry that index `index` selects.
  @inline(__always)
  public func entry(_ index: UInt32) -> UnsafeMutableRawPointer {
    page + SharedRingLayout.entriesOffset + Int(index & (size &- 1)) * entrySize
  }

  @inline(__always)
  func index(at offset: Int) -> UnsafeMutablePointer<Atomic<UInt32>> {
    (page + offset).assumingMemoryBound(to: Atomic<UInt32>.self)
  }

  // The orderings must be literal at each atomic operation, hence one function per ordering.
  /// The index at `offset` read without ordering: for the end that writes that index.
  @inline(__always)
  public func loadRelaxed(_ offset: Int) -> UInt32 {
    index(at: offset).pointee.load(ordering: .relaxed)
  }

  @inline(__always)
  func loadAcquiring(_ offset: Int) -> UInt32 {
    index(at: offset).pointee.load(ordering: .acquiring)
  }

  @inline(__always)
  func storeRelaxed(_ offset: Int, _ value: UInt32) {
    index(at: offset).pointee.store(value, ordering: .relaxed)
  }

  @inline(__always)
  func storeReleasing(_ offset: Int, _ value: UInt32) {
    index(at: offset).pointee.store(value, ordering: .releasing)
  }

  /// `req_prod`, with acquire ordering: requests up to it may be read after this.
  public var requestProducer: UInt32 { loadAcquiring(SharedRingLayout.requestProducerOffset) }
  /// `rsp_prod`, with acquire ordering: responses up to it may be read after this.
  public var responseProducer: UInt32 { loadAcquiring(SharedRingLayout.responseProducerOffset) }
  /// `req_event`.
  public var requestEvent: UInt32 { loadRelaxed(SharedRingLayout.requestEventOffset) }
  /// `rsp_event`.
  public var responseEvent: UInt32 { loadRelaxed(SharedRingLayout.responseEventOffset) }

  /// Publishes requests up to `producer` and says whether the back end asked to be notified
  /// of one of them (`RING_PUSH_REQUESTS_AND_CHECK_NOTIFY`): a release store of `req_prod` (the
  /// back end sees the requests before the index: `xen_wmb`), then a full barrier before
  /// `req_event` is read (`xen_mb`), then notify if `req_event` lies in (old, new].
  public func pushRequests(upTo producer: UInt32) -> Bool {
    push(
      upTo: producer, producerOffset: SharedRingLayout.requestProducerOffset,
      eventOffset: SharedRingLayout.requestEventOffset)
  }

  /// The back end's mirror of ``pushRequests(upTo:)`` (`RING_PUSH_RESPONSES_AND_CHECK_NOTIFY`).
  public func pushResponses(upTo producer: UInt32) -> Bool {
    push(
      upTo: producer, producerOffset: SharedRingLayout.responseProducerOffset,
      eventOffset: SharedRingLayout.responseEventOffset)
  }

  /// Both push macros: store the producer index with release, a full barrier, then whether the
  /// event index lies in (old, new].
  private func push(upTo producer: UInt32, producerOffset: Int, eventOffset: Int) -> Bool {
    let old = loadRelaxed(producerOffset)
    storeReleasing(producerOffset, producer)
    atomicMemoryFence(ordering: .sequentiallyConsistent)
    let event = loadRelaxed(eventOffset)
    return producer &- event < producer &- old
  }

  /// Asks for a notification when the response at `index` is produced: stores `rsp_event`
  /// and then a full barrier (`xen_mb`), so that a response produced meanwhile is seen by the
  /// check that follows.
  public func requestResponseEvent(at index: UInt32) {
    storeRelaxed(SharedRingLayout.responseEventOffset, index)
    atomicMemoryFence(ordering: .sequentiallyConsistent)
  }

  /// The back end's mirror of ``requestResponseEvent(at:)``, for `req_event`.
  public func requestRequestEvent(at index: UInt32) {
    storeRelaxed(SharedRingLayout.requestEventOffset, index)
    atomicMemoryFence(ordering: .sequentiallyConsistent)
  }
}

/// The front end's half of a shared ring (`NAME_front_ring_t` and the `RING_*` macros a front
/// end uses): requests are produced privately and then pushed; responses are consumed one by
/// one after ``unconsumedResponses`` says they are there.
///
/// The front never has more than ``SharedRing/size`` requests outstanding
/// (``freeRequests``), which is the flow control the ring.h macros leave to their users.
public struct FrontRing {
  /// The shared page.
  public let shared: SharedRing
  /// Requests written but not yet pushed end here (`req_prod_pvt`).
  public private(set) var requestProducer: UInt32
  /// Responses up to here have been consumed (`rsp_cons`).
  public private(set) var responseConsumer: UInt32

  /// Takes over a ring whose indices stand at `index` (`FRONT_RING_ATTACH`); with
  /// `initializing`, empties the shared page first (`SHARED_RING_INIT` + `FRONT_RING_INIT`).
  public init(shared: SharedRing, at index: UInt32 = 0, initializing: Bool) {
    self.shared = shared
    if initializing { shared.initialize(at: index) }
    requestProducer = index
    responseConsumer = index
  }

  /// Entries in the ring.
  public var size: UInt32 { shared.size }

  /// Requests that can still be produced (`RING_FREE_REQUESTS`).
  public var freeRequests: UInt32 { size &- (requestProducer &- responseConsumer) }

  /// Whether no request can be produced (`RING_FULL`).
  public var isFull: Bool { freeRequests == 0 }

  /// The entry for the next request; the caller writes it, then calls ``produceRequest()``.
  public var nextRequestEntry: UnsafeMutableRawPointer { shared.entry(requestProducer) }

  /// Counts the request just written into ``nextRequestEntry``.
  public mutating func produceRequest() {
    precondition(!isFull, "FrontRing: more requests than the ring holds")
    requestProducer &+= 1
  }

  /// Requests produced but not yet pushed.
  public var unpushedRequests: UInt32 {
    requestProducer &- shared.loadRelaxed(SharedRingLayout.requestProducerOffset)
  }

  /// Publishes the produced requests; true when the back end must be notified
  /// (`RING_PUSH_REQUESTS_AND_CHECK_NOTIFY`).
  public func pushRequests() -> Bool {
    shared.pushRequests(upTo: requestProducer)
  }

  /// Responses produced and not yet consumed (`RING_HAS_UNCONSUMED_RESPONSES`); reads
  /// `rsp_prod` with acquire ordering, so the responses it counts can be read.
  public var unconsumedResponses: UInt32 { shared.responseProducer &- responseConsumer }

  /// Whether the back end claims more responses than there were requests
  /// (`RING_RESPONSE_PROD_OVERFLOW`): a broken or hostile back end.
  public func responseProducerOverflows(_ producer: UInt32) -> Bool {
    producer &- responseConsumer > size
  }

  /// The entry of the next response to consume.
  public var nextResponseEntry: UnsafeMutableRawPointer { shared.entry(responseConsumer) }

  /// Counts the response in ``nextResponseEntry`` as consumed.
  public mutating func consumeResponse() {
    responseConsumer &+= 1
  }

  /// Whether responses are waiting; if none is, asks to be notified of the next one and looks
  /// again, so that a response produced in between is not missed
  /// (`RING_FINAL_CHECK_FOR_RESPONSES`).
  public func finalCheckForResponses() -> Bool {
    if unconsumedResponses > 0 { return true }
    shared.requestResponseEvent(at: responseConsumer &+ 1)
    return unconsumedResponses > 0
  }
}
