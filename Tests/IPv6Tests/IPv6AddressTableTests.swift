import IPv6
import NetCore
import Testing

/// Address configuration (RFC 4862): duplicate address detection, regeneration after a
/// duplicate (RFC 7217 §6), autoconfiguration with the two-hours rule, lifetimes, and source
/// selection (RFC 6724).
struct IPv6AddressTableTests {
  let identifiers = StableInterfaceIdentifier(
    secretKey: testSecretKey, interface: LinuxCaptures.macB)
  let manual = IPv6CIDR(address: LinuxCaptures.globalB, prefixLength: 64)

  func prefixInformation(
    valid: UInt32, preferred: UInt32, length: Int = 64, autonomous: Bool = true,
    prefix: IPv6Address = LinuxCaptures.prefix
  ) -> NDPPrefixInformation {
    NDPPrefixInformation(
      prefix: prefix, prefixLength: length, onLink: true, autonomous: autonomous,
      validLifetime: valid, preferredLifetime: preferred)
  }

  @Test func detectionThenPreferred() {
    var table = IPv6AddressTable(identifiers: identifiers)
    var random = PseudoRandomGenerator(seed: 1)
    let events = table.addManual(manual, now: .zero, random: &random)
    #expect(events == [.added(LinuxCaptures.globalB)])
    #expect(table.isTentative(LinuxCaptures.globalB))
    #expect(!table.isAssigned(LinuxCaptures.globalB))
    #expect(table.sourceAddress(for: LinuxCaptures.globalA) == nil)
    // The first solicitation after a random delay below MAX_RTR_SOLICITATION_DELAY.
    guard let first = table.nextDeadline, first < at(1) else {
      Issue.record("no delay below 1 s")
      return
    }
    let sent = table.poll(now: first)
    guard case .sendDetectionSolicitation(LinuxCaptures.globalB, let nonce) = sent.first else {
      Issue.record("no solicitation: \(sent)")
      return
    }
    #expect(nonce.count == 6)
    #expect(table.isOwnSolicitation(for: LinuxCaptures.globalB, nonce: nonce))
    #expect(!table.isOwnSolicitation(for: LinuxCaptures.globalB, nonce: [0, 0, 0, 0, 0, 0]))
    #expect(!table.isOwnSolicitation(for: LinuxCaptures.globalB, nonce: nil))
    // One RetransTimer later, preferred.
    #expect(table.poll(now: first + .milliseconds(999)).isEmpty)
    #expect(table.poll(now: first + .seconds(1)) == [.preferred(LinuxCaptures.globalB)])
    #expect(table.isAssigned(LinuxCaptures.globalB))
    #expect(table.sourceAddress(for: LinuxCaptures.globalA) == LinuxCaptures.globalB)
  }

