import NetCore

/// The DHCP client of one interface: a sans-IO state machine (RFC 2131 §4.4, figure 5).
///
/// ```
///   INIT-REBOOT ──REQUEST──▶ REBOOTING ──ACK──▶ PROBING ──(no conflict)──▶ BOUND
///   INIT ──DISCOVER──▶ SELECTING ──OFFER/REQUEST──▶ REQUESTING ──ACK──▶ PROBING
///   BOUND ──T1──▶ RENEWING (unicast REQUEST) ──T2──▶ REBINDING (broadcast) ──expiry──▶ INIT
///   RENEWING/REBINDING ──ACK──▶ BOUND;  NAK anywhere ──▶ INIT
///   PROBING ──ARP conflict──▶ DECLINE, INIT after `declineBackoff` (RFC 5227 §2.1.1)
/// ```
///
/// Messages and `now` go in (``start(now:)``, ``receive(_:now:)-(Span<UInt8>,_)``,
/// ``addressClaimed(_:now:)``, ``poll(now:)``, ``release(now:)``); what to do comes out as
/// ``DHCPClientAction``s: messages to send, ARP probes, and the lease to apply or withdraw.
/// ``nextDeadline`` says when to poll.
/// Retransmissions back off exponentially from `initialRetransmit` to `maximumRetransmit`,
/// randomised by up to ±1 s (RFC 2131 §4.1). Every random choice (transaction IDs, jitter)
/// comes from a generator seeded by the configuration, so a test replays exactly.
///
/// Deviations, as udhcpc and dhclient make them too: the first DISCOVER goes out at once (RFC
/// 2131 §4.4.1 suggests waiting 1–10 s), the first acceptable OFFER is taken, and the probe
/// before use is shorter than RFC 5227's (see `probeCount`). A conflict found while BOUND is
/// not defended (RFC 5227 §2.4); the link counts it.
public struct DHCPClient {
  /// Identity, timers and limits.
  public struct Configuration: Sendable {
    /// The interface's MAC: `chaddr`, and the client identifier (type 1).
    public var hardwareAddress: MACAddress
    /// Sent as the host name option (12), so that servers can name the lease.
    public var hostName: [UInt8]?
    /// An address to ask for first (INIT-REBOOT, RFC 2131 §3.2): a previous lease.
    public var rememberedAddress: IPv4Address?
    /// The first retransmission interval (RFC 2131 §4.1: 4 s).
    public var initialRetransmit = Interval.seconds(4)
    /// The retransmission interval doubles up to this (64 s).
    public var maximumRetransmit = Interval.seconds(64)
    /// REQUESTs sent in REQUESTING before starting over with a DISCOVER.
    public var requestAttempts = 4
    /// REQUESTs sent in REBOOTING before falling back to INIT.
    public var rebootAttempts = 2
    /// The shortest wait between REQUESTs in RENEWING and REBINDING (RFC 2131 §4.4.5: 60 s),
    /// never past T2 or the end of the lease.
    public var minimumRenewalRetransmit = Interval.seconds(60)
    /// ARP probes of an offered address before it is used (RFC 5227 §2.1.1 sends 3, 1–2 s
    /// apart; udhcpc waits 2 s for one). 0 uses the address at once.
    public var probeCount = 2
    /// Time between probes.
    public var probeInterval = Interval.milliseconds(500)
    /// Time after the last probe during which a claim by another host still counts.
    public var probeWait = Interval.milliseconds(1000)
    /// Wait after a DHCPDECLINE before starting over (RFC 2131 §3.1.5: at least 10 s).
    public var declineBackoff = Interval.seconds(10)
    /// Wait after a DHCPNAK, or after REQUESTING gave up, before a new DISCOVER.
    public var restartDelay = Interval.seconds(3)
    /// Seeds transaction IDs and jitter.
    public var seed: UInt64 = 0

    public init(hardwareAddress: MACAddress) {
      self.hardwareAddress = hardwareAddress
    }
  }

