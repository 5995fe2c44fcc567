import NetCore

/// The interface's addresses and their configuration (RFC 4862): duplicate address detection
/// for every address, the link-local address, addresses formed from advertised prefixes with
/// stable opaque identifiers (RFC 7217), their lifetimes, and the choice of a source address
/// (RFC 6724).
///
/// Duplicate address detection (§5.4): a new address is tentative; after a random delay of up
/// to ``Configuration/maximumInitialDelay`` (MAX_RTR_SOLICITATION_DELAY, §5.4.2) it sends
/// ``Configuration/detectionTransmits`` solicitations (DupAddrDetectTransmits) one
/// ``retransmitTimer`` apart, each with a nonce (RFC 7527); one retransmit timer after the
/// last, it becomes preferred. A solicitation from another node doing detection of it, or an
/// advertisement of it, makes it a duplicate (the layer calls
/// ``detectedDuplicate(_:now:random:)``): it is never used; a stable address (link-local or
/// autoconfigured) is then formed again with the next DAD counter, up to
/// ``Configuration/identifierRetries`` times (RFC 7217 §6, IDGEN_RETRIES).
///
/// Autoconfiguration (§5.5.3) follows (a)–(e): prefixes with the A flag, not link-local,
/// preferred lifetime not above valid, /64 only (the identifier is 64 bits); lifetimes of an
/// existing address are updated with the "two-hours rule" of (e). Preferred lifetime over:
/// deprecated; valid lifetime over: removed (§5.5.4).
///
/// Bounded: at most ``Configuration/capacity`` addresses; what would pass it is refused and
/// counted.
public struct IPv6AddressTable {
  public struct Configuration: Sendable {
    /// The most addresses the interface holds.
    public var capacity = 16
    /// DupAddrDetectTransmits (RFC 4862 §5.1): solicitations per address; 0 turns detection
    /// off.
    public var detectionTransmits = 1
    /// The longest random delay before the first solicitation (MAX_RTR_SOLICITATION_DELAY).
    public var maximumInitialDelay = Interval.seconds(1)
    /// IDGEN_RETRIES (RFC 7217 §6).
    public var identifierRetries = 3

    public init() {}
  }

  /// The two hours of RFC 4862 §5.5.3 (e).
  static let twoHours = Interval.seconds(7200)

  public let configuration: Configuration
  /// RetransTimer: between detection solicitations (a router may advertise another).
  public var retransmitTimer = Interval.seconds(1)
  public private(set) var addresses: [IPv6InterfaceAddress] = []
  /// Makes the identifiers of link-local and autoconfigured addresses.
  public let identifiers: StableInterfaceIdentifier

  /// Addresses refused because the table was full.
  public private(set) var refusedForCapacity: UInt64 = 0
  /// Addresses found to be duplicates.
  public private(set) var duplicatesDetected: UInt64 = 0
  /// Prefixes with the A flag not used because their length is not 64.
  public private(set) var prefixesIgnoredForLength: UInt64 = 0

  public init(
    identifiers: StableInterfaceIdentifier, configuration: Configuration = Configuration()
  ) {
    precondition(configuration.capacity > 0 && configuration.detectionTransmits >= 0)
    self.identifiers = identifiers
    self.configuration = configuration
  }

  // MARK: Looking up

  /// The entry for `address`, if the interface has it (in any state).
  public func entry(for address: IPv6Address) -> IPv6InterfaceAddress? {
    addresses.first { $0.address == address }
  }

  /// Whether `address` is ours and usable (preferred or deprecated).
  public func isAssigned(_ address: IPv6Address) -> Bool {
    entry(for: address)?.isUsable == true
  }

  /// Whether `address` is ours and still being checked.
  public func isTentative(_ address: IPv6Address) -> Bool {
    entry(for: address)?.state == .tentative
  }

  /// The usable link-local address, if there is one.
  public var linkLocalAddress: IPv6Address? {
    addresses.first { $0.origin == .linkLocal && $0.isUsable }?.address
  }

