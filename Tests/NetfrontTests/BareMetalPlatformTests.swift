import NetCore
import Netfront
import NetfrontSimulation
import Synchronization
import Testing
import XenBareMetal

/// Guest memory for a simulated bare-metal guest: a page-aligned region whose pages have frame
/// numbers from 0x100, its grant table, and its `shared_info` pending bitmap.
final class GuestMemory {
  static let firstFrame: UInt32 = 0x100
  let size: Int
  let base: UnsafeMutableRawPointer
  let grantTable: UnsafeMutableRawPointer
  let pending: UnsafeMutablePointer<UInt64>
  let grantEntries = 1024

  init(pages: Int) {
    size = pages * xenPageSize
    base = .allocate(byteCount: size, alignment: xenPageSize)
    base.initializeMemory(as: UInt8.self, repeating: 0xCC, count: size)
    grantTable = .allocate(byteCount: grantEntries * GrantTableV1.entrySize, alignment: xenPageSize)
    grantTable.initializeMemory(
      as: UInt8.self, repeating: 0, count: grantEntries * GrantTableV1.entrySize)
    pending = .allocate(capacity: 64)
    pending.initialize(repeating: 0, count: 64)
  }

  deinit {
    base.deallocate()
    grantTable.deallocate()
    pending.deallocate()
  }

  var table: GrantTableV1 { GrantTableV1(base: grantTable, entryCount: grantEntries) }

  func frame(of page: UnsafeMutableRawPointer) -> UInt32 {
    UInt32((UInt(bitPattern: page) - UInt(bitPattern: base)) / UInt(xenPageSize)) + Self.firstFrame
  }

  func page(_ frame: UInt32) -> UnsafeMutableRawPointer? {
    guard frame >= Self.firstFrame, Int(frame - Self.firstFrame) < size / xenPageSize else {
      return nil
    }
    return base + Int(frame - Self.firstFrame) * xenPageSize
  }

  /// Sets a port's bit in `evtchn_pending`, as Xen does.
  func raise(_ port: EventChannelPort) {
    let word = UnsafeMutableRawPointer(pending + Int(port.rawValue / 64)).assumingMemoryBound(
      to: Atomic<UInt64>.self)
    word.pointee.bitwiseOr(
      UInt64(1) << UInt64(port.rawValue % 64), ordering: .sequentiallyConsistent)
  }

  func isPending(_ port: EventChannelPort) -> Bool {
    pending[Int(port.rawValue / 64)] & (UInt64(1) << UInt64(port.rawValue % 64)) != 0
  }
}

/// xenstored at the other end of a guest's xenstore ring page, over a ``SimulatedXen``'s tree.
final class RingXenstored {
  let xen: SimulatedXen
  let domain: XenDomainID
  let memory: GuestMemory
  let page = UnsafeMutableRawPointer.allocate(byteCount: xenPageSize, alignment: xenPageSize)
  /// HVM_PARAM_STORE_EVTCHN (away from the simulated Xen's own port numbers).
  let port = EventChannelPort(rawValue: 1000)
  private var requests: [UInt8] = []
  private var watches: [(path: String, token: String)] = []
  private(set) var requestsServed = 0

  init(xen: SimulatedXen, domain: XenDomainID, memory: GuestMemory) {
    self.xen = xen
    self.domain = domain
    self.memory = memory
    page.initializeMemory(as: UInt8.self, repeating: 0, count: xenPageSize)
  }

  deinit { page.deallocate() }

  private func index(_ offset: Int) -> UInt32 { page.load(fromByteOffset: offset, as: UInt32.self) }
  private func setIndex(_ offset: Int, _ value: UInt32) {
    page.storeBytes(of: value, toByteOffset: offset, as: UInt32.self)
  }

