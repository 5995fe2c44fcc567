import NetCore

/// The xenbus side of ``NetfrontDevice``: the keys, the states of both ends, and the steps
/// between them. Copyable, so that the device's `deinit` can still tear down through a
/// platform it has taken out of `self`.
struct NetfrontCore {
  let configuration: NetfrontConfiguration
  let frontendPath: String
  let backendPath: String
  let backendDomain: XenDomainID
  let hardwareAddress: MACAddress
  let mtu: Int
  let watchToken: XenstoreWatchToken
  var frontendState = XenbusState.initialising
  var backendState = XenbusState.unknown
  var features = NetbackFeatures()
  var rings: NetfrontRings?
  var counters = NetfrontCounters()
  var pagesAwaitingRelease: [GrantedPage] = []
  /// Set when the back end closed the device under us: every later call reports it.
  var closedByBackend: XenbusState?
  /// Whether the back end has been notified once after it connected.
  var kicked = false
  var watching = false
  /// The back end's state has not been looked at since the watch was set.
  var handshakePending = true

  var isConnected: Bool {
    frontendState == .connected && backendState == .connected && rings != nil
  }

  /// Reads the toolstack's keys, puts our end in Initialising and watches the back end.
  init<P: XenPlatform & ~Copyable>(configuration: NetfrontConfiguration, platform: inout P)
    throws(NetfrontError<P.Failure>)
  {
    self.configuration = configuration
    let front = "device/vif/" + XenstoreValue.decimal(UInt64(configuration.index))
    frontendPath = front
    guard let backend = try platform.netfrontRead(front + "/backend"), !backend.isEmpty else {
      throw .noSuchDevice(index: configuration.index)
    }
    backendPath = backend
    guard let idText = try platform.netfrontRead(front + "/backend-id"),
      let id = XenstoreValue.unsigned(idText), id <= UInt64(UInt16.max)
    else { throw .badXenstoreValue(path: front + "/backend-id") }
    backendDomain = XenDomainID(rawValue: UInt16(id))
    guard let macText = try platform.netfrontRead(front + "/mac"),
      let mac = try? MACAddress(parsing: macText)
    else { throw .badXenstoreValue(path: front + "/mac") }
    hardwareAddress = mac
    if let mtuText = try platform.netfrontRead(front + "/mtu") {
      guard let value = XenstoreValue.unsigned(mtuText), value >= 68, value <= 65535 else {
        throw .badXenstoreValue(path: front + "/mtu")
      }
      mtu = Int(value)
    } else {
      mtu = 1500
    }
    watchToken = XenstoreWatchToken(rawValue: 0x6E66_0000 | UInt32(configuration.index & 0xFFFF))

    // A previous user may have left our end Closed (or Connected, if it died): Initialising
    // makes the back end reset to InitWait (Linux netback's set_backend_state).
    let current = try platform.netfrontRead(front + "/state").flatMap(
      XenbusState.init(xenstoreValue:))
    if current != .initialising {
      try platform.netfrontWrite(front + "/state", XenbusState.initialising.xenstoreValue)
    }
    try platform.netfrontWatch(backendPath + "/state", token: watchToken)
    watching = true
  }

  // MARK: The handshake

  /// Takes events and watch firings; advances the handshake when the back end moved.
  mutating func service<P: XenPlatform & ~Copyable>(platform: inout P)
    throws(NetfrontError<P.Failure>)
  {
    if let state = closedByBackend { throw .backendClosed(state) }
    if let rings, try platform.netfrontTakeEvent(rings.port) {
      counters.eventsReceived += 1
    }
    if watching, try platform.netfrontTakeWatchEvent(watchToken) || handshakePending {
      handshakePending = false
      try advanceHandshake(platform: &platform)
    }
    if !pagesAwaitingRelease.isEmpty { try releaseAwaitingPages(platform: &platform) }
    if let state = closedByBackend { throw .backendClosed(state) }
  }