  /// Whether `nonce` is the one our detection of `address` sends: the solicitation is our own,
  /// looped back (RFC 7527 §4.1).
  public func isOwnSolicitation(for address: IPv6Address, nonce: [UInt8]?) -> Bool {
    guard let nonce, let entry = entry(for: address), entry.state == .tentative else {
      return false
    }
    return !entry.nonce.isEmpty && entry.nonce == nonce
  }

  /// The source address for `destination` (RFC 6724 §5, the rules that apply to one
  /// interface without policy: 1 same address, 2 appropriate scope, 3 avoid deprecated, 8
  /// longest matching prefix), among the usable addresses that are not a service's; nil when
  /// there is none.
  public func sourceAddress(for destination: IPv6Address) -> IPv6Address? {
    var best: IPv6InterfaceAddress? = nil
    for candidate in addresses where candidate.isUsable && candidate.origin != .service {
      guard let current = best else {
        best = candidate
        continue
      }
      if IPv6AddressTable.prefers(candidate, over: current, for: destination) { best = candidate }
    }
    return best?.address
  }

  /// Whether `a` is a better source than `b` towards `destination` (RFC 6724 §5).
  static func prefers(
    _ a: IPv6InterfaceAddress, over b: IPv6InterfaceAddress, for destination: IPv6Address
  ) -> Bool {
    // Rule 1: the destination itself.
    if a.address == destination { return true }
    if b.address == destination { return false }
    // Rule 2: the smallest scope that still reaches the destination.
    let scopeA = a.address.scope
    let scopeB = b.address.scope
    let scopeD = destination.scope
    if scopeA < scopeB { return scopeA >= scopeD }
    if scopeB < scopeA { return scopeB < scopeD }
    // Rule 3: not deprecated.
    if (a.state == .deprecated) != (b.state == .deprecated) { return b.state == .deprecated }
    // Rule 8: the longest prefix in common.
    return a.address.commonPrefixLength(with: destination)
      > b.address.commonPrefixLength(with: destination)
  }

  // MARK: Adding and removing

  /// Adds the link-local address, `fe80::` with a stable identifier (RFC 4862 §5.3, RFC 7217).
  public mutating func addLinkLocal(now: Instant, random: inout PseudoRandomGenerator)
    -> [IPv6AddressEvent]
  {
    guard !addresses.contains(where: { $0.origin == .linkLocal }) else { return [] }
    return addStable(
      prefix: .linkLocalPrefix, origin: .linkLocal, dadCounter: 0, validUntil: nil,
      preferredUntil: nil, now: now, random: &random)
  }

  /// Adds a configured address; nil when the table is full or has it already.
  public mutating func addManual(
    _ cidr: IPv6CIDR, now: Instant, random: inout PseudoRandomGenerator
  ) -> [IPv6AddressEvent]? {
    guard entry(for: cidr.address) == nil, cidr.address.isUnicast else { return nil }
    return add(
      IPv6InterfaceAddress(
        address: cidr.address, prefixLength: cidr.prefixLength, origin: .manual,
        state: .tentative),
      now: now, random: &random)
  }

  /// Adds an address for a service of the stack (``IPv6InterfaceAddress/Origin/service``, a
  /// /128); nil when the table is full or has it already.
  public mutating func addService(
    _ address: IPv6Address, now: Instant, random: inout PseudoRandomGenerator
  ) -> [IPv6AddressEvent]? {
    guard entry(for: address) == nil, address.isUnicast else { return nil }
    return add(
      IPv6InterfaceAddress(
        address: address, prefixLength: 128, origin: .service, state: .tentative),
      now: now, random: &random)
  }

  /// Removes `address`.
  public mutating func remove(_ address: IPv6Address) -> [IPv6AddressEvent] {
    guard let index = addresses.firstIndex(where: { $0.address == address }) else { return [] }
    let removed = addresses.remove(at: index)
    return removed.state == .duplicate ? [] : [.removed(address)]
  }