  /// Where the client is (RFC 2131 figure 5, plus the RFC 5227 probe and a stopped state).
  public enum State: Equatable, Sendable {
    case stopped
    /// Waiting to send a DISCOVER.
    case initial
    case selecting
    case requesting
    /// INIT-REBOOT's REQUEST is out.
    case rebooting
    /// Probing the address of an ACK before using it.
    case probing
    case bound
    case renewing
    case rebinding

    /// The RFC's name of the state.
    public var name: String {
      switch self {
      case .stopped: "STOPPED"
      case .initial: "INIT"
      case .selecting: "SELECTING"
      case .requesting: "REQUESTING"
      case .rebooting: "REBOOTING"
      case .probing: "PROBING"
      case .bound: "BOUND"
      case .renewing: "RENEWING"
      case .rebinding: "REBINDING"
      }
    }
  }

  public let configuration: Configuration
  public private(set) var state = State.stopped
  /// The lease in use (BOUND, RENEWING, REBINDING).
  public private(set) var lease: DHCPLease?
  /// The lease of an ACK being probed (PROBING).
  public private(set) var pendingLease: DHCPLease?
  public private(set) var counters = DHCPClientCounters()
  /// The current exchange's transaction ID.
  public private(set) var transactionID: UInt32 = 0

  private var random: PseudoRandomGenerator
  /// When the current acquisition began (the `secs` field counts from there).
  private var exchangeStarted = Instant.zero
  /// When the last REQUEST went out (a lease counts from there, RFC 2131 §4.4.1).
  private var requestSentAt = Instant.zero
  /// Messages sent in this state (retransmissions, probes).
  private var attempts = 0
  /// The next retransmission, probe or restart.
  private var timer: Instant?
  /// The OFFER being requested (SELECTING → REQUESTING).
  private var offered: (address: IPv4Address, server: IPv4Address)?

  public init(configuration: Configuration) {
    self.configuration = configuration
    random = PseudoRandomGenerator(seed: configuration.seed)
  }

  /// The address being probed, whose claims by other hosts the link should report.
  public var probingAddress: IPv4Address? {
    state == .probing ? pendingLease?.address.address : nil
  }

  // MARK: Inputs

  /// Starts acquiring an address: INIT-REBOOT with the remembered address, else INIT.
  public mutating func start(now: Instant) -> [DHCPClientAction] {
    guard state == .stopped else { return [] }
    var actions: [DHCPClientAction] = []
    if configuration.rememberedAddress != nil {
      newExchange(now: now)
      state = .rebooting
      attempts = 0
      sendReboot(now: now, into: &actions)
    } else {
      discover(now: now, into: &actions)
    }
    return actions
  }

  /// Handles the payload of a UDP datagram to port 68.
  public mutating func receive(_ payload: Span<UInt8>, now: Instant) -> [DHCPClientAction] {
    let message: DHCPMessage
    do {
      message = try DHCPMessage(parsing: payload)
    } catch {
      counters.droppedMalformed += 1
      return []
    }
    return receive(message, now: now)
  }