  /// Takes the requests in the ring, answers them, and sends the watch events that fired.
  func serve() {
    var consumer = index(2048)
    let producer = index(2052)
    while consumer != producer {
      requests.append(page.load(fromByteOffset: Int(consumer & 1023), as: UInt8.self))
      consumer &+= 1
    }
    setIndex(2048, consumer)
    while let (message, length) = try! XenstoreMessage.parse(requests) {
      requests.removeFirst(length)
      respond(to: message)
      requestsServed += 1
    }
    for (path, token) in watches
    where xen.takeWatchEvent(XenstoreWatchToken(rawValue: UInt32(token)!), for: domain) {
      send(
        XenstoreMessage(
          type: .watchEvent, requestID: 0, payload: Array(path.utf8) + [0] + Array(token.utf8) + [0]
        ))
    }
  }

  private func respond(to request: XenstoreMessage) {
    let fields = request.payload.split(separator: 0, omittingEmptySubsequences: false).map {
      String(decoding: $0, as: UTF8.self)
    }
    var reply = XenstoreMessage(
      type: request.type, requestID: request.requestID, payload: Array("OK".utf8) + [0])
    switch request.type {
    case .read:
      if let value = xen.read(fields[0], for: domain) {
        reply.payload = Array(value.utf8)
      } else {
        reply = XenstoreMessage(
          type: .error, requestID: request.requestID, payload: Array("ENOENT".utf8) + [0])
      }
    case .write:
      let value = request.payload.drop { $0 != 0 }.dropFirst()
      xen.write(fields[0], String(decoding: value, as: UTF8.self), for: domain)
    case .watch:
      watches.append((xen.absolute(fields[0], for: domain), fields[1]))
      xen.watch(fields[0], token: XenstoreWatchToken(rawValue: UInt32(fields[1])!), for: domain)
    case .unwatch:
      watches.removeAll { $0.token == fields[1] }
      xen.unwatch(fields[0], token: XenstoreWatchToken(rawValue: UInt32(fields[1])!), for: domain)
    default:
      reply = XenstoreMessage(
        type: .error, requestID: request.requestID, payload: Array("EINVAL".utf8) + [0])
    }
    send(reply)
  }

  private func send(_ message: XenstoreMessage) {
    var producer = index(2060)
    for byte in message.encoded {
      page.storeBytes(of: byte, toByteOffset: 1024 + Int(producer & 1023), as: UInt8.self)
      producer &+= 1
    }
    setIndex(2060, producer)
    memory.raise(port)
  }
}

/// The hypercalls of a simulated bare-metal guest (domain 1).
struct SimulatedHypervisor: XenHypervisor {
  let xen: SimulatedXen
  let xenstored: RingXenstored
  let memory: GuestMemory
  let domain = XenDomainID(rawValue: 1)
  final class Clock { var nanoseconds: UInt64 = 1_000_000_000 }
  let clock = Clock()
  final class Record { var polls = 0 }
  let record = Record()

  mutating func allocateUnboundEventChannel(remote: XenDomainID) throws(XenHypercallError)
    -> EventChannelPort
  {
    xen.allocateUnbound(domain: domain, remote: remote)
  }

  mutating func sendEvent(_ port: EventChannelPort) throws(XenHypercallError) {
    if port == xenstored.port {
      xenstored.serve()
      return
    }
    do { try xen.send(domain: domain, port: port) } catch { throw XenHypercallError(code: -22) }
  }

  mutating func closeEventChannel(_ port: EventChannelPort) throws(XenHypercallError) {
    do { try xen.close(domain: domain, port: port) } catch { throw XenHypercallError(code: -22) }
  }

  mutating func poll(_ ports: [EventChannelPort], deadline: UInt64) throws(XenHypercallError) {
    record.polls += 1
    xen.onWait?(domain)
    xenstored.serve()
    if deadline != 0 { clock.nanoseconds = max(clock.nanoseconds, deadline) }
  }

  func systemTime() -> UInt64 {
    clock.nanoseconds += 1_000_000
    return clock.nanoseconds
  }