  @Test func detectionOff() {
    var configuration = IPv6AddressTable.Configuration()
    configuration.detectionTransmits = 0
    var table = IPv6AddressTable(identifiers: identifiers, configuration: configuration)
    var random = PseudoRandomGenerator(seed: 1)
    #expect(
      table.addManual(manual, now: .zero, random: &random)
        == [.added(LinuxCaptures.globalB), .preferred(LinuxCaptures.globalB)])
  }

  @Test func duplicateManualAddressIsNeverUsed() {
    var table = IPv6AddressTable(identifiers: identifiers)
    var random = PseudoRandomGenerator(seed: 1)
    _ = table.addManual(manual, now: .zero, random: &random)
    #expect(
      table.detectedDuplicate(LinuxCaptures.globalB, now: at(0.5), random: &random)
        == [.duplicate(LinuxCaptures.globalB)])
    #expect(table.entry(for: LinuxCaptures.globalB)?.state == .duplicate)
    #expect(table.poll(now: at(10)).isEmpty)
    #expect(!table.isAssigned(LinuxCaptures.globalB))
    #expect(table.duplicatesDetected == 1)
    // Only a tentative address can be found duplicate.
    #expect(table.detectedDuplicate(LinuxCaptures.globalB, now: at(11), random: &random).isEmpty)
  }

  @Test func duplicateStableAddressIsFormedAgain() {
    var table = IPv6AddressTable(identifiers: identifiers)
    var random = PseudoRandomGenerator(seed: 1)
    let added = table.addLinkLocal(now: .zero, random: &random)
    guard case .added(let first) = added.first else {
      Issue.record("no link-local address")
      return
    }
    #expect(first.isLinkLocal)
    #expect(first.low == identifiers.identifier(prefix: .linkLocalPrefix, dadCounter: 0).identifier)
    var current = first
    for counter in 1...3 {
      let events = table.detectedDuplicate(current, now: .zero, random: &random)
      guard events.count == 2, case .added(let next) = events[1] else {
        Issue.record("not formed again: \(events)")
        return
      }
      #expect(events[0] == .duplicate(current))
      #expect(
        next.low == identifiers.identifier(prefix: .linkLocalPrefix, dadCounter: counter).identifier
      )
      #expect(table.entry(for: next)?.dadCounter == counter)
      current = next
    }
    // IDGEN_RETRIES (3) used up: the last one stays a duplicate.
    #expect(table.detectedDuplicate(current, now: .zero, random: &random) == [.duplicate(current)])
    #expect(table.linkLocalAddress == nil)
  }

  @Test func autoconfiguration() {
    var table = IPv6AddressTable(identifiers: identifiers)
    var random = PseudoRandomGenerator(seed: 1)
    let events = table.receivePrefix(
      prefixInformation(valid: 86400, preferred: 14400), now: .zero, random: &random)
    guard case .added(let address) = events.first else {
      Issue.record("no address")
      return
    }
    #expect(address.masked(prefixLength: 64) == LinuxCaptures.prefix)
    #expect(
      address.low == identifiers.identifier(prefix: LinuxCaptures.prefix, dadCounter: 0).identifier)
    let entry = table.entry(for: address)
    #expect(entry?.origin == .autoconfigured && entry?.state == .tentative)
    #expect(entry?.validUntil == at(86400) && entry?.preferredUntil == at(14400))
    // The same prefix again: no second address.
    #expect(
      table.receivePrefix(
        prefixInformation(valid: 86400, preferred: 14400), now: at(1), random: &random
      ).isEmpty)
    #expect(table.addresses.count == 1)
  }

  @Test func prefixesThatFormNothing() {
    var table = IPv6AddressTable(identifiers: identifiers)
    var random = PseudoRandomGenerator(seed: 1)
    // (a) no A flag, (b) link-local, (c) preferred above valid, valid 0, not /64.
    #expect(
      table.receivePrefix(
        prefixInformation(valid: 100, preferred: 50, autonomous: false), now: .zero, random: &random
      ).isEmpty)
    #expect(
      table.receivePrefix(
        prefixInformation(valid: 100, preferred: 50, prefix: .linkLocalPrefix), now: .zero,
        random: &random
      ).isEmpty)
    #expect(
      table.receivePrefix(prefixInformation(valid: 50, preferred: 100), now: .zero, random: &random)
        .isEmpty)
    #expect(
      table.receivePrefix(prefixInformation(valid: 0, preferred: 0), now: .zero, random: &random)
        .isEmpty)
    #expect(
      table.receivePrefix(
        prefixInformation(valid: 100, preferred: 50, length: 48), now: .zero, random: &random
      ).isEmpty)
    #expect(table.prefixesIgnoredForLength == 1)
    #expect(table.addresses.isEmpty)
  }

  /// RFC 4862 §5.5.3 (e), each branch.
  @Test func twoHoursRule() {
    var table = IPv6AddressTable(identifiers: identifiers)
    var random = PseudoRandomGenerator(seed: 1)
    guard
      case .added(let address) = table.receivePrefix(
        prefixInformation(valid: 86400, preferred: 14400), now: .zero, random: &random
      ).first
    else {
      Issue.record("no address")
      return
    }
    func valid() -> Instant? { table.entry(for: address)?.validUntil }
    // Longer than two hours: taken.
    _ = table.receivePrefix(
      prefixInformation(valid: 10000, preferred: 5000), now: at(10), random: &random)
    #expect(valid() == at(10010))
    #expect(table.entry(for: address)?.preferredUntil == at(5010))
    // Short (60 s), remaining above two hours: cut to two hours, not to 60 s.
    _ = table.receivePrefix(
      prefixInformation(valid: 60, preferred: 30), now: at(20), random: &random)
    #expect(valid() == at(7220))
    // Short, remaining now at most two hours: ignored.
    _ = table.receivePrefix(
      prefixInformation(valid: 60, preferred: 30), now: at(30), random: &random)
    #expect(valid() == at(7220))
    // Short but longer than what remains: taken.
    _ = table.receivePrefix(
      prefixInformation(valid: 7200, preferred: 30), now: at(100), random: &random)
    #expect(valid() == at(7300))
    // Infinite: forever.
    _ = table.receivePrefix(
      prefixInformation(
        valid: NDPPrefixInformation.infinite, preferred: NDPPrefixInformation.infinite),
      now: at(200), random: &random)
    #expect(valid() == nil)
    #expect(table.entry(for: address)?.preferredUntil == nil)
  }

  @Test func lifetimesDeprecateThenRemove() {
    var table = IPv6AddressTable(identifiers: identifiers)
    var random = PseudoRandomGenerator(seed: 1)
    guard
      case .added(let address) = table.receivePrefix(
        prefixInformation(valid: 100, preferred: 50), now: .zero, random: &random
      ).first
    else {
      Issue.record("no address")
      return
    }
    _ = table.poll(now: at(1))
    _ = table.poll(now: at(2))
    #expect(table.entry(for: address)?.state == .preferred)
    #expect(table.poll(now: at(50)) == [.deprecated(address)])
    #expect(table.isAssigned(address))
    // Renewed before the end: preferred again.
    #expect(
      table.receivePrefix(
        prefixInformation(valid: 100, preferred: 50), now: at(60), random: &random) == [
          .preferred(address)
        ])
    #expect(table.poll(now: at(110)) == [.deprecated(address)])
    #expect(table.poll(now: at(159)).isEmpty)
    #expect(table.poll(now: at(160)) == [.removed(address)])
    #expect(table.addresses.isEmpty)
  }

  @Test func capacity() {
    var configuration = IPv6AddressTable.Configuration()
    configuration.capacity = 2
    var table = IPv6AddressTable(identifiers: identifiers, configuration: configuration)
    var random = PseudoRandomGenerator(seed: 1)
    _ = table.addLinkLocal(now: .zero, random: &random)
    #expect(table.addManual(manual, now: .zero, random: &random) != nil)
    #expect(
      table.addManual(
        IPv6CIDR(address: LinuxCaptures.globalR, prefixLength: 64), now: .zero, random: &random)
        == nil)
    #expect(
      table.receivePrefix(
        prefixInformation(
          valid: 100, preferred: 50, prefix: IPv6Address(0xfd00, 0x88, 0, 0, 0, 0, 0, 0)),
        now: .zero, random: &random
      ).isEmpty)
    #expect(table.refusedForCapacity == 2)
    // The same address twice, or a group: refused.
    #expect(table.addManual(manual, now: .zero, random: &random) == nil)
  }

  @Test func sourceSelection() {
    var configuration = IPv6AddressTable.Configuration()
    configuration.detectionTransmits = 0
    var table = IPv6AddressTable(identifiers: identifiers, configuration: configuration)
    var random = PseudoRandomGenerator(seed: 1)
    guard case .added(let linkLocal) = table.addLinkLocal(now: .zero, random: &random).first else {
      Issue.record("no link-local address")
      return
    }
    _ = table.addManual(manual, now: .zero, random: &random)
    let other = IPv6CIDR(address: IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 5), prefixLength: 64)
    _ = table.addManual(other, now: .zero, random: &random)
    // Rule 1: the destination itself.
    #expect(table.sourceAddress(for: LinuxCaptures.globalB) == LinuxCaptures.globalB)
    // Rule 2: a link-local destination (or group) gets the link-local address.
    #expect(table.sourceAddress(for: LinuxCaptures.linkLocalA) == linkLocal)
    #expect(table.sourceAddress(for: .allNodes) == linkLocal)
    // Global destinations: a global address; rule 8, the longest matching prefix.
    #expect(table.sourceAddress(for: LinuxCaptures.globalA) == LinuxCaptures.globalB)
    #expect(table.sourceAddress(for: IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9)) == other.address)
    #expect(table.sourceAddress(for: IPv6Address(0xff0e, 0, 0, 0, 0, 0, 0, 1)) != linkLocal)
  }

  @Test func sourceSelectionAvoidsDeprecated() {
    var configuration = IPv6AddressTable.Configuration()
    configuration.detectionTransmits = 0
    var table = IPv6AddressTable(identifiers: identifiers, configuration: configuration)
    var random = PseudoRandomGenerator(seed: 1)
    guard
      case .added(let autoconfigured) = table.receivePrefix(
        prefixInformation(valid: 1000, preferred: 10), now: .zero, random: &random
      ).first
    else {
      Issue.record("no address")
      return
    }
    let second = IPv6CIDR(address: IPv6Address(0xfd00, 0x77, 0, 1, 0, 0, 0, 5), prefixLength: 64)
    _ = table.addManual(second, now: .zero, random: &random)
    // Towards an address in the autoconfigured prefix: it matches longer, so it wins ...
    #expect(table.sourceAddress(for: LinuxCaptures.globalA) == autoconfigured)
    _ = table.poll(now: at(10))
    #expect(table.entry(for: autoconfigured)?.state == .deprecated)
    // ... until it is deprecated (rule 3 comes before rule 8).
    #expect(table.sourceAddress(for: LinuxCaptures.globalA) == second.address)
  }
}
