import Netfront

/// The back end's half of a shared ring (`NAME_back_ring_t` and the `RING_*` macros a back end
/// uses): requests are consumed, responses produced privately and then pushed.
public struct BackRing {
  public let shared: SharedRing
  /// Responses written but not yet pushed end here (`rsp_prod_pvt`).
  public private(set) var responseProducer: UInt32
  /// Requests up to here have been consumed (`req_cons`).
  public private(set) var requestConsumer: UInt32

  /// Attaches at the `rsp_prod` the page holds, as Linux's netback does
  /// (`BACK_RING_ATTACH(..., sring->rsp_prod, ...)`).
  public init(shared: SharedRing) {
    self.shared = shared
    let index = shared.responseProducer
    responseProducer = index
    requestConsumer = index
  }

  public var size: UInt32 { shared.size }

  /// Requests produced and not consumed, bounded by the free response slots
  /// (`RING_HAS_UNCONSUMED_REQUESTS`).
  public var unconsumedRequests: UInt32 {
    let requests = shared.requestProducer &- requestConsumer
    let room = size &- (requestConsumer &- responseProducer)
    return min(requests, room)
  }

  /// Whether the front end claims more requests than the ring holds
  /// (`RING_REQUEST_PROD_OVERFLOW`).
  public var requestProducerOverflows: Bool {
    shared.requestProducer &- responseProducer > size
  }

  /// The entry of the request `ahead` places after the next one to consume.
  public func requestEntry(ahead: UInt32 = 0) -> UnsafeMutableRawPointer {
    shared.entry(requestConsumer &+ ahead)
  }

  public mutating func consumeRequest() {
    requestConsumer &+= 1
  }

  /// The entry for the next response.
  public var nextResponseEntry: UnsafeMutableRawPointer { shared.entry(responseProducer) }

  public mutating func produceResponse() {
    responseProducer &+= 1
  }

  /// Responses produced but not yet pushed.
  public var unpushedResponses: UInt32 {
    responseProducer &- shared.loadRelaxed(SharedRingLayout.responseProducerOffset)
  }

  /// `RING_PUSH_RESPONSES_AND_CHECK_NOTIFY`; with `count`, publishes only that many of the
  /// unpushed responses.
  public func pushResponses(count: UInt32? = nil) -> Bool {
    guard let count else { return shared.pushResponses(upTo: responseProducer) }
    let published = shared.loadRelaxed(SharedRingLayout.responseProducerOffset)
    return shared.pushResponses(upTo: published &+ min(count, unpushedResponses))
  }

  /// `RING_FINAL_CHECK_FOR_REQUESTS`: whether requests are waiting; if none, asks to be
  /// notified of the next one and looks again.
  public func finalCheckForRequests() -> Bool {
    if unconsumedRequests > 0 { return true }
    shared.requestRequestEvent(at: requestConsumer &+ 1)
    return unconsumedRequests > 0
  }

  /// Asks to be notified when the front end has produced `count` requests beyond those
  /// consumed (how netback waits for room for a whole packet), and says whether they are
  /// already there.
  public func waitForRequests(_ count: UInt32) -> Bool {
    if unconsumedRequests >= count { return true }
    shared.requestRequestEvent(at: requestConsumer &+ count)
    return unconsumedRequests >= count
  }
}
