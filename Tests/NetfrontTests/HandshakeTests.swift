import NetCore
import Netfront
import NetfrontSimulation
import Testing

/// The xenbus handshake of xen/io/xenbus.h from the front end's side: what netfront writes
/// and which state it takes for every sequence of back-end states, against a scripted back
/// end (states written straight into xenstore) and against the simulated netback.
struct HandshakeTests {
  static let guest = XenDomainID(rawValue: 1)
  static let front = "/local/domain/1/device/vif/0"
  static let back = "/local/domain/0/backend/vif/1/0"
  static let small = NetfrontConfiguration(receiveBuffers: 4, transmitBuffers: 4)

  /// What the toolstack writes before the guest looks (libxl's deviceVif keys).
  static func toolstack(_ xen: SimulatedXen, backendState: XenbusState?) {
    xen.write(front + "/backend", back)
    xen.write(front + "/backend-id", "0")
    xen.write(front + "/mac", "00:16:3e:00:00:02")
    xen.write(front + "/state", "1")
    backendFeatures(xen)
    if let backendState { xen.write(back + "/state", backendState.xenstoreValue) }
  }

  static func backendFeatures(_ xen: SimulatedXen) {
    xen.write(back + "/feature-rx-copy", "1")
    xen.write(back + "/feature-sg", "1")
  }

  static func platform(_ xen: SimulatedXen) -> SimulatedXenPlatform {
    SimulatedXenPlatform(xen: xen, domain: guest)
  }

  /// A back-end step: a state written, or the back end's directory removed (nil).
  static let steps: [XenbusState?] = [
    .initialising, .initWait, .initialised, .connected, .closing, .closed, .unknown,
    .reconfiguring, nil,
  ]

  /// What the front end should do, as a model: connect on InitWait while Initialising (the
  /// Closing and Closed a resetting back end passes through are waited out); close (Closing,
  /// Closed) when Connected and the back end goes Closing, Closed, Unknown or away; nothing
  /// else.
  static func expectedFrontend(after sequence: [XenbusState?]) -> (
    state: XenbusState, closedBy: XenbusState?
  ) {
    var state = XenbusState.initialising
    for step in sequence {
      let backend = step ?? .unknown
      switch state {
      case .initialising where backend == .initWait:
        state = .connected
      case .connected where [.closing, .closed, .unknown].contains(backend):
        return (.closed, backend)
      default:
        break
      }
    }
    return (state, nil)
  }

  /// Every sequence of up to four back-end steps, each followed by a poll.
  static let sequences: [[XenbusState?]] = {
    var all: [[XenbusState?]] = [[]]
    var frontier: [[XenbusState?]] = [[]]
    for _ in 0..<4 {
      frontier = frontier.flatMap { prefix in steps.map { prefix + [$0] } }
      all += frontier
    }
    return all
  }()

  @Test(arguments: 0..<9)
  func everyBackendStateSequence(firstStep: Int) throws {
    // Split by first step so that the sequences run in parallel.
    for sequence in Self.sequences where !sequence.isEmpty && sequence[0] == Self.steps[firstStep] {
      try Self.run(sequence)
    }
  }