  func frameNumber(of page: UnsafeMutableRawPointer) -> UInt32 { memory.frame(of: page) }
}

/// The unikernel's platform: its page allocator, xenstore ring and event bits, and netfront
/// running on it against the simulated netback (grants read from the guest's own table).
struct BareMetalPlatformTests {
  @Test func pagesAreAlignedZeroedReusedAndRunOut() {
    let memory = GuestMemory(pages: 4)
    var pages = PageAllocator(start: memory.base + 100, byteCount: 4 * xenPageSize - 100)
    #expect(pages.available == 3, "the partial pages at both ends are left out")
    let first = pages.allocate()!
    #expect(UInt(bitPattern: first) % 4096 == 0 && first == memory.base + 4096)
    #expect(UnsafeRawBufferPointer(start: first, count: 4096).allSatisfy { $0 == 0 })
    first.storeBytes(of: 0xFF, as: UInt8.self)
    _ = pages.allocate()!
    _ = pages.allocate()!
    #expect(pages.allocate() == nil && pages.available == 0)
    pages.release(first)
    let again = pages.allocate()
    #expect(again == first && again!.load(as: UInt8.self) == 0)
  }

  @Test func theXenstoreRingWrapsAndKeepsOrder() {
    let page = TestPage()
    let ring = XenstoreRing(page: page.address)
    // Indices just below 2³²: data and indices wrap together.
    for offset in [2048, 2052, 2056, 2060] {
      page.address.storeBytes(of: UInt32(0xFFFF_FF00), toByteOffset: offset, as: UInt32.self)
    }
    let message = Array(0..<1500).map { UInt8(truncatingIfNeeded: $0) }
    #expect(ring.write(message[...]) == 1024, "the ring holds 1 KiB")
    #expect(ring.write(message[1024...]) == 0)
    // xenstored consumes 600 bytes; 600 more fit.
    page.address.storeBytes(of: UInt32(0xFFFF_FF00) &+ 600, toByteOffset: 2048, as: UInt32.self)
    #expect(ring.write(message[1024...]) == 476)
    #expect(page.address.load(fromByteOffset: 2052, as: UInt32.self) == UInt32(0xFFFF_FF00) &+ 1500)
    // The second write wrapped onto the slots of the first 476 bytes, which were consumed.
    for index in 476..<1500 {
      let slot = Int((UInt32(0xFFFF_FF00) &+ UInt32(index)) & 1023)
      #expect(page.address.load(fromByteOffset: slot, as: UInt8.self) == message[index])
    }
    // Responses: xenstored produced 10 bytes across the wrap of the index.
    for index in 0..<10 {
      page.address.storeBytes(
        of: UInt8(index + 1),
        toByteOffset: 1024 + Int((UInt32(0xFFFF_FFFB) &+ UInt32(index)) & 1023),
        as: UInt8.self)
    }
    page.address.storeBytes(of: UInt32(0xFFFF_FFFB), toByteOffset: 2056, as: UInt32.self)
    page.address.storeBytes(of: UInt32(0xFFFF_FFFB) &+ 10, toByteOffset: 2060, as: UInt32.self)
    var bytes: [UInt8] = []
    #expect(ring.read(into: &bytes) == 10 && bytes == Array(1...10))
    #expect(page.address.load(fromByteOffset: 2056, as: UInt32.self) == 5)
    #expect(ring.read(into: &bytes) == 0)
  }

  /// A simulated bare-metal guest (domain 1): its memory, Xen, and xenstored on its ring.
  final class Guest {
    let memory = GuestMemory(pages: 1200)
    let xen = SimulatedXen()
    let domain = XenDomainID(rawValue: 1)
    let xenstored: RingXenstored

    init() {
      let memory = self.memory
      let domain = self.domain
      xen.attachGuest(domain, grantTable: memory.table) { memory.page($0) }
      xenstored = RingXenstored(xen: xen, domain: domain, memory: memory)
      xen.onEvent = { target, port in if target == domain { memory.raise(port) } }
    }