  /// Applies a prefix information option of a router advertisement (RFC 4862 §5.5.3).
  public mutating func receivePrefix(
    _ information: NDPPrefixInformation, now: Instant, random: inout PseudoRandomGenerator
  ) -> [IPv6AddressEvent] {
    let prefix = information.prefix.masked(prefixLength: min(information.prefixLength, 128))
    guard information.autonomous, !prefix.isLinkLocal, !prefix.isMulticast,
      information.preferredLifetime <= information.validLifetime
    else { return [] }
    let existing = addresses.firstIndex {
      $0.origin == .autoconfigured && $0.prefixLength == information.prefixLength
        && $0.address.masked(prefixLength: information.prefixLength) == prefix
    }
    guard let index = existing else {
      guard information.validLifetime > 0 else { return [] }
      guard information.prefixLength == 64 else {
        prefixesIgnoredForLength += 1
        return []
      }
      return addStable(
        prefix: prefix, origin: .autoconfigured, dadCounter: 0,
        validUntil: IPv6AddressTable.deadline(information.validLifetime, now),
        preferredUntil: IPv6AddressTable.deadline(information.preferredLifetime, now), now: now,
        random: &random)
    }
    // (e): the preferred lifetime is reset; the valid lifetime follows the two-hours rule.
    var events: [IPv6AddressEvent] = []
    addresses[index].preferredUntil = IPv6AddressTable.deadline(
      information.preferredLifetime, now)
    if addresses[index].state == .deprecated && information.preferredLifetime > 0 {
      addresses[index].state = .preferred
      events.append(.preferred(addresses[index].address))
    }
    let received = information.validLifetime
    let remaining = addresses[index].validUntil.map { $0 - now }
    if received == NDPPrefixInformation.infinite
      || Interval.seconds(Int64(received)) > IPv6AddressTable.twoHours
      || remaining.map({ Interval.seconds(Int64(received)) > $0 }) == true
    {
      addresses[index].validUntil = IPv6AddressTable.deadline(received, now)
    } else if remaining.map({ $0 <= IPv6AddressTable.twoHours }) == true {
      // Ignored: a short lifetime must not shorten a short remaining one (an attack).
    } else {
      addresses[index].validUntil = now + IPv6AddressTable.twoHours
    }
    return events
  }

  /// `address`, tentative, is in use by another node (RFC 4862 §5.4.3, §5.4.4): it becomes a
  /// duplicate; a stable one is formed anew with the next DAD counter, while retries last.
  public mutating func detectedDuplicate(
    _ address: IPv6Address, now: Instant, random: inout PseudoRandomGenerator
  ) -> [IPv6AddressEvent] {
    guard let index = addresses.firstIndex(where: { $0.address == address }),
      addresses[index].state == .tentative
    else { return [] }
    duplicatesDetected += 1
    var events: [IPv6AddressEvent] = [.duplicate(address)]
    let duplicate = addresses[index]
    let isStable = duplicate.origin == .linkLocal || duplicate.origin == .autoconfigured
    guard isStable, duplicate.dadCounter < configuration.identifierRetries else {
      addresses[index].state = .duplicate
      addresses[index].nextDetectionEvent = nil
      return events
    }
    addresses.remove(at: index)
    events += addStable(
      prefix: duplicate.address.masked(prefixLength: 64), origin: duplicate.origin,
      dadCounter: duplicate.dadCounter + 1, validUntil: duplicate.validUntil,
      preferredUntil: duplicate.preferredUntil, now: now, random: &random)
    return events
  }

  private mutating func addStable(
    prefix: IPv6Address, origin: IPv6InterfaceAddress.Origin, dadCounter: Int,
    validUntil: Instant?, preferredUntil: Instant?, now: Instant,
    random: inout PseudoRandomGenerator
  ) -> [IPv6AddressEvent] {
    let (identifier, counter) = identifiers.identifier(prefix: prefix, dadCounter: dadCounter)
    let address = IPv6Address(prefix: prefix, interfaceIdentifier: identifier)
    guard entry(for: address) == nil else { return [] }
    return add(
      IPv6InterfaceAddress(
        address: address, prefixLength: 64, origin: origin, state: .tentative,
        validUntil: validUntil, preferredUntil: preferredUntil, dadCounter: counter),
      now: now, random: &random) ?? []
  }