  /// Handles a parsed message from a server.
  public mutating func receive(_ message: DHCPMessage, now: Instant) -> [DHCPClientAction] {
    guard message.operation == .reply, message.transactionID == transactionID,
      message.clientHardwareAddress == configuration.hardwareAddress,
      let type = message.messageType
    else {
      counters.ignored += 1
      return []
    }
    var actions: [DHCPClientAction] = []
    switch (state, type) {
    case (.selecting, .offer):
      guard message.yourAddress.isUnicast, let server = message.options.serverIdentifier else {
        counters.ignored += 1
        return []
      }
      counters.offersReceived += 1
      // The first acceptable offer wins (RFC 2131 §4.4.1 lets the client choose).
      offered = (message.yourAddress, server)
      state = .requesting
      attempts = 0
      sendSelectingRequest(now: now, into: &actions)
    case (.requesting, .ack), (.rebooting, .ack):
      if state == .requesting, let server = message.options.serverIdentifier,
        server != offered?.server
      {
        counters.ignored += 1
        return []
      }
      counters.acksReceived += 1
      guard let lease = DHCPLease(ack: message, requestedAt: requestSentAt) else {
        counters.droppedBadLease += 1
        return []
      }
      probe(lease, now: now, into: &actions)
    case (.renewing, .ack), (.rebinding, .ack):
      counters.acksReceived += 1
      guard let current = lease, let renewed = DHCPLease(ack: message, requestedAt: requestSentAt)
      else {
        counters.droppedBadLease += 1
        return []
      }
      if renewed.address != current.address {
        // Another address than ours: give ours up and check the new one.
        lose(into: &actions)
        probe(renewed, now: now, into: &actions)
        return actions
      }
      counters.renewals += 1
      lease = renewed
      state = .bound
      timer = nil
      actions.append(
        renewed.router == current.router && renewed.mtu == current.mtu
          ? .renewed(renewed) : .bound(renewed))
    case (.requesting, .nak), (.rebooting, .nak), (.renewing, .nak), (.rebinding, .nak):
      if let server = message.options.serverIdentifier, state == .requesting,
        server != offered?.server
      {
        counters.ignored += 1
        return []
      }
      counters.naksReceived += 1
      if lease != nil { lose(into: &actions) }
      restart(after: configuration.restartDelay, now: now)
    default:
      counters.ignored += 1
    }
    return actions
  }

  /// Another host claimed `address` in an ARP packet (its sender address, or the target of
  /// its own probe). While that address is being probed, the client declines it.
  public mutating func addressClaimed(_ address: IPv4Address, now: Instant) -> [DHCPClientAction] {
    guard state == .probing, let pending = pendingLease, pending.address.address == address
    else { return [] }
    counters.addressConflicts += 1
    var decline = message(.decline)
    decline.options.requestedAddress = address
    decline.options.serverIdentifier = pending.server
    decline.options.parameterRequestList = nil
    decline.options.maximumMessageSize = nil
    decline.options.hostName = nil
    counters.declinesSent += 1
    pendingLease = nil
    restart(after: configuration.declineBackoff, now: now)
    return [.send(decline, to: .broadcast), .declined(address)]
  }

  /// Runs the timers: retransmissions, probes, T1, T2 and the end of the lease.
  public mutating func poll(now: Instant) -> [DHCPClientAction] {
    var actions: [DHCPClientAction] = []
    switch state {
    case .stopped:
      break
    case .initial:
      if let timer, now >= timer { discover(now: now, into: &actions) }
    case .selecting:
      if let timer, now >= timer { sendDiscover(now: now, into: &actions) }
    case .requesting:
      guard let timer, now >= timer else { break }
      if attempts >= configuration.requestAttempts {
        restart(after: configuration.restartDelay, now: now)
      } else {
        sendSelectingRequest(now: now, into: &actions)
      }
    case .rebooting:
      guard let timer, now >= timer else { break }
      if attempts >= configuration.rebootAttempts {
        discover(now: now, into: &actions)
      } else {
        sendReboot(now: now, into: &actions)
      }
    case .probing:
      guard let timer, now >= timer, let pending = pendingLease else { break }
      if attempts < configuration.probeCount {
        sendProbe(pending.address.address, now: now, into: &actions)
      } else {
        bind(pending, into: &actions)
      }
    case .bound:
      guard let renewAt = lease?.renewAt, now >= renewAt else { break }
      newExchange(now: now)
      state = .renewing
      sendRenewal(now: now, into: &actions)
    case .renewing, .rebinding:
      guard let current = lease else { break }
      if let expires = current.expiresAt, now >= expires {
        lose(into: &actions)
        discover(now: now, into: &actions)
      } else if state == .renewing, let rebindAt = current.rebindAt, now >= rebindAt {
        state = .rebinding
        sendRenewal(now: now, into: &actions)
      } else if let timer, now >= timer {
        sendRenewal(now: now, into: &actions)
      }
    }
    return actions
  }