    func platform() -> XenBareMetalPlatform<SimulatedHypervisor> {
      XenBareMetalPlatform(
        hypervisor: SimulatedHypervisor(xen: xen, xenstored: xenstored, memory: memory),
        grantTable: memory.table, pages: PageAllocator(start: memory.base, byteCount: memory.size),
        eventPending: memory.pending, xenstore: xenstored.page, xenstorePort: xenstored.port)
    }
  }

  @Test func eventsAreTheSharedInfoBits() throws {
    let guest = Guest()
    let (xen, memory) = (guest.xen, guest.memory)
    var platform = guest.platform()
    let port = try platform.allocateEventChannel(remote: .controlDomain)
    let back = try xen.bindInterdomain(
      domain: .controlDomain, remote: XenDomainID(rawValue: 1), remotePort: port)
    #expect(try !platform.takeEvent(port))
    try xen.send(domain: .controlDomain, port: back)
    #expect(memory.isPending(port))
    #expect(try platform.takeEvent(port))
    #expect(!memory.isPending(port))
    #expect(try !platform.takeEvent(port))
    // A port in the second word of the bitmap.
    memory.raise(EventChannelPort(rawValue: 70))
    #expect(memory.pending[1] == 1 << 6)
    #expect(try platform.takeEvent(EventChannelPort(rawValue: 70)))
    #expect(memory.pending[1] == 0)
  }