  /// Adds a tentative address and starts its detection; nil when the table is full.
  private mutating func add(
    _ new: IPv6InterfaceAddress, now: Instant, random: inout PseudoRandomGenerator
  ) -> [IPv6AddressEvent]? {
    guard addresses.count < configuration.capacity else {
      refusedForCapacity += 1
      return nil
    }
    var address = new
    if configuration.detectionTransmits == 0 {
      address.state = .preferred
      addresses.append(address)
      return [.added(address.address), .preferred(address.address)]
    }
    address.solicitationsLeft = configuration.detectionTransmits
    let delay = configuration.maximumInitialDelay.nanoseconds
    address.nextDetectionEvent =
      now + Interval(nanoseconds: delay > 0 ? Int64(random.next(below: UInt64(delay))) : 0)
    let nonce = random.next()
    address.nonce = (0..<6).map { UInt8(truncatingIfNeeded: nonce >> UInt64(8 * $0)) }
    addresses.append(address)
    return [.added(address.address)]
  }

  // MARK: Timers

  /// Runs detection and lifetimes.
  public mutating func poll(now: Instant) -> [IPv6AddressEvent] {
    var events: [IPv6AddressEvent] = []
    var index = 0
    while index < addresses.count {
      let entry = addresses[index]
      if let validUntil = entry.validUntil, validUntil <= now {
        addresses.remove(at: index)
        if entry.state != .duplicate { events.append(.removed(entry.address)) }
        continue
      }
      if entry.state == .tentative, let next = entry.nextDetectionEvent, next <= now {
        if entry.solicitationsLeft > 0 {
          addresses[index].solicitationsLeft -= 1
          addresses[index].nextDetectionEvent = now + retransmitTimer
          events.append(.sendDetectionSolicitation(entry.address, nonce: entry.nonce))
        } else {
          addresses[index].state = .preferred
          addresses[index].nextDetectionEvent = nil
          events.append(.preferred(entry.address))
        }
      }
      if addresses[index].state == .preferred, let preferredUntil = entry.preferredUntil,
        preferredUntil <= now
      {
        addresses[index].state = .deprecated
        events.append(.deprecated(entry.address))
      }
      index += 1
    }
    return events
  }

  /// When detection or a lifetime next needs ``poll(now:)``.
  public var nextDeadline: Instant? {
    var earliest: Instant? = nil
    for entry in addresses {
      if entry.state == .tentative {
        earliest = Instant.earliest(earliest, entry.nextDetectionEvent)
      }
      earliest = Instant.earliest(earliest, entry.validUntil)
      if entry.state == .preferred { earliest = Instant.earliest(earliest, entry.preferredUntil) }
    }
    return earliest
  }

  /// The instant a lifetime of `seconds` from `now` ends; nil for the infinite lifetime.
  static func deadline(_ seconds: UInt32, _ now: Instant) -> Instant? {
    seconds == NDPPrefixInformation.infinite ? nil : now + .seconds(Int64(seconds))
  }
}

/// What a change of the address table asks the layer to do.
public enum IPv6AddressEvent: Equatable, Sendable {
  /// A new (tentative) address: join its solicited-node group.
  case added(IPv6Address)
  /// Send a detection solicitation for the address, from the unspecified address, with this
  /// nonce.
  case sendDetectionSolicitation(IPv6Address, nonce: [UInt8])
  /// Detection passed (or the preferred lifetime was renewed): the address may be used.
  case preferred(IPv6Address)
  /// The preferred lifetime is over.
  case deprecated(IPv6Address)
  /// Another node has the address: leave its group; never use it.
  case duplicate(IPv6Address)
  /// The valid lifetime is over, or the address was removed: leave its group.
  case removed(IPv6Address)
}
