import NetCore
import Netfront
import NetfrontSimulation
import Testing

/// A connected netfront device and its simulated netback, without stacks: frames in and out
/// by hand.
final class NetfrontFixture {
  let xen = SimulatedXen()
  let netback: SimulatedNetback
  var device: NetfrontDevice<SimulatedXenPlatform>

  init(
    configuration: NetfrontConfiguration = .init(), mtu: Int? = nil, scatterGather: Bool = true,
    segmentation: Bool = true
  ) throws {
    netback = SimulatedNetback(
      xen: xen, mac: MACAddress(0x00, 0x16, 0x3E, 0, 0, 2), mtu: mtu, scatterGather: scatterGather,
      segmentation: segmentation)
    let backend = netback
    xen.onWait = { _ in backend.process() }
    device = try NetfrontDevice(
      platform: SimulatedXenPlatform(xen: xen, domain: XenDomainID(rawValue: 1)),
      configuration: configuration)
    try device.waitUntilConnected(timeout: .seconds(1), clock: HandshakeTests.tickingClock())
  }

  /// A frame whose bytes say which frame it is.
  static func frame(_ number: Int, length: Int) -> [UInt8] {
    (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ number &* 13 &+ ($0 >> 8)) }
  }

  /// Offers `frames` to the device; returns how many it left queued.
  func transmit(_ frames: [[UInt8]]) throws -> Int {
    var queue = FrameQueue(limit: 4096)
    for frame in frames { queue.append(PacketBuffer(copying: frame.span)) }
    try device.transmit(&queue, now: .zero)
    return queue.count
  }

  /// Reads frames from the device until it returns none.
  func receive(limit: Int = 64) throws -> [[UInt8]] {
    var frames: [[UInt8]] = []
    while true {
      let count = try device.receive(limit: limit, now: .zero) { frame, _ in
        var bytes: [UInt8] = []
        for index in 0..<frame.count { bytes.append(frame[index]) }
        frames.append(bytes)
      }
      if count == 0 { return frames }
    }
  }

  var counters: NetfrontCounters { device.counters }
}

/// Frames through the rings against the simulated netback, with each of its awkward switches:
/// a stalled (full) TX ring, TX responses out of order and with error statuses, frames over
/// several slots both ways, extra-info slots, RX errors, responses in bursts and in pieces,
/// batch limits, malformed responses, rings starting just below the 2³² wrap, and the
/// notifications ring.h's event indices call for.
struct DataPathTests {
  static let lengths = [60, 61, 1514, 300, 4096, 1000, 64, 1513]

  @Test func framesGoOutByteExactAndTheirBuffersComeBack() throws {
    let fixture = try NetfrontFixture()
    var expected: [[UInt8]] = []
    for batch in 0..<20 {
      let frames = (0..<50).map {
        NetfrontFixture.frame(batch * 50 + $0, length: Self.lengths[$0 % Self.lengths.count])
      }
      expected += frames
      #expect(try fixture.transmit(frames) == 0)
      fixture.netback.process()
    }
    #expect(fixture.netback.takeFramesFromFrontend() == expected)
    // Every buffer is back: with the back end stalled, a whole ring's worth fits at once.
    _ = try fixture.transmit([])
    fixture.netback.stallTransmit = true
    #expect(try fixture.transmit((0..<256).map { NetfrontFixture.frame($0, length: 60) }) == 0)
    let counters = fixture.counters
    #expect(counters.framesSent == 1256 && counters.transmitErrors == 0)
    #expect(counters.transmitMalformed == 0 && counters.transmitRingFull == 0)
  }

  @Test func aFullRingHoldsFramesBackUntilTheBackendCatchesUp() throws {
    let fixture = try NetfrontFixture()
    fixture.netback.stallTransmit = true
    let frames = (0..<300).map { NetfrontFixture.frame($0, length: 100) }
    var queue = FrameQueue(limit: 512)
    for frame in frames { queue.append(PacketBuffer(copying: frame.span)) }
    try fixture.device.transmit(&queue, now: .zero)
    #expect(queue.count == 44, "256 ring slots taken, the rest wait")
    try fixture.device.transmit(&queue, now: .zero)
    #expect(queue.count == 44)
    #expect(fixture.counters.transmitRingFull == 2)
    fixture.netback.process()
    #expect(fixture.netback.counters.transmitRequests == 0)
    fixture.netback.stallTransmit = false
    fixture.netback.process()
    try fixture.device.transmit(&queue, now: .zero)
    #expect(queue.isEmpty)
    fixture.netback.process()
    #expect(fixture.netback.takeFramesFromFrontend() == frames)
  }