  static func run(_ sequence: [XenbusState?]) throws {
    let xen = SimulatedXen()
    toolstack(xen, backendState: .initialising)
    var device = try NetfrontDevice(platform: platform(xen), configuration: small)
    try device.poll()
    let initialState = device.state
    #expect(initialState == .initialising)
    var closedBy: XenbusState? = nil
    for step in sequence {
      if let step {
        // A back end that comes back after its directory was removed writes its features again.
        if xen.read(back + "/feature-rx-copy") == nil { backendFeatures(xen) }
        xen.write(back + "/state", step.xenstoreValue)
      } else {
        xen.remove(back)
      }
      do {
        try device.poll()
      } catch let error {
        guard case .backendClosed(let state) = error else { throw error }
        #expect(closedBy == nil || closedBy == state, "\(sequence)")
        closedBy = state
      }
    }
    let expected = expectedFrontend(after: sequence)
    let label = "\(sequence.map { $0?.description ?? "removed" })"
    let deviceState = device.state
    #expect(deviceState == expected.state, "\(label)")
    #expect(closedBy == expected.closedBy, "\(label)")
    let written = xen.history(of: front + "/state").dropFirst()
    switch expected.state {
    case .initialising:
      #expect(written.isEmpty, "\(label)")
      #expect(xen.activeGrants(of: guest) == 0 && xen.openPorts(of: guest) == 0, "\(label)")
      #expect(xen.read(front + "/tx-ring-ref") == nil, "\(label)")
    case .connected:
      #expect(Array(written) == ["4"], "\(label)")
      #expect(xen.activeGrants(of: guest) == 2 + 4 + 4 && xen.openPorts(of: guest) == 1, "\(label)")
      let deviceIsConnected = device.isConnected
      #expect(deviceIsConnected == (sequence.last == .connected), "\(label)")
    default:
      // Closing, then Closed, each written once; every page and the port given back.
      #expect(Array(written) == ["4", "5", "6"], "\(label)")
      #expect(xen.activeGrants(of: guest) == 0 && xen.openPorts(of: guest) == 0, "\(label)")
      let deviceIsConnected = device.isConnected
      #expect(!deviceIsConnected)
    }
  }

