import CXenABI
import NetCore
import Netfront
import NetfrontSimulation
import Testing

/// A 4 KiB page-aligned page for ring tests.
final class TestPage {
  let address = UnsafeMutableRawPointer.allocate(byteCount: xenPageSize, alignment: xenPageSize)

  init(fill: UInt8 = 0) {
    address.initializeMemory(as: UInt8.self, repeating: fill, count: xenPageSize)
  }

  deinit { address.deallocate() }

  var bytes: [UInt8] { Array(UnsafeRawBufferPointer(start: address, count: xenPageSize)) }

  func copy(from other: TestPage) {
    address.copyMemory(from: other.address, byteCount: xenPageSize)
  }

  /// Sets the four indices: req_prod, req_event, rsp_prod, rsp_event.
  func setIndices(_ values: (UInt32, UInt32, UInt32, UInt32)) {
    address.storeBytes(of: values.0, toByteOffset: 0, as: UInt32.self)
    address.storeBytes(of: values.1, toByteOffset: 4, as: UInt32.self)
    address.storeBytes(of: values.2, toByteOffset: 8, as: UInt32.self)
    address.storeBytes(of: values.3, toByteOffset: 12, as: UInt32.self)
  }

  var indices: [UInt32] {
    (0..<4).map { address.load(fromByteOffset: $0 * 4, as: UInt32.self) }
  }
}

/// The ring.h index arithmetic and notification rules, Swift against the C macros on identical
/// pages: sizes, entry addresses, initialisation, `RING_PUSH_*_AND_CHECK_NOTIFY`,
/// `RING_FINAL_CHECK_FOR_*`, `RING_FREE_REQUESTS`, across the 2³² wrap of the indices.
struct SharedRingTests {
  /// Indices around the places where arithmetic goes wrong: 0, the ring size, 2³¹, 2³².
  static let interestingIndices: [UInt32] = [
    0, 1, 255, 256, 257, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FF00, 0xFFFF_FFFE, 0xFFFF_FFFF,
  ]

  @Test func ringSizesMatchTheMacros() {
    #expect(NetifRing.txRingSize == netstack_xen_c_tx_ring_size())
    #expect(NetifRing.rxRingSize == netstack_xen_c_rx_ring_size())
    #expect(NetifRing.txRingSize == 256 && NetifRing.rxRingSize == 256)
    // __RD32 rounds down to a power of two.
    #expect(SharedRingLayout.entryCount(entrySize: 12) == 256)
    #expect(SharedRingLayout.entryCount(entrySize: 8) == 256)
    #expect(SharedRingLayout.entryCount(entrySize: 16) == 128)
    #expect(SharedRingLayout.entryCount(entrySize: 112) == 32)
    #expect(SharedRingLayout.entryCount(entrySize: 4032) == 1)
  }

  @Test func initializationMatchesSharedRingInit() {
    let swift = TestPage(fill: 0xA5)
    let c = TestPage(fill: 0xA5)
    SharedRing(page: swift.address, entrySize: NetifRing.txEntrySize).initialize()
    netstack_xen_c_shared_ring_init(c.address)
    #expect(swift.bytes == c.bytes)
    #expect(swift.indices == [0, 1, 0, 1])
  }

  @Test(arguments: interestingIndices)
  func entriesAreWhereRingGetRequestPutsThem(index: UInt32) {
    let page = TestPage()
    let ring = SharedRing(page: page.address, entrySize: NetifRing.txEntrySize)
    #expect(ring.entry(index) == netstack_xen_c_tx_request_entry(page.address, index))
    #expect(ring.entry(index &+ 256) == ring.entry(index))
  }

  /// Compares the Swift and C push on the same page state; returns the notify decision.
  static func comparePush(
    producerBefore old: UInt32, event: UInt32, producerAfter new: UInt32, requests: Bool
  ) -> Bool {
    let swift = TestPage()
    let c = TestPage()
    if requests {
      swift.setIndices((old, event, 0, 0))
    } else {
      swift.setIndices((0, 0, old, event))
    }
    c.copy(from: swift)
    let ring = SharedRing(page: swift.address, entrySize: NetifRing.txEntrySize)
    let notify = requests ? ring.pushRequests(upTo: new) : ring.pushResponses(upTo: new)
    let cNotify =
      requests
      ? netstack_xen_c_push_requests(c.address, new) : netstack_xen_c_push_responses(c.address, new)
    #expect(notify == (cNotify != 0), "old \(old) event \(event) new \(new)")
    #expect(swift.bytes == c.bytes)
    return notify
  }