  /// Gives the lease back (DHCPRELEASE, RFC 2131 §4.4.6) and stops; for a clean shutdown.
  public mutating func release(now: Instant) -> [DHCPClientAction] {
    var actions: [DHCPClientAction] = []
    if let current = lease {
      newExchange(now: now)
      var release = message(.release)
      release.clientAddress = current.address.address
      release.options.serverIdentifier = current.server
      release.options.parameterRequestList = nil
      release.options.maximumMessageSize = nil
      release.options.hostName = nil
      counters.releasesSent += 1
      actions.append(.send(release, to: current.server))
      lease = nil
      actions.append(.released(current))
    }
    state = .stopped
    pendingLease = nil
    timer = nil
    return actions
  }

  /// When ``poll(now:)`` is next needed.
  public var nextDeadline: Instant? {
    switch state {
    case .stopped: return nil
    case .bound: return lease?.renewAt
    case .renewing:
      return Instant.earliest(timer, Instant.earliest(lease?.rebindAt, lease?.expiresAt))
    case .rebinding: return Instant.earliest(timer, lease?.expiresAt)
    default: return timer
    }
  }

  // MARK: Transitions

  private mutating func newExchange(now: Instant) {
    transactionID = UInt32(truncatingIfNeeded: random.next())
    exchangeStarted = now
  }

  private mutating func discover(now: Instant, into actions: inout [DHCPClientAction]) {
    newExchange(now: now)
    state = .selecting
    attempts = 0
    offered = nil
    sendDiscover(now: now, into: &actions)
  }

  private mutating func restart(after delay: Interval, now: Instant) {
    state = .initial
    offered = nil
    pendingLease = nil
    timer = now + delay
  }

  private mutating func probe(
    _ candidate: DHCPLease, now: Instant, into actions: inout [DHCPClientAction]
  ) {
    pendingLease = candidate
    attempts = 0
    if configuration.probeCount <= 0 {
      bind(candidate, into: &actions)
      return
    }
    state = .probing
    sendProbe(candidate.address.address, now: now, into: &actions)
  }

  private mutating func bind(_ newLease: DHCPLease, into actions: inout [DHCPClientAction]) {
    lease = newLease
    pendingLease = nil
    state = .bound
    timer = nil
    counters.leasesObtained += 1
    actions.append(.bound(newLease))
  }

  /// Withdraws the lease.
  private mutating func lose(into actions: inout [DHCPClientAction]) {
    guard let current = lease else { return }
    lease = nil
    counters.leasesLost += 1
    actions.append(.lost(current))
  }

  // MARK: Sending

  /// A message from us with the options every message carries.
  private func message(_ type: DHCPMessageType) -> DHCPMessage {
    var message = DHCPMessage(
      operation: .request, transactionID: transactionID,
      clientHardwareAddress: configuration.hardwareAddress)
    message.options.messageType = type
    let mac = configuration.hardwareAddress
    message.options.clientIdentifier = [1] + (0..<6).map { mac.octet($0) }
    message.options.maximumMessageSize = 1500
    message.options.hostName = configuration.hostName
    message.options.parameterRequestList = DHCPClient.parameterRequestList
    return message
  }

  /// Subnet mask, router, DNS, domain name, MTU, lease time, server identifier, T1, T2.
  static let parameterRequestList: [UInt8] = [1, 3, 6, 15, 26, 51, 54, 58, 59]

  /// The `secs` field: seconds since the exchange began.
  private func secondsElapsed(_ now: Instant) -> UInt16 {
    UInt16(clamping: max(0, (now - exchangeStarted).seconds))
  }

  /// The wait before retransmission number `attempts` + 1: 4, 8, 16, 32, 64 s, ± up to 1 s.
  private mutating func backoff() -> Interval {
    var delay = configuration.initialRetransmit
    var doublings = attempts - 1
    while doublings > 0, delay < configuration.maximumRetransmit {
      delay = delay * 2
      doublings -= 1
    }
    if delay > configuration.maximumRetransmit { delay = configuration.maximumRetransmit }
    let jitter = min(Interval.seconds(1), delay / 4)
    guard jitter.nanoseconds > 0 else { return delay }
    let offset = Int64(random.next(below: UInt64(2 * jitter.nanoseconds + 1))) - jitter.nanoseconds
    return delay + Interval(nanoseconds: offset)
  }