  /// Reads the back end's state and does what it asks of our end:
  /// - Initialising: connect when the back end waits in InitWait (earlier states, and the
  ///   Closing/Closed a back end passes through while it resets, are waited out);
  /// - Connected: frames flow once the back end is Connected; if it goes Closing, Closed or
  ///   Unknown, or its directory disappears, we close. InitWait is ignored, as Linux's
  ///   netfront ignores it: a back end that restarts finds our keys and connects to the same
  ///   rings (netback attaches at the indices the pages hold);
  /// - Closing/Closed: nothing more.
  mutating func advanceHandshake<P: XenPlatform & ~Copyable>(platform: inout P)
    throws(NetfrontError<P.Failure>)
  {
    try readBackendState(platform: &platform)
    switch frontendState {
    case .initialising:
      if backendState == .initWait {
        try connect(platform: &platform)
      }
    case .connected:
      switch backendState {
      case .connected:
        if !kicked, let rings {
          // The back end may have looked at the RX ring before it bound the channel.
          try platform.netfrontNotify(rings.port)
          counters.notificationsSent += 1
          kicked = true
        }
      case .closing, .closed, .unknown:
        closedByBackend = backendState
        try close(platform: &platform)
      default:
        break
      }
    default:
      break
    }
  }

  /// Grants the rings and buffers, allocates the event channel, posts the receive buffers,
  /// writes our keys and switches to Connected. On failure, gives back what it took and
  /// stays Initialising.
  mutating func connect<P: XenPlatform & ~Copyable>(platform: inout P)
    throws(NetfrontError<P.Failure>)
  {
    var offered = NetbackFeatures()
    offered.receiveCopy = XenstoreValue.flag(
      try platform.netfrontRead(backendPath + "/feature-rx-copy"))
    offered.scatterGather = XenstoreValue.flag(
      try platform.netfrontRead(backendPath + "/feature-sg"))
    offered.segmentationTCPv4 = XenstoreValue.flag(
      try platform.netfrontRead(backendPath + "/feature-gso-tcpv4"))
    offered.segmentationTCPv6 = XenstoreValue.flag(
      try platform.netfrontRead(backendPath + "/feature-gso-tcpv6"))
    offered.splitEventChannels = XenstoreValue.flag(
      try platform.netfrontRead(backendPath + "/feature-split-event-channels"))
    if let queues = try platform.netfrontRead(backendPath + "/multi-queue-max-queues"),
      let value = XenstoreValue.unsigned(queues)
    {
      offered.maximumQueues = value
    }
    features = offered
    guard offered.receiveCopy else { throw .backendLacksReceiveCopy }

    var pages: [GrantedPage] = []
    var port: EventChannelPort? = nil
    do {
      let txRing = try platform.netfrontGrant(to: backendDomain, readOnly: false)
      pages.append(txRing)
      let rxRing = try platform.netfrontGrant(to: backendDomain, readOnly: false)
      pages.append(rxRing)
      var receiveBuffers: [GrantedPage] = []
      for _ in 0..<configuration.receiveBuffers {
        let page = try platform.netfrontGrant(to: backendDomain, readOnly: false)
        pages.append(page)
        receiveBuffers.append(page)
      }
      var transmitBuffers: [GrantedPage] = []
      for _ in 0..<configuration.transmitBuffers {
        let page = try platform.netfrontGrant(to: backendDomain, readOnly: true)
        pages.append(page)
        transmitBuffers.append(page)
      }
      let channel = try platform.netfrontAllocateEventChannel(remote: backendDomain)
      port = channel
      let rings = NetfrontRings(
        txRingPage: txRing, rxRingPage: rxRing, receiveBuffers: receiveBuffers,
        transmitBuffers: transmitBuffers, port: channel,
        startIndex: configuration.ringStartIndex)
      rings.postReceiveBuffers()
      _ = rings.rx.pushRequests()

      let front = frontendPath
      try platform.netfrontWrite(
        front + "/tx-ring-ref", XenstoreValue.decimal(UInt64(txRing.reference.rawValue)))
      try platform.netfrontWrite(
        front + "/rx-ring-ref", XenstoreValue.decimal(UInt64(rxRing.reference.rawValue)))
      try platform.netfrontWrite(
        front + "/event-channel", XenstoreValue.decimal(UInt64(channel.rawValue)))
      try platform.netfrontWrite(front + "/request-rx-copy", "1")
      try platform.netfrontWrite(front + "/feature-rx-notify", "1")
      try platform.netfrontWrite(front + "/feature-sg", "1")
      // As Linux's netfront: the back end may hand us TCP segments of up to 64 KiB (over
      // several slots, after a GSO extra-info slot, which we skip) and packets whose
      // checksum it leaves blank (NETRXF_csum_blank: they come from its own memory, so the
      // frame says the stack need not check it).
      try platform.netfrontWrite(front + "/feature-gso-tcpv4", "1")
      try platform.netfrontWrite(front + "/feature-gso-tcpv6", "1")
      try platform.netfrontWrite(front + "/feature-ipv6-csum-offload", "1")
      self.rings = rings
      try platform.netfrontWrite(front + "/state", XenbusState.connected.xenstoreValue)
      frontendState = .connected
    } catch {
      rings?.deallocate()
      rings = nil
      if let port { try? platform.netfrontCloseEventChannel(port) }
      for page in pages {
        if !((try? platform.netfrontEndAccess(page)) ?? false) { pagesAwaitingRelease.append(page) }
      }
      throw error
    }
  }