  @Test(arguments: interestingIndices, [false, true])
  func notificationIsNeededExactlyWhenTheEventIsAmongTheNewEntries(old: UInt32, requests: Bool) {
    // The other end asked to hear of the entry after `old`: pushing it needs a notification.
    #expect(
      Self.comparePush(
        producerBefore: old, event: old &+ 1, producerAfter: old &+ 1, requests: requests))
    #expect(
      Self.comparePush(
        producerBefore: old, event: old &+ 1, producerAfter: old &+ 5, requests: requests))
    #expect(
      Self.comparePush(
        producerBefore: old, event: old &+ 5, producerAfter: old &+ 5, requests: requests))
    // It asked for a later one: no notification yet.
    #expect(
      !Self.comparePush(
        producerBefore: old, event: old &+ 6, producerAfter: old &+ 5, requests: requests))
    // It was already told (the event index is at or before the old producer).
    #expect(
      !Self.comparePush(
        producerBefore: old, event: old, producerAfter: old &+ 5, requests: requests))
    #expect(
      !Self.comparePush(
        producerBefore: old, event: old &- 10, producerAfter: old &+ 5, requests: requests))
    // Nothing new: nothing to say.
    #expect(
      !Self.comparePush(
        producerBefore: old, event: old &+ 1, producerAfter: old, requests: requests))
  }

  @Test(arguments: 1...20)
  func pushAgreesWithTheMacroOnRandomStates(seed: Int) {
    var random = PseudoRandomGenerator(seed: UInt64(seed))
    for _ in 0..<500 {
      let old =
        Self.interestingIndices[Int(random.next(below: UInt64(Self.interestingIndices.count)))]
        &+ UInt32(truncatingIfNeeded: random.next(below: 64)) &- 32
      let new = old &+ UInt32(random.next(below: 257))
      let event = old &+ UInt32(truncatingIfNeeded: random.next(below: 600)) &- 300
      _ = Self.comparePush(
        producerBefore: old, event: event, producerAfter: new, requests: random.next(below: 2) == 0)
    }
  }

  @Test(arguments: interestingIndices)
  func finalCheckForResponsesArmsTheEventAndLooksAgain(consumer: UInt32) {
    for produced in [consumer, consumer &+ 1, consumer &+ 256] {
      let swift = TestPage()
      swift.setIndices((consumer &+ 300, 7, produced, 9))
      let c = TestPage()
      c.copy(from: swift)
      var ring = FrontRing(
        shared: SharedRing(page: swift.address, entrySize: NetifRing.txEntrySize), at: consumer,
        initializing: false)
      let work = ring.finalCheckForResponses()
      let cWork = netstack_xen_c_final_check_for_responses(c.address, consumer)
      #expect(work == (cWork != 0))
      #expect(work == (produced != consumer))
      #expect(swift.bytes == c.bytes)
      if !work { #expect(swift.indices[3] == consumer &+ 1) }
      ring.consumeResponse()
    }
  }

  @Test(arguments: interestingIndices)
  func finalCheckForRequestsAgreesWithTheMacro(consumer: UInt32) {
    for produced in [consumer, consumer &+ 3, consumer &+ 256] {
      // A back ring attached at rsp_prod == consumer (as netback attaches).
      let page = TestPage()
      page.setIndices((produced, 5, consumer, 6))
      let c = TestPage()
      c.copy(from: page)
      let ring = BackRing(shared: SharedRing(page: page.address, entrySize: NetifRing.txEntrySize))
      let work = ring.finalCheckForRequests()
      let cWork = netstack_xen_c_final_check_for_requests(c.address, consumer, consumer)
      #expect(work == (cWork != 0))
      #expect(page.bytes == c.bytes)
    }
  }

  @Test(arguments: interestingIndices)
  func aFrontRingIsFullAfterSizeRequestsAndEmptiesAsResponsesArrive(start: UInt32) {
    let page = TestPage()
    var front = FrontRing(
      shared: SharedRing(page: page.address, entrySize: NetifRing.txEntrySize), at: start,
      initializing: true)
    var back = BackRing(shared: front.shared)
    #expect(front.freeRequests == 256 && !front.isFull)
    #expect(front.unconsumedResponses == 0 && back.unconsumedRequests == 0)
    for id in 0..<256 {
      NetifTXRequest(
        grant: GrantReference(rawValue: 8), offset: 0, flags: [], id: UInt16(id), size: 60
      )
      .store(to: front.nextRequestEntry)
      front.produceRequest()
      #expect(
        front.freeRequests
          == netstack_xen_c_free_requests(
            page.address, front.requestProducer, front.responseConsumer))
    }
    #expect(front.isFull && front.freeRequests == 0)
    #expect(back.unconsumedRequests == 0, "not pushed yet")
    _ = front.pushRequests()
    #expect(back.unconsumedRequests == 256)
    // The back end answers half; the front has room for that many again.
    for _ in 0..<128 {
      let request = NetifTXRequest(loadingFrom: back.requestEntry())
      back.consumeRequest()
      NetifTXResponse(id: request.id, status: .okay).store(to: back.nextResponseEntry)
      back.produceResponse()
    }
    #expect(back.unconsumedRequests == 128)
    _ = back.pushResponses()
    #expect(front.unconsumedResponses == 128 && front.isFull)
    for expected in 0..<128 {
      #expect(NetifTXResponse(loadingFrom: front.nextResponseEntry).id == UInt16(expected))
      front.consumeResponse()
    }
    #expect(front.freeRequests == 128)
    #expect(!front.responseProducerOverflows(front.shared.responseProducer))
    #expect(front.responseProducerOverflows(front.responseConsumer &+ 257))
  }

  /// 100,000 requests and responses through one ring pair starting just below 2³²: every id
  /// comes back once, in order, and the indices end up past the wrap.
  @Test func indicesWrapPastTwoToTheThirtyTwo() {
    let page = TestPage()
    let start: UInt32 = 0xFFFF_F000
    var front = FrontRing(
      shared: SharedRing(page: page.address, entrySize: NetifRing.rxEntrySize), at: start,
      initializing: true)
    var back = BackRing(shared: front.shared)
    var sent: UInt32 = 0
    var received: UInt32 = 0
    var notifications = 0
    var pushes = 0
    let total: UInt32 = 100_000
    while received < total {
      let burst = min(front.freeRequests, total - sent, 37)
      for _ in 0..<burst {
        NetifRXRequest(id: UInt16(truncatingIfNeeded: sent), grant: GrantReference(rawValue: sent))
          .store(to: front.nextRequestEntry)
        front.produceRequest()
        sent += 1
      }
      if burst > 0 {
        pushes += 1
        if front.pushRequests() { notifications += 1 }
      }
      while back.unconsumedRequests > 0 {
        let request = NetifRXRequest(loadingFrom: back.requestEntry())
        back.consumeRequest()
        NetifRXResponse(
          id: request.id, offset: 0, flags: [], status: Int16(request.grant.rawValue % 1500)
        )
        .store(to: back.nextResponseEntry)
        back.produceResponse()
      }
      _ = back.pushResponses()
      _ = back.finalCheckForRequests()
      while front.finalCheckForResponses() {
        let response = NetifRXResponse(loadingFrom: front.nextResponseEntry)
        #expect(response.id == UInt16(truncatingIfNeeded: received))
        #expect(response.status == Int16(received % 1500))
        front.consumeResponse()
        received += 1
      }
    }
    #expect(front.responseConsumer == start &+ total)
    #expect(front.responseConsumer < start, "the indices wrapped")
    // The back end re-armed req_event after each batch, so every push had to notify it.
    #expect(notifications == pushes && pushes >= Int(total / 37))
  }
}
