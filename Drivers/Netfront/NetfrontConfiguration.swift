import NetCore

/// How a ``NetfrontDevice`` sets itself up.
public struct NetfrontConfiguration: Sendable {
  /// Which interface: `device/vif/INDEX` in the guest's xenstore home.
  public var index: Int
  /// Pages posted for receiving (1 to 256, the RX ring's size): each holds one slot of a
  /// received frame.
  public var receiveBuffers: Int
  /// Pages for frames being sent (1 to 256, the TX ring's size): a frame uses one per 4 KiB.
  public var transmitBuffers: Int
  /// The index both rings start at. 0 is what `SHARED_RING_INIT` does; since Linux's netback
  /// attaches at the `rsp_prod` it finds in the page, any value works, and one just below 2³²
  /// makes the indices wrap at once (for tests).
  public var ringStartIndex: UInt32
  /// How long ``NetfrontDevice/disconnect(clock:)`` waits for the back end at each of its two
  /// steps: to go Closing (letting go of the rings) after our Closing, then Closed after our
  /// Closed. Linux's netfront waits as long as it takes; 30 s covers a back end in a loaded,
  /// emulated machine, and one that never answers holds a close up for twice this at most.
  public var closeTimeout: Interval

  public init(
    index: Int = 0, receiveBuffers: Int = 256, transmitBuffers: Int = 256,
    ringStartIndex: UInt32 = 0, closeTimeout: Interval = .seconds(30)
  ) {
    self.index = index
    self.receiveBuffers = receiveBuffers
    self.transmitBuffers = transmitBuffers
    self.ringStartIndex = ringStartIndex
    self.closeTimeout = closeTimeout
  }
}

/// What the back end offers, read from its xenstore directory when connecting.
public struct NetbackFeatures: Sendable, Equatable {
  /// `feature-rx-copy`: it copies received packets into pages we grant (required).
  public var receiveCopy = false
  /// `feature-sg`: it accepts packets in several transmit slots.
  public var scatterGather = false
  /// `feature-gso-tcpv4`: it accepts TCP segments larger than the MTU (with a GSO extra-info
  /// entry) and cuts them up.
  public var segmentationTCPv4 = false
  /// `feature-gso-tcpv6`: the same for TCP over IPv6.
  public var segmentationTCPv6 = false
  /// `feature-split-event-channels` (not used here: one channel for both rings).
  public var splitEventChannels = false
  /// `multi-queue-max-queues` (not used here: one queue).
  public var maximumQueues: UInt64 = 1

  public init() {}

  /// Whether the back end takes TCP segments larger than the MTU, over IPv4 and IPv6 (the
  /// stack's one switch covers both): in several slots (`feature-sg`) with a GSO extra-info
  /// entry (`feature-gso-tcpv4`, `feature-gso-tcpv6`). A stack on such a device can hand it
  /// 64 KiB segments (`DirectStackConfiguration.segmentationOffload`).
  public var takesTCPSegmentation: Bool {
    scatterGather && segmentationTCPv4 && segmentationTCPv6
  }
}