  @Test func xenstoreGoesThroughTheRing() throws {
    let guest = Guest()
    let (xen, xenstored) = (guest.xen, guest.xenstored)
    var platform = guest.platform()
    xen.write("/local/domain/1/name", "unikernel")
    #expect(try platform.read("name") == "unikernel")
    #expect(try platform.read("no/such/key") == nil)
    try platform.write("data/greeting", String(repeating: "x", count: 1500))
    #expect(
      xen.read("/local/domain/1/data/greeting")?.count == 1500, "a request larger than the ring")
    let token = XenstoreWatchToken(rawValue: 77)
    try platform.watch("data/greeting", token: token)
    #expect(try platform.takeWatchEvent(token), "xenstored fires a new watch once")
    #expect(try !platform.takeWatchEvent(token))
    xen.write("/local/domain/1/data/greeting", "hello")
    xenstored.serve()
    #expect(try platform.takeWatchEvent(token))
    try platform.unwatch("data/greeting", token: token)
    #expect(xen.watchCount(of: XenDomainID(rawValue: 1)) == 0)
    #expect(xenstored.requestsServed == 5, "read, read, write, watch, unwatch")
  }

  /// A watch event that comes in with a reply is read off the ring with it, which takes the
  /// pending bit that would have ended the next wait: that wait must poll without sleeping,
  /// and only that one. (The unikernel's close slept its whole 30 s timeout with the back end
  /// Closed: the back end's Closed came in with the reply to the read of its state.)
  @Test func aWatchEventReadWithAReplyEndsTheNextWait() throws {
    let guest = Guest()
    var platform = guest.platform()
    let clock = platform.hypervisor.clock
    let token = XenstoreWatchToken(rawValue: 78)
    try platform.watch("device/vif/0/state", token: token)
    #expect(try platform.takeWatchEvent(token), "the firing when the watch is set")
    try platform.wait(timeout: .seconds(1))
    var before = clock.nanoseconds
    try platform.wait(timeout: .seconds(1))
    #expect(clock.nanoseconds - before >= 1_000_000_000, "with nothing pending a wait sleeps")

    guest.xen.write("/local/domain/1/device/vif/0/state", "6")
    #expect(try platform.read("name") == nil, "the reply, and the watch event with it")
    #expect(!guest.memory.isPending(guest.xenstored.port), "the event's bit was taken")
    let polls = platform.hypervisor.record.polls
    before = clock.nanoseconds
    try platform.wait(timeout: .seconds(30))
    #expect(clock.nanoseconds - before < 1_000_000_000, "the wait did not sleep")
    #expect(platform.hypervisor.record.polls == polls + 1, "it was SCHEDOP_poll all the same")
    #expect(try platform.takeWatchEvent(token))
    before = clock.nanoseconds
    try platform.wait(timeout: .seconds(1))
    #expect(clock.nanoseconds - before >= 1_000_000_000, "the next wait sleeps again")
  }

  @Test func grantsAreEntriesInTheGuestsOwnTable() throws {
    let guest = Guest()
    let (xen, memory) = (guest.xen, guest.memory)
    var platform = guest.platform()
    let available = platform.pagesAvailable
    let page = try platform.grantPage(to: .controlDomain, readOnly: true)
    let entry = memory.table.load(page.reference)
    #expect(entry.flags == [.permitAccess, .readOnly] && entry.domain == .controlDomain)
    #expect(memory.page(entry.frame) == page.address)
    let mapped = try xen.mapGrant(
      owner: XenDomainID(rawValue: 1), page.reference, by: .controlDomain, writable: false)
    #expect(mapped == page.address)
    #expect(try !platform.endAccess(page), "still mapped")
    xen.unmapGrant(owner: XenDomainID(rawValue: 1), page.reference)
    #expect(try platform.endAccess(page))
    #expect(memory.table.load(page.reference).flags.isEmpty)
    #expect(platform.pagesAvailable == available)
  }

  @Test func netfrontRunsOnTheBareMetalPlatform() throws {
    let guest = Guest()
    let (xen, memory) = (guest.xen, guest.memory)
    let platform = guest.platform()
    let netback = SimulatedNetback(xen: xen, mac: MACAddress(0x00, 0x16, 0x3E, 0, 0, 9))
    xen.onWait = { _ in netback.process() }
    var device = try NetfrontDevice(
      platform: platform,
      configuration: NetfrontConfiguration(receiveBuffers: 64, transmitBuffers: 64))
    let available = device.platform.pagesAvailable
    try device.waitUntilConnected(timeout: .seconds(1), clock: HandshakeTests.tickingClock())
    let connected = device.isConnected
    #expect(connected && netback.state == .connected)
    // 64 + 64 buffers and 2 rings were granted from the guest's table and pages.
    let used = available - device.platform.pagesAvailable
    #expect(used == 130)
    var sent: [[UInt8]] = []
    var received: [[UInt8]] = []
    var expected: [[UInt8]] = []
    for round in 0..<5 {
      var queue = FrameQueue(limit: 256)
      for index in 0..<40 {
        let frame = NetfrontFixture.frame(round * 40 + index, length: 60 + index * 30)
        sent.append(frame)
        queue.append(PacketBuffer(copying: frame.span))
        let back = NetfrontFixture.frame(9000 + round * 40 + index, length: 1514 - index)
        expected.append(back)
        netback.deliver(back)
      }
      try device.transmit(&queue, now: .zero)
      #expect(queue.isEmpty)
      try device.platform.wait(timeout: .milliseconds(1))
      while true {
        let count = try device.receive(limit: 64, now: .zero) { frame, _ in
          received.append((0..<frame.count).map { frame[$0] })
        }
        if count == 0 { break }
      }
    }
    netback.process()
    #expect(netback.takeFramesFromFrontend() == sent)
    #expect(received == expected)
    try device.disconnect(clock: HandshakeTests.tickingClock())
    let state = device.state
    #expect(state == .closed && netback.state == .closed)
    #expect(device.platform.pagesAvailable == available, "every page given back")
    let entries = (GrantTableV1.reservedEntries..<memory.grantEntries).filter {
      !memory.table.load(GrantReference(rawValue: UInt32($0))).flags.isEmpty
    }
    #expect(entries.isEmpty, "every grant ended")
    let polls = device.platform.hypervisor.record.polls
    #expect(polls > 0, "waiting is SCHEDOP_poll")
  }
}