  /// Our end goes Closing, gives back the rings and buffers (those still mapped wait in
  /// ``pagesAwaitingRelease``), and goes Closed.
  mutating func close<P: XenPlatform & ~Copyable>(platform: inout P)
    throws(NetfrontError<P.Failure>)
  {
    if frontendState != .closing {
      frontendState = .closing
      try platform.netfrontWrite(frontendPath + "/state", XenbusState.closing.xenstoreValue)
    }
    try releaseRings(platform: &platform)
    try platform.netfrontWrite(frontendPath + "/state", XenbusState.closed.xenstoreValue)
    frontendState = .closed
  }

  mutating func releaseRings<P: XenPlatform & ~Copyable>(platform: inout P)
    throws(NetfrontError<P.Failure>)
  {
    guard let rings else { return }
    self.rings = nil
    kicked = false
    var pages = [rings.txRingPage, rings.rxRingPage]
    pages.append(contentsOf: rings.receiveBuffers)
    pages.append(contentsOf: rings.transmitBuffers)
    rings.deallocate()
    pagesAwaitingRelease.append(contentsOf: pages)
    try platform.netfrontCloseEventChannel(rings.port)
    try releaseAwaitingPages(platform: &platform)
  }

  mutating func releaseAwaitingPages<P: XenPlatform & ~Copyable>(platform: inout P)
    throws(NetfrontError<P.Failure>)
  {
    var stillMapped: [GrantedPage] = []
    for page in pagesAwaitingRelease where !(try platform.netfrontEndAccess(page)) {
      stillMapped.append(page)
    }
    pagesAwaitingRelease = stillMapped
  }