  @Test func outOfOrderTransmitResponsesFreeTheRightBuffers() throws {
    let fixture = try NetfrontFixture()
    fixture.netback.reverseTransmitResponses = true
    var expected: [[UInt8]] = []
    for round in 0..<30 {
      let frames = (0..<37).map { NetfrontFixture.frame(round * 37 + $0, length: 60 + $0 * 40) }
      expected += frames
      #expect(try fixture.transmit(frames) == 0)
      fixture.netback.process()
    }
    #expect(fixture.netback.takeFramesFromFrontend() == expected)
    _ = try fixture.transmit([])
    #expect(fixture.counters.transmitMalformed == 0)
    fixture.netback.stallTransmit = true
    #expect(try fixture.transmit((0..<256).map { NetfrontFixture.frame($0, length: 60) }) == 0)
  }

  @Test func transmitErrorStatusesAreCountedAndTheBuffersReused() throws {
    let fixture = try NetfrontFixture()
    fixture.netback.transmitFailures = [.error, .dropped, .error]
    let frames = (0..<600).map { NetfrontFixture.frame($0, length: 200) }
    for start in stride(from: 0, to: 600, by: 100) {
      #expect(try fixture.transmit(Array(frames[start..<(start + 100)])) == 0)
      fixture.netback.process()
    }
    _ = try fixture.transmit([])
    #expect(fixture.counters.transmitErrors == 3)
    #expect(fixture.netback.takeFramesFromFrontend() == Array(frames.dropFirst(3)))
  }

  @Test func largeFramesGoOutInSeveralSlots() throws {
    let fixture = try NetfrontFixture(mtu: 9000)
    let mtu = fixture.device.mtu
    #expect(mtu == 9000)
    let frames = [9014, 4097, 8192, 60, 8193].enumerated().map {
      NetfrontFixture.frame($0.offset, length: $0.element)
    }
    #expect(try fixture.transmit(frames) == 0)
    fixture.netback.process()
    #expect(fixture.netback.takeFramesFromFrontend() == frames)
    #expect(fixture.netback.counters.transmitRequests == 3 + 2 + 2 + 1 + 3)
    #expect(fixture.counters.multiSlotFramesSent == 4)
  }

  @Test func largeFramesAreDroppedWhenTheBackendCannotTakeSeveralSlots() throws {
    let fixture = try NetfrontFixture(mtu: 9000, scatterGather: false)
    let frames = [NetfrontFixture.frame(0, length: 5000), NetfrontFixture.frame(1, length: 1500)]
    #expect(try fixture.transmit(frames) == 0)
    fixture.netback.process()
    #expect(fixture.netback.takeFramesFromFrontend() == [frames[1]])
    #expect(fixture.counters.transmitTooLarge == 1)
  }