  @Test func connectingWritesTheKeysNetbackReads() throws {
    let xen = SimulatedXen()
    let netback = SimulatedNetback(xen: xen, mac: MACAddress(0x00, 0x16, 0x3E, 0x12, 0x34, 0x56))
    xen.onWait = { _ in netback.process() }
    var device = try NetfrontDevice(platform: Self.platform(xen))
    let deviceHardwareAddress = device.hardwareAddress
    #expect(deviceHardwareAddress == MACAddress(0x00, 0x16, 0x3E, 0x12, 0x34, 0x56))
    let deviceMtu = device.mtu
    #expect(deviceMtu == 1500)
    let deviceBackendPath = device.backendPath
    let deviceBackendDomain = device.backendDomain
    #expect(deviceBackendPath == Self.back && deviceBackendDomain == .controlDomain)
    try device.waitUntilConnected(timeout: .seconds(1), clock: Self.tickingClock())
    let deviceIsConnected = device.isConnected
    let deviceState = device.state
    #expect(deviceIsConnected && deviceState == .connected && netback.state == .connected)
    let keys = netback.frontendKeys
    #expect(keys["request-rx-copy"] == "1")
    #expect(keys["feature-rx-notify"] == "1")
    #expect(keys["feature-sg"] == "1")
    // As Linux's netfront: large TCP segments and blank checksums welcome; one queue.
    #expect(keys["feature-no-csum-offload"] == nil)
    #expect(keys["feature-gso-tcpv4"] == "1" && keys["feature-gso-tcpv6"] == "1")
    #expect(keys["feature-ipv6-csum-offload"] == "1" && keys["multi-queue-num-queues"] == nil)
    #expect(
      keys["tx-ring-ref"] != nil && keys["rx-ring-ref"] != nil && keys["event-channel"] != nil)
    let deviceBackendFeaturesReceiveCopy = device.backendFeatures.receiveCopy
    let deviceBackendFeaturesScatterGather = device.backendFeatures.scatterGather
    #expect(deviceBackendFeaturesReceiveCopy && deviceBackendFeaturesScatterGather)
    let deviceBackendFeaturesMaximumQueues = device.backendFeatures.maximumQueues
    #expect(deviceBackendFeaturesMaximumQueues == 2)
    // Rings mapped by the back end: 2 grants marked in use; 256 + 256 buffers + 2 rings granted.
    #expect(xen.mappedGrants(of: Self.guest) == 2)
    #expect(xen.activeGrants(of: Self.guest) == 514)
    #expect(xen.history(of: Self.front + "/state") == ["1", "4"])
    #expect(xen.history(of: Self.back + "/state") == ["1", "2", "4"])
  }

  /// A clock that moves 1 ms each time it is read, for the waits of a simulation.
  static func tickingClock() -> () -> Instant {
    var now = Instant(nanoseconds: 0)
    return {
      now = now + .milliseconds(1)
      return now
    }
  }

  static func connected(
    _ xen: SimulatedXen, _ netback: SimulatedNetback, configuration: NetfrontConfiguration = small
  ) throws -> NetfrontDevice<SimulatedXenPlatform> {
    xen.onWait = { _ in netback.process() }
    var device = try NetfrontDevice(platform: platform(xen), configuration: configuration)
    try device.waitUntilConnected(timeout: .seconds(1), clock: tickingClock())
    return device
  }

  @Test func theBackendClosingClosesTheFrontendAndFreesEverything() throws {
    let xen = SimulatedXen()
    let netback = SimulatedNetback(xen: xen, mac: MACAddress(2, 0, 0, 0, 0, 1))
    var device = try Self.connected(xen, netback)
    netback.close()
    #expect(netback.state == .closing && xen.mappedGrants(of: Self.guest) == 0)
    #expect(throws: NetfrontError<SimulatedXenError>.self) { try device.poll() }
    let deviceState = device.state
    #expect(deviceState == .closed)
    #expect(xen.history(of: Self.front + "/state") == ["1", "4", "5", "6"])
    #expect(xen.activeGrants(of: Self.guest) == 0 && xen.openPorts(of: Self.guest) == 0)
    // The back end sees our Closed and closes too.
    netback.process()
    #expect(netback.state == .closed)
    var queue = FrameQueue(limit: 4)
    let frame = PacketBuffer(capacity: 300)
    frame.append(60)
    queue.append(frame)
    #expect(throws: NetfrontError<SimulatedXenError>.self) {
      _ = try device.receive(limit: 10, now: .zero) { _, _ in }
    }
    try device.transmit(&queue, now: .zero)
    #expect(queue.count == 1, "nothing is sent once closed")
  }

  @Test func theBackendVanishingClosesTheFrontend() throws {
    let xen = SimulatedXen()
    let netback = SimulatedNetback(xen: xen, mac: MACAddress(2, 0, 0, 0, 0, 1))
    var device = try Self.connected(xen, netback)
    netback.vanish()
    do {
      try device.poll()
      Issue.record("poll succeeded after the back end vanished")
    } catch let error {
      guard case .backendClosed(let state) = error else { throw error }
      #expect(state == .unknown)
    }
    let deviceState = device.state
    #expect(deviceState == .closed)
    #expect(xen.activeGrants(of: Self.guest) == 0 && xen.openPorts(of: Self.guest) == 0)
  }

  @Test func disconnectingWaitsForTheBackendAndAnotherDeviceReconnects() throws {
    let xen = SimulatedXen()
    let netback = SimulatedNetback(xen: xen, mac: MACAddress(2, 0, 0, 0, 0, 1))
    do {
      var device = try Self.connected(xen, netback)
      try device.disconnect(clock: Self.tickingClock())
      let deviceState = device.state
      let devicePagesAwaitingRelease = device.pagesAwaitingRelease
      #expect(deviceState == .closed && devicePagesAwaitingRelease == 0)
      #expect(xen.activeGrants(of: Self.guest) == 0 && xen.openPorts(of: Self.guest) == 0)
      #expect(xen.watchCount(of: Self.guest) == 0)
      netback.process()
      #expect(netback.state == .closed)
      #expect(xen.history(of: Self.back + "/state") == ["1", "2", "4", "5", "6"])
    }
    // A new user of the interface (netstackd started again) resets it through Initialising.
    var again = try Self.connected(xen, netback)
    let againIsConnected = again.isConnected
    #expect(againIsConnected && netback.counters.connects == 2)
    #expect(xen.history(of: Self.front + "/state") == ["1", "4", "5", "6", "1", "4"])
    try again.disconnect(clock: Self.tickingClock())
  }

  /// A back end on a loaded, emulated machine: it takes 12 s to answer each of our moves
  /// (Linux's netback in a dom0 that TCG runs on a busy core took more than 5 s). Time moves
  /// 100 ms at each of our waits. The close still ends with both ends Closed, in Linux's
  /// order: our Closing, the back end's Closing, our Closed, the back end's Closed.
  @Test func closingWaitsForASlowBackendAtEachStep() throws {
    let xen = SimulatedXen()
    let netback = SimulatedNetback(xen: xen, mac: MACAddress(2, 0, 0, 0, 0, 1))
    var device = try Self.connected(xen, netback)
    var now = Instant(nanoseconds: 0)
    var frontSeen = xen.read(Self.front + "/state")
    var answerAt: Instant? = nil
    xen.onWait = { _ in
      now = now + .milliseconds(100)
      let front = xen.read(Self.front + "/state")
      if front != frontSeen {
        frontSeen = front
        answerAt = now + .seconds(12)
      }
      if let due = answerAt, now >= due {
        answerAt = nil
        netback.process()
      }
    }
    defer { xen.onWait = nil }
    let journalStart = xen.journal.count
    try device.disconnect { now }
    let state = device.state
    let backendState = device.backendState
    #expect(state == .closed && backendState == .closed && netback.state == .closed)
    #expect(now >= Instant(nanoseconds: 24_000_000_000), "both steps waited 12 s")
    let states = xen.journal.dropFirst(journalStart).filter { $0.path.hasSuffix("/state") }
    #expect(
      states.map { "\($0.path.hasPrefix(Self.front) ? "front" : "back") \($0.value ?? "-")" }
        == ["front 5", "back 5", "front 6", "back 6"])
    #expect(xen.activeGrants(of: Self.guest) == 0 && xen.openPorts(of: Self.guest) == 0)
    #expect(xen.watchCount(of: Self.guest) == 0)
  }

  /// A back end that never answers holds the close up for two close timeouts and the 2 s
  /// page wait at most; our end is Closed all the same, and the pages it still maps are
  /// kept, not freed under it.
  @Test func aBackendThatNeverAnswersCostsTwoCloseTimeoutsAtMost() throws {
    let xen = SimulatedXen()
    let netback = SimulatedNetback(xen: xen, mac: MACAddress(2, 0, 0, 0, 0, 1))
    var configuration = Self.small
    configuration.closeTimeout = .seconds(2)
    var device = try Self.connected(xen, netback, configuration: configuration)
    var now = Instant(nanoseconds: 0)
    xen.onWait = { _ in now = now + .milliseconds(100) }
    defer { xen.onWait = nil }
    try device.disconnect { now }
    let state = device.state
    let pagesAwaitingRelease = device.pagesAwaitingRelease
    #expect(state == .closed && netback.state == .connected)
    #expect(now >= Instant(nanoseconds: 6_000_000_000))
    #expect(now <= Instant(nanoseconds: 6_300_000_000), "no wait past the timeouts")
    #expect(pagesAwaitingRelease == 2, "the ring pages the back end still maps")
    #expect(xen.history(of: Self.front + "/state").suffix(2) == ["5", "6"])
    #expect(xen.watchCount(of: Self.guest) == 0 && xen.openPorts(of: Self.guest) == 0)
  }

  /// No event says when the back end lets go of a page it mapped (netback holds a sent
  /// frame's page until dom0 is done with it): the close looks again every 100 ms and ends
  /// soon after the page is free, not at the end of its 2 s wait. Once the back end is
  /// Closed nothing wakes the front end, so each of its waits lasts its whole timeout.
  @Test func aPageStillMappedAtCloseIsEndedOnceTheBackendLetsGo() throws {
    let xen = SimulatedXen()
    let netback = SimulatedNetback(xen: xen, mac: MACAddress(2, 0, 0, 0, 0, 1))
    var device = try Self.connected(xen, netback)
    let reference = GrantReference(
      rawValue: try #require(xen.read(Self.front + "/tx-ring-ref").flatMap(UInt32.init)))
    _ = try xen.mapGrant(owner: Self.guest, reference, by: .controlDomain, writable: true)
    var now = Instant(nanoseconds: 0)
    var closedAt: Instant? = nil
    var letGo: Instant? = nil
    xen.onWait = { _ in
      let timeout = xen.waitTimeout ?? .seconds(60)
      netback.process()
      guard let closed = closedAt else {
        // The handshake: the back end's writes wake the front end at once.
        if netback.state == .closed { closedAt = now }
        now = now + .milliseconds(10)
        return
      }
      // The back end lets go of the page 500 ms after it closed, during some wait.
      let end = now + timeout
      if letGo == nil && end >= closed + .milliseconds(500) {
        xen.unmapGrant(owner: Self.guest, reference)
        letGo = closed + .milliseconds(500)
      }
      now = end
    }
    defer { xen.onWait = nil }
    try device.disconnect { now }
    let pagesAwaitingRelease = device.pagesAwaitingRelease
    let freed = try #require(letGo)
    #expect(pagesAwaitingRelease == 0 && xen.activeGrants(of: Self.guest) == 0)
    #expect(now - freed <= .milliseconds(100), "ended within one retry of the unmap")
  }

  @Test func aDeviceLeftConnectedByACrashedUserIsReset() throws {
    let xen = SimulatedXen()
    let netback = SimulatedNetback(xen: xen, mac: MACAddress(2, 0, 0, 0, 0, 1))
    // A crash: the device is never dropped, nobody says goodbye, the back end stays
    // Connected to rings nobody serves any more.
    let crashed = UnsafeMutablePointer<NetfrontDevice<SimulatedXenPlatform>>.allocate(capacity: 1)
    crashed.initialize(to: try Self.connected(xen, netback))
    #expect(netback.state == .connected)
    let device = try Self.connected(xen, netback)
    let deviceIsConnected = device.isConnected
    #expect(deviceIsConnected)
    #expect(xen.history(of: Self.back + "/state").suffix(4) == ["5", "6", "2", "4"])
  }

  @Test func droppingTheDeviceClosesItsEnd() throws {
    let xen = SimulatedXen()
    let netback = SimulatedNetback(xen: xen, mac: MACAddress(2, 0, 0, 0, 0, 1))
    do {
      let device = try Self.connected(xen, netback)
      let deviceIsConnected = device.isConnected
      #expect(deviceIsConnected)
    }
    #expect(xen.history(of: Self.front + "/state").suffix(2) == ["5", "6"])
    #expect(xen.watchCount(of: Self.guest) == 0 && xen.openPorts(of: Self.guest) == 0)
    // The ring pages were still mapped when the device went: ending their grants failed, and
    // the platform keeps them (a real guest would leak them; gntalloc frees them later).
    #expect(xen.activeGrants(of: Self.guest) == 2)
  }

  @Test func aBackendThatDoesNotCopyIsRefused() throws {
    let xen = SimulatedXen()
    let netback = SimulatedNetback(xen: xen, mac: MACAddress(2, 0, 0, 0, 0, 1), receiveCopy: false)
    xen.onWait = { _ in netback.process() }
    var device = try NetfrontDevice(platform: Self.platform(xen), configuration: Self.small)
    #expect(throws: NetfrontError<SimulatedXenError>.self) { try device.poll() }
    let deviceState = device.state
    #expect(deviceState == .initialising && xen.activeGrants(of: Self.guest) == 0)
  }

  @Test func aGrantFailureDuringConnectLeavesNothingBehind() throws {
    let xen = SimulatedXen()
    let netback = SimulatedNetback(xen: xen, mac: MACAddress(2, 0, 0, 0, 0, 1))
    xen.onWait = { _ in netback.process() }
    xen.grantsBeforeFailure = 5
    var device = try NetfrontDevice(platform: Self.platform(xen), configuration: Self.small)
    #expect(throws: NetfrontError<SimulatedXenError>.platform(.injected("grant"))) {
      try device.poll()
    }
    let deviceState = device.state
    #expect(deviceState == .initialising)
    #expect(xen.activeGrants(of: Self.guest) == 0 && xen.openPorts(of: Self.guest) == 0)
    #expect(xen.read(Self.front + "/tx-ring-ref") == nil)
  }

  @Test func aSlowHotplugTimesOutThenConnects() throws {
    let xen = SimulatedXen()
    let netback = SimulatedNetback(xen: xen, mac: MACAddress(2, 0, 0, 0, 0, 1), ready: false)
    xen.onWait = { _ in netback.process() }
    var device = try NetfrontDevice(platform: Self.platform(xen), configuration: Self.small)
    #expect(throws: NetfrontError<SimulatedXenError>.timedOut(backend: .initialising)) {
      try device.waitUntilConnected(timeout: .milliseconds(50), clock: Self.tickingClock())
    }
    netback.becomeReady()
    try device.waitUntilConnected(timeout: .milliseconds(50), clock: Self.tickingClock())
    let deviceIsConnected = device.isConnected
    #expect(deviceIsConnected)
  }

  @Test func missingOrMalformedToolstackKeysAreReported() {
    let xen = SimulatedXen()
    #expect(throws: NetfrontError<SimulatedXenError>.noSuchDevice(index: 0)) {
      _ = try NetfrontDevice(platform: Self.platform(xen))
    }
    Self.toolstack(xen, backendState: .initWait)
    xen.write(Self.front + "/mac", "00:16:3e:00:00")
    #expect(throws: NetfrontError<SimulatedXenError>.badXenstoreValue(path: "device/vif/0/mac")) {
      _ = try NetfrontDevice(platform: Self.platform(xen))
    }
    xen.write(Self.front + "/mac", "00:16:3e:00:00:02")
    xen.write(Self.front + "/mtu", "9000x")
    #expect(throws: NetfrontError<SimulatedXenError>.badXenstoreValue(path: "device/vif/0/mtu")) {
      _ = try NetfrontDevice(platform: Self.platform(xen))
    }
    xen.write(Self.front + "/mtu", "9000")
    xen.remove(Self.front + "/backend-id")
    #expect(
      throws: NetfrontError<SimulatedXenError>.badXenstoreValue(path: "device/vif/0/backend-id")
    ) {
      _ = try NetfrontDevice(platform: Self.platform(xen))
    }
    xen.write(Self.front + "/backend-id", "0")
    let device = try? NetfrontDevice(platform: Self.platform(xen), configuration: Self.small)
    #expect(device?.mtu == 9000)
    #expect(throws: NetfrontError<SimulatedXenError>.noSuchDevice(index: 1)) {
      _ = try NetfrontDevice(
        platform: Self.platform(xen), configuration: NetfrontConfiguration(index: 1))
    }
  }

  @Test func xenstoreNumbersAndFlagsParseStrictly() {
    #expect(
      XenstoreValue.unsigned("0") == 0 && XenstoreValue.unsigned("4294967296") == 4_294_967_296)
    #expect(XenstoreValue.unsigned("") == nil && XenstoreValue.unsigned("1 ") == nil)
    #expect(
      XenstoreValue.unsigned("-1") == nil && XenstoreValue.unsigned("18446744073709551616") == nil)
    #expect(XenstoreValue.flag("1") && XenstoreValue.flag("2") && !XenstoreValue.flag("0"))
    #expect(!XenstoreValue.flag(nil) && !XenstoreValue.flag("yes"))
    #expect(
      XenstoreValue.decimal(0) == "0" && XenstoreValue.decimal(UInt64.max) == "18446744073709551615"
    )
    #expect(XenbusState(xenstoreValue: "4") == .connected && XenbusState(xenstoreValue: "x") == nil)
    #expect(
      XenstoreValue.equals("connected", "connected")
        && !XenstoreValue.equals("connecte", "connected"))
  }
}