  /// Closes from our side in the order of Linux's `xennet_remove` (`xennet_bus_close`, then
  /// `xennet_disconnect_backend`), xen/io/xenbus.h's close:
  /// 1. unless the back end is Closed (or gone) already, our end goes Closing and we wait up
  ///    to `timeout` for the back end to go Closing or Closed (Linux's netback lets go of the
  ///    rings on the way);
  /// 2. our end goes Closed and we wait up to `timeout` again for the back end to be Closed;
  /// 3. the rings and buffers are given back; pages the back end still maps (netback holds
  ///    a sent frame's page until dom0 is done with it) wait in ``pagesAwaitingRelease``,
  ///    tried again every ``pageReleaseRetry`` for ``pageReleaseWait`` at most, then left to
  ///    the platform, as Linux's grant table defers such pages.
  /// Linux waits for the back end as long as it takes; here a back end that never answers
  /// costs two `timeout`s (plus the page wait) and the close ends with our end Closed all
  /// the same.
  mutating func disconnect<P: XenPlatform & ~Copyable>(
    timeout: Interval, clock: () -> Instant, platform: inout P
  ) throws(NetfrontError<P.Failure>) {
    if frontendState == .initialising || frontendState == .connected {
      try readBackendState(platform: &platform)
      if backendState != .closed && backendState != .unknown {
        frontendState = .closing
        try platform.netfrontWrite(frontendPath + "/state", XenbusState.closing.xenstoreValue)
        try waitForBackend(
          [.closing, .closed, .unknown], until: clock() + timeout, clock: clock,
          platform: &platform)
      }
      frontendState = .closed
      try platform.netfrontWrite(frontendPath + "/state", XenbusState.closed.xenstoreValue)
      try waitForBackend(
        [.closed, .unknown], until: clock() + timeout, clock: clock, platform: &platform)
      try releaseRings(platform: &platform)
    }
    if watching {
      watching = false
      try platform.netfrontUnwatch(backendPath + "/state", token: watchToken)
    }
    // No event says when the back end lets go of a page: look again at intervals.
    let releaseDeadline = clock() + Self.pageReleaseWait
    while !pagesAwaitingRelease.isEmpty {
      try releaseAwaitingPages(platform: &platform)
      let now = clock()
      if pagesAwaitingRelease.isEmpty || now >= releaseDeadline { break }
      do {
        try platform.wait(timeout: min(releaseDeadline - now, Self.pageReleaseRetry))
      } catch {
        throw .platform(error)
      }
    }
  }

  /// How long a close keeps trying to end the grants of pages the back end still maps.
  static var pageReleaseWait: Interval { .seconds(2) }
  /// How often it tries.
  static var pageReleaseRetry: Interval { .milliseconds(100) }

  /// Waits until the back end's state is one of `states` (read from xenstore) or `deadline`
  /// passes, taking the events and watch firings that wake us meanwhile.
  private mutating func waitForBackend<P: XenPlatform & ~Copyable>(
    _ states: [XenbusState], until deadline: Instant, clock: () -> Instant, platform: inout P
  ) throws(NetfrontError<P.Failure>) {
    while true {
      try readBackendState(platform: &platform)
      if states.contains(backendState) { return }
      let now = clock()
      if now >= deadline { return }
      do { try platform.wait(timeout: deadline - now) } catch { throw .platform(error) }
      // An event left pending would end every later wait at once.
      if let rings { _ = try? platform.netfrontTakeEvent(rings.port) }
      _ = try? platform.netfrontTakeWatchEvent(watchToken)
    }
  }

  /// Best effort at the end of the device's life: Closing, pages back, Closed; errors are
  /// ignored and pages still mapped are left to the platform.
  mutating func abandon<P: XenPlatform & ~Copyable>(platform: inout P) {
    if frontendState == .initialising || frontendState == .connected {
      try? close(platform: &platform)
    } else if rings != nil {
      try? releaseRings(platform: &platform)
    }
    if watching { try? platform.netfrontUnwatch(backendPath + "/state", token: watchToken) }
  }

  // MARK: Frames

  mutating func receiveFrames<P: XenPlatform & ~Copyable>(
    limit: Int, _ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void, platform: inout P
  ) throws(NetfrontError<P.Failure>) -> Int {
    guard isConnected, let rings else { return 0 }
    do {
      try rings.collectTransmitted(counters: &counters)
    } catch {
      throw .protocolViolation(.tooManyTransmitResponses)
    }
    let frames: Int
    let workLeft: Bool
    do {
      (frames, workLeft) = try rings.receive(limit: limit, counters: &counters, handler)
    } catch {
      throw .protocolViolation(.tooManyReceiveResponses)
    }
    rings.postReceiveBuffers()
    if rings.rx.unpushedRequests > 0 {
      try push(rings.rx.pushRequests(), port: rings.port, platform: &platform)
    }
    if workLeft { platform.requestPoll() }
    return frames
  }