  @Test func framesComeInByteExactAndTheBuffersArePostedAgain() throws {
    let fixture = try NetfrontFixture()
    var expected: [[UInt8]] = []
    var received: [[UInt8]] = []
    for batch in 0..<20 {
      for index in 0..<100 {
        let frame = NetfrontFixture.frame(
          batch * 100 + index, length: Self.lengths[index % Self.lengths.count])
        expected.append(frame)
        fixture.netback.deliver(frame)
      }
      fixture.netback.process()
      received += try fixture.receive()
    }
    #expect(received == expected)
    #expect(
      fixture.counters.framesReceived == 2000 && fixture.counters.multiSlotFramesReceived == 0)
    #expect(fixture.netback.counters.framesDroppedNoRoom == 0)
  }

  @Test(arguments: [(100, 0), (1000, 64), (4032, 64), (1, 0)])
  func framesSplitOverSeveralSlotsAreReassembled(slotSize: Int, offset: Int) throws {
    let fixture = try NetfrontFixture(mtu: 9000)
    fixture.netback.receiveSlotSize = slotSize
    fixture.netback.receiveOffset = offset
    let frames = [1514, 60, 9014, 4096, 200].enumerated().map {
      // A frame needs a slot per byte at the smallest size, and the ring has 256.
      NetfrontFixture.frame($0.offset, length: slotSize == 1 ? min($0.element, 200) : $0.element)
    }
    for frame in frames { fixture.netback.deliver(frame) }
    var received: [[UInt8]] = []
    for _ in 0..<20 {
      fixture.netback.process()
      received += try fixture.receive()
    }
    #expect(received == frames)
    #expect(
      fixture.counters.multiSlotFramesReceived
        == UInt64(frames.filter { $0.count > slotSize }.count))
  }

  @Test func extraInfoSlotsAreSkippedAndTheirBuffersPostedAgain() throws {
    let fixture = try NetfrontFixture()
    fixture.netback.receiveExtraInfo = true
    var expected: [[UInt8]] = []
    var received: [[UInt8]] = []
    for batch in 0..<12 {
      for index in 0..<50 {
        let frame = NetfrontFixture.frame(batch * 50 + index, length: 100 + index)
        expected.append(frame)
        fixture.netback.deliver(frame)
      }
      fixture.netback.process()
      received += try fixture.receive()
    }
    #expect(received == expected)
    #expect(fixture.counters.receiveExtraInfo == 600)
    #expect(fixture.counters.receiveMalformed == 0)
  }

  @Test func errorStatusesDropTheirFrame() throws {
    let fixture = try NetfrontFixture()
    fixture.netback.receiveErrorFrames = 2
    let frames = (0..<3).map { NetfrontFixture.frame($0, length: 80) }
    for frame in frames { fixture.netback.deliver(frame) }
    fixture.netback.process()
    #expect(try fixture.receive() == [frames[2]])
    #expect(fixture.counters.receiveErrors == 2 && fixture.counters.framesReceived == 1)
  }

  @Test func partialFramesWaitForTheirLastSlot() throws {
    let fixture = try NetfrontFixture()
    fixture.netback.receiveSlotSize = 100
    fixture.netback.maximumResponsesPerPush = 5
    let frames = [NetfrontFixture.frame(1, length: 1514), NetfrontFixture.frame(2, length: 250)]
    for frame in frames { fixture.netback.deliver(frame) }
    var received: [[UInt8]] = []
    var emptyReads = 0
    for _ in 0..<10 {
      fixture.netback.process()
      let batch = try fixture.receive()
      if batch.isEmpty { emptyReads += 1 }
      received += batch
    }
    #expect(received == frames)
    #expect(emptyReads >= 2, "the first frame's 16 slots arrived five at a time")
  }

  @Test func responsesHeldBackInBurstsArriveTogether() throws {
    let fixture = try NetfrontFixture()
    fixture.netback.responseBurst = 10
    let frames = (0..<25).map { NetfrontFixture.frame($0, length: 70) }
    for frame in frames { fixture.netback.deliver(frame) }
    fixture.netback.process()
    #expect(try fixture.receive() == Array(frames.prefix(20)))
    #expect(fixture.netback.unpublishedResponses == 5)
    fixture.netback.flushResponses()
    #expect(try fixture.receive() == Array(frames.suffix(5)))
  }

  @Test func aBatchLimitLeavesTheRestForAnImmediateSecondCall() throws {
    let fixture = try NetfrontFixture()
    let frames = (0..<100).map { NetfrontFixture.frame($0, length: 90) }
    for frame in frames { fixture.netback.deliver(frame) }
    fixture.netback.process()
    var received: [[UInt8]] = []
    let first = try fixture.device.receive(limit: 10, now: .zero) { frame, _ in
      received.append((0..<frame.count).map { frame[$0] })
    }
    #expect(first == 10)
    // No event will come for responses already there: the platform must poll again at once.
    let pollRequested = fixture.device.platform.pollRequested
    #expect(pollRequested)
    received += try fixture.receive(limit: 10)
    #expect(received == frames)
  }

  @Test func malformedResponsesAreDroppedAndCounted() throws {
    let fixture = try NetfrontFixture()
    var number = 0
    fixture.netback.receiveResponseMutator = { response in
      number += 1
      if number == 1 { response.id = 999 }  // no such request
      if number == 2 { response.offset = 4000 }  // runs off its page
    }
    let frames = (0..<3).map { NetfrontFixture.frame($0, length: 200) }
    for frame in frames { fixture.netback.deliver(frame) }
    fixture.netback.process()
    #expect(try fixture.receive() == [frames[2]])
    #expect(fixture.counters.receiveMalformed == 2)
  }

  /// The back end can still write a receive buffer after its response (the grant stays open,
  /// the buffer is posted again), so what the stack parses must be the driver's own copy: a
  /// header changed in the page while the stack looks at the frame must not reach the stack.
  @Test(arguments: [0, 64])
  func aBackendRewritingTheReceivedPageCannotChangeTheFrameBeingParsed(offset: Int) throws {
    let fixture = try NetfrontFixture()
    fixture.netback.receiveOffset = offset
    let frame = NetfrontFixture.frame(7, length: 1514)
    fixture.netback.deliver(frame)
    fixture.netback.process()
    let slot = try #require(fixture.netback.lastReceiveSlot)
    let guest = XenDomainID(rawValue: 1)
    // The EtherType (bytes 12 and 13), changed after the driver handed the frame over.
    let forged: [UInt8] = [frame[12] ^ 0xFF, frame[13] ^ 0xFF]
    var seenBefore: [UInt8] = []
    var seenAfter: [UInt8] = []
    var rewritten = false
    let count = try fixture.device.receive(limit: 64, now: .zero) { bytes, _ in
      seenBefore = (0..<bytes.count).map { bytes[$0] }
      rewritten = fixture.netback.rewriteLastReceivedFrame(at: 12, with: forged)
      seenAfter = (0..<bytes.count).map { bytes[$0] }
    }
    #expect(count == 1)
    #expect(rewritten, "the back end could write the page")
    var page: [UInt8] = []
    try fixture.xen.copy(
      fromGrant: slot.grant, of: guest, offset: slot.offset + 12, count: 2, by: .controlDomain,
      into: &page)
    #expect(page == forged, "the page holds the forged bytes")
    let deliveredIntact = seenBefore == frame
    let unchangedWhileParsed = seenAfter == frame
    #expect(deliveredIntact)
    #expect(Array(seenAfter[12..<14]) == Array(frame[12..<14]), "the EtherType changed")
    #expect(unchangedWhileParsed, "the frame being parsed changed under the stack")
  }

  @Test func aBackendClaimingTooManyResponsesBreaksTheProtocol() throws {
    let fixture = try NetfrontFixture()
    let reference = try #require(
      fixture.xen.read("/local/domain/1/device/vif/0/rx-ring-ref").flatMap(UInt32.init))
    let page = try fixture.xen.mapGrant(
      owner: XenDomainID(rawValue: 1), GrantReference(rawValue: reference), by: .controlDomain,
      writable: true)
    let ring = SharedRing(page: page, entrySize: NetifRing.rxEntrySize)
    _ = ring.pushResponses(upTo: ring.responseProducer &+ 300)
    #expect(throws: NetfrontError<SimulatedXenError>.protocolViolation(.tooManyReceiveResponses)) {
      _ = try fixture.receive()
    }
  }

  @Test func ringsStartingJustBelowTheWrapKeepWorking() throws {
    let fixture = try NetfrontFixture(
      configuration: NetfrontConfiguration(ringStartIndex: 0xFFFF_FF80))
    var sent: [[UInt8]] = []
    var toGuest: [[UInt8]] = []
    var received: [[UInt8]] = []
    for round in 0..<10 {
      let out = (0..<100).map { NetfrontFixture.frame(round * 100 + $0, length: 60 + $0) }
      sent += out
      #expect(try fixture.transmit(out) == 0)
      for index in 0..<100 {
        let frame = NetfrontFixture.frame(10_000 + round * 100 + index, length: 1514 - index)
        toGuest.append(frame)
        fixture.netback.deliver(frame)
      }
      fixture.netback.process()
      received += try fixture.receive()
    }
    fixture.netback.process()
    #expect(fixture.netback.takeFramesFromFrontend() == sent)
    #expect(received == toGuest)
  }

  @Test func notificationsFollowTheEventIndices() throws {
    let fixture = try NetfrontFixture()
    fixture.netback.process()
    let sent = fixture.counters.notificationsSent
    let events = fixture.netback.counters.eventsReceived
    // The back end asked to hear of the next request: the first push notifies it ...
    #expect(try fixture.transmit([NetfrontFixture.frame(0, length: 60)]) == 0)
    #expect(fixture.counters.notificationsSent == sent + 1)
    // ... and while it has not looked at the ring again, further pushes do not.
    #expect(try fixture.transmit([NetfrontFixture.frame(1, length: 60)]) == 0)
    #expect(try fixture.transmit([NetfrontFixture.frame(2, length: 60)]) == 0)
    #expect(fixture.counters.notificationsSent == sent + 1)
    #expect(fixture.counters.notificationsSuppressed >= 2)
    fixture.netback.process()
    #expect(fixture.netback.counters.eventsReceived == events + 1)
    #expect(fixture.netback.takeFramesFromFrontend().count == 3)
    // Having consumed everything it re-armed req_event: the next push notifies again.
    #expect(try fixture.transmit([NetfrontFixture.frame(3, length: 60)]) == 0)
    #expect(fixture.counters.notificationsSent == sent + 2)
    // Delivering to us notifies us; our receive takes the event.
    let before = fixture.counters.eventsReceived
    fixture.netback.deliver(NetfrontFixture.frame(4, length: 60))
    fixture.netback.process()
    #expect(try fixture.receive().count == 1)
    #expect(fixture.counters.eventsReceived > before)
  }
}
