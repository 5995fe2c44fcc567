import NetCore

/// A Xen paravirtual network interface, the front end of netif (xen/io/netif.h): frames go
/// to the back end (Linux's `xen-netback` in dom0, say) through a TX ring and come back
/// through an RX ring, both in pages this domain grants, with one event channel for
/// notifications.
///
/// Setting up follows the xenbus handshake (xen/io/xenbus.h): ``init(platform:configuration:)``
/// reads `device/vif/N/{backend,backend-id,mac,mtu}` and watches the back end's `state`.
/// When the back end reaches InitWait, the driver grants the ring pages and the receive
/// buffers, allocates the event channel, posts the buffers, writes `tx-ring-ref`,
/// `rx-ring-ref`, `event-channel`, `request-rx-copy`, `feature-rx-notify`, `feature-sg`,
/// `feature-gso-tcpv4`, `feature-gso-tcpv6` and `feature-ipv6-csum-offload` (as Linux's
/// netfront: received TCP segments of up to 64 KiB, checksums left blank by the back end, which
/// the frame's `ReceivedFrameInfo` vouches for), and switches to Connected; frames flow once the back end is
/// Connected too. When the back end closes or disappears, the driver goes Closing, gives the
/// pages back and goes Closed; ``disconnect(clock:)`` closes from our side.
///
/// It is driven from outside, like every device: ``receive(limit:now:_:)`` takes events and watch
/// firings from the platform, advances the handshake, collects transmit completions and reads
/// received frames; ``transmit(_:now:)`` copies frames into granted pages and pushes them. No
/// call blocks except ``waitUntilConnected(timeout:clock:)`` and ``disconnect(clock:)``.
public struct NetfrontDevice<Platform: XenPlatform & ~Copyable>: ~Copyable, NetworkDevice {
  public typealias Failure = NetfrontError<Platform.Failure>

  /// The platform the driver runs on (the runtime waits on its descriptor, say).
  public var platform: Platform
  var core: NetfrontCore

  /// Attaches to `device/vif/INDEX`: reads its keys, puts our end in Initialising and
  /// watches the back end. The first ``poll()`` (or ``receive(limit:now:_:)``) looks at the back
  /// end and connects if it waits in InitWait.
  public init(platform: consuming Platform, configuration: NetfrontConfiguration = .init())
    throws(Failure)
  {
    precondition(configuration.receiveBuffers >= 1 && configuration.receiveBuffers <= 256)
    precondition(configuration.transmitBuffers >= 1 && configuration.transmitBuffers <= 256)
    var platform = platform
    let core = try NetfrontCore(configuration: configuration, platform: &platform)
    self.platform = platform
    self.core = core
  }

  deinit {
    var platform = self.platform
    var core = self.core
    core.abandon(platform: &platform)
  }

  // MARK: State

  /// The largest IPv4 packet the link carries (the toolstack's `mtu` key, default 1500).
  public var mtu: Int { core.mtu }
  /// The interface's MAC address, from the toolstack's `mac` key.
  public var hardwareAddress: MACAddress? { core.hardwareAddress }
  /// Our end's xenbus state.
  public var state: XenbusState { core.frontendState }
  /// The back end's xenbus state, as last read.
  public var backendState: XenbusState { core.backendState }
  /// Whether both ends are Connected: frames flow.
  public var isConnected: Bool { core.isConnected }
  /// What the back end offered when we connected.
  public var backendFeatures: NetbackFeatures { core.features }
  /// The back end's domain.
  public var backendDomain: XenDomainID { core.backendDomain }
  /// Our xenstore directory, `device/vif/INDEX`.
  public var frontendPath: String { core.frontendPath }
  /// The back end's xenstore directory.
  public var backendPath: String { core.backendPath }
  /// What went through the rings.
  public var counters: NetfrontCounters { core.counters }
  /// Pages whose grant could not be ended yet because the back end still maps them.
  public var pagesAwaitingRelease: Int { core.pagesAwaitingRelease.count }

  // MARK: Driving

  /// Takes pending events and watch firings, and advances the handshake. Throws
  /// ``NetfrontError/backendClosed(_:)`` once the back end has closed the device.
  public mutating func poll() throws(Failure) {
    try core.service(platform: &platform)
  }

  /// Polls and waits until both ends are Connected, or fails after `timeout` of `clock`.
  public mutating func waitUntilConnected(timeout: Interval, clock: () -> Instant)
    throws(Failure)
  {
    let deadline = clock() + timeout
    while true {
      try poll()
      if isConnected { return }
      let now = clock()
      guard now < deadline else { throw .timedOut(backend: core.backendState) }
      do { try platform.wait(timeout: deadline - now) } catch { throw .platform(error) }
    }
  }

  /// Closes our end as Linux's `xennet_remove` does: Closing, a wait for the back end to go
  /// Closing, Closed, a wait for the back end to be Closed, then the pages back. Each wait
  /// lasts at most the configuration's ``NetfrontConfiguration/closeTimeout``, reading time
  /// from `clock`. Safe to call in any state.
  public mutating func disconnect(clock: () -> Instant) throws(Failure) {
    try core.disconnect(
      timeout: core.configuration.closeTimeout, clock: clock, platform: &platform)
  }

  public mutating func receive(
    limit: Int, now: Instant, _ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void
  ) throws(Failure) -> Int {
    try core.service(platform: &platform)
    return try core.receiveFrames(limit: limit, handler, platform: &platform)
  }

  public mutating func transmit(_ queue: inout FrameQueue, now: Instant) throws(Failure) {
    try core.transmitFrames(&queue, platform: &platform)
  }
}