  mutating func transmitFrames<P: XenPlatform & ~Copyable>(
    _ queue: inout FrameQueue, platform: inout P
  ) throws(NetfrontError<P.Failure>) {
    guard isConnected, let rings else { return }
    var rounds = 0
    repeat {
      do {
        try rings.collectTransmitted(counters: &counters)
      } catch {
        throw .protocolViolation(.tooManyTransmitResponses)
      }
      rings.send(
        &queue, scatterGather: features.scatterGather,
        segmentation: features.takesTCPSegmentation, counters: &counters)
      if rings.tx.unpushedRequests > 0 {
        try push(rings.tx.pushRequests(), port: rings.port, platform: &platform)
      }
      rounds += 1
      // Completions that arrived meanwhile free buffers for frames still waiting.
    } while !queue.isEmpty && rings.tx.unconsumedResponses > 0 && rounds < 4
  }

  private mutating func push<P: XenPlatform & ~Copyable>(
    _ notify: Bool, port: EventChannelPort, platform: inout P
  ) throws(NetfrontError<P.Failure>) {
    if notify {
      try platform.netfrontNotify(port)
      counters.notificationsSent += 1
    } else {
      counters.notificationsSuppressed += 1
    }
  }

  /// Reads the back end's `state` key into ``backendState`` (`.unknown` when it is gone).
  mutating func readBackendState<P: XenPlatform & ~Copyable>(platform: inout P)
    throws(NetfrontError<P.Failure>)
  {
    let text = try platform.netfrontRead(backendPath + "/state")
    backendState = text.flatMap(XenbusState.init(xenstoreValue:)) ?? .unknown
  }
}

// Platform calls with the platform's error wrapped, so that the driver has one error type.
extension XenPlatform where Self: ~Copyable {
  mutating func netfrontRead(_ path: String) throws(NetfrontError<Failure>) -> String? {
    do { return try read(path) } catch { throw .platform(error) }
  }

  mutating func netfrontWrite(_ path: String, _ value: String) throws(NetfrontError<Failure>) {
    do { try write(path, value) } catch { throw .platform(error) }
  }

  mutating func netfrontWatch(_ path: String, token: XenstoreWatchToken)
    throws(NetfrontError<Failure>)
  {
    do { try watch(path, token: token) } catch { throw .platform(error) }
  }

  mutating func netfrontUnwatch(_ path: String, token: XenstoreWatchToken)
    throws(NetfrontError<Failure>)
  {
    do { try unwatch(path, token: token) } catch { throw .platform(error) }
  }

  mutating func netfrontTakeWatchEvent(_ token: XenstoreWatchToken) throws(NetfrontError<Failure>)
    -> Bool
  {
    do { return try takeWatchEvent(token) } catch { throw .platform(error) }
  }

  mutating func netfrontGrant(to domain: XenDomainID, readOnly: Bool)
    throws(NetfrontError<Failure>) -> GrantedPage
  {
    do { return try grantPage(to: domain, readOnly: readOnly) } catch { throw .platform(error) }
  }

  mutating func netfrontEndAccess(_ page: GrantedPage) throws(NetfrontError<Failure>) -> Bool {
    do { return try endAccess(page) } catch { throw .platform(error) }
  }

  mutating func netfrontAllocateEventChannel(remote domain: XenDomainID)
    throws(NetfrontError<Failure>) -> EventChannelPort
  {
    do { return try allocateEventChannel(remote: domain) } catch { throw .platform(error) }
  }

  mutating func netfrontNotify(_ port: EventChannelPort) throws(NetfrontError<Failure>) {
    do { try notify(port) } catch { throw .platform(error) }
  }

  mutating func netfrontTakeEvent(_ port: EventChannelPort) throws(NetfrontError<Failure>) -> Bool {
    do { return try takeEvent(port) } catch { throw .platform(error) }
  }

  mutating func netfrontCloseEventChannel(_ port: EventChannelPort) throws(NetfrontError<Failure>) {
    do { try closeEventChannel(port) } catch { throw .platform(error) }
  }
}