  private mutating func sendDiscover(now: Instant, into actions: inout [DHCPClientAction]) {
    var discover = message(.discover)
    discover.broadcast = true
    discover.secondsElapsed = secondsElapsed(now)
    attempts += 1
    timer = now + backoff()
    counters.discoversSent += 1
    actions.append(.send(discover, to: .broadcast))
  }

  /// The REQUEST of SELECTING: requested address and server identifier of the chosen offer.
  private mutating func sendSelectingRequest(
    now: Instant, into actions: inout [DHCPClientAction]
  ) {
    guard let offered else { return }
    var request = message(.request)
    request.broadcast = true
    request.secondsElapsed = secondsElapsed(now)
    request.options.requestedAddress = offered.address
    request.options.serverIdentifier = offered.server
    send(request, to: .broadcast, now: now, into: &actions)
    timer = now + backoff()
  }

  /// The REQUEST of INIT-REBOOT: the remembered address, no server identifier.
  private mutating func sendReboot(now: Instant, into actions: inout [DHCPClientAction]) {
    guard let remembered = configuration.rememberedAddress else { return }
    var request = message(.request)
    request.broadcast = true
    request.secondsElapsed = secondsElapsed(now)
    request.options.requestedAddress = remembered
    send(request, to: .broadcast, now: now, into: &actions)
    timer = now + backoff()
  }

  /// The REQUEST of RENEWING (unicast to the server) or REBINDING (broadcast): `ciaddr` set,
  /// no requested address or server identifier (RFC 2131 §4.3.2). The next one waits half the
  /// time left until T2 (or the end of the lease), at least `minimumRenewalRetransmit`.
  private mutating func sendRenewal(now: Instant, into actions: inout [DHCPClientAction]) {
    guard let current = lease else { return }
    var request = message(.request)
    request.clientAddress = current.address.address
    request.secondsElapsed = secondsElapsed(now)
    let renewing = state == .renewing
    send(request, to: renewing ? current.server : .broadcast, now: now, into: &actions)
    let limit = renewing ? current.rebindAt : current.expiresAt
    var wait = configuration.minimumRenewalRetransmit
    if let limit, (limit - now) / 2 > wait { wait = (limit - now) / 2 }
    timer = now + wait
  }

  private mutating func send(
    _ request: DHCPMessage, to destination: IPv4Address, now: Instant,
    into actions: inout [DHCPClientAction]
  ) {
    attempts += 1
    requestSentAt = now
    counters.requestsSent += 1
    actions.append(.send(request, to: destination))
  }

  private mutating func sendProbe(
    _ address: IPv4Address, now: Instant, into actions: inout [DHCPClientAction]
  ) {
    attempts += 1
    counters.probesSent += 1
    timer =
      now
      + (attempts < configuration.probeCount
        ? configuration.probeInterval : configuration.probeWait)
    actions.append(.probe(address))
  }
}

/// What ``DHCPClient`` asks the stack to do.
public enum DHCPClientAction: Equatable, Sendable {
  /// Send the message from port 68 to port 67 of `to` (255.255.255.255, or the server when
  /// renewing or releasing), from our address if we have one, else from 0.0.0.0.
  case send(DHCPMessage, to: IPv4Address)
  /// Send an ARP probe for the address: sender address 0.0.0.0 (RFC 5227 §2.1.1).
  case probe(IPv4Address)
  /// Use the lease: address and prefix, gateway, MTU (a new lease, or a renewal that changed
  /// the router or MTU).
  case bound(DHCPLease)
  /// The lease was extended; nothing to change.
  case renewed(DHCPLease)
  /// Stop using the lease's address: it expired or was refused (NAK).
  case lost(DHCPLease)
  /// Stop using the lease's address: it was given back (DHCPRELEASE).
  case released(DHCPLease)
  /// Another host answered for the offered address; it was declined.
  case declined(IPv4Address)
}
