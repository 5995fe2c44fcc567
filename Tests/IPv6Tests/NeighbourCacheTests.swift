import IPv6
import NetCore
import Testing

/// The neighbour cache's states and transitions (RFC 4861 §7.3, Appendix C) with explicit time.
struct NeighbourCacheTests {
  let neighbour = LinuxCaptures.globalB
  let mac = LinuxCaptures.macB

  func packet(_ tag: UInt8 = 0) -> PacketBuffer { PacketBuffer(copying: [tag].span, headroom: 0) }

  func state(_ cache: NeighbourCache, _ address: IPv6Address? = nil) -> String? {
    cache.entry(for: address ?? neighbour)?.state.name
  }

  @Test func resolutionQueuesThenReleases() {
    var cache = NeighbourCache()
    #expect(cache.resolve(neighbour, packet: packet(1), now: .zero) == .queued(solicit: true))
    #expect(cache.resolve(neighbour, packet: packet(2), now: .zero) == .queued(solicit: false))
    #expect(state(cache) == "INCOMPLETE")
    #expect(cache.queuedPackets == 2)
    let outcome = cache.receiveAdvertisement(
      neighbour, linkLayerAddress: mac, solicited: true, override: true, router: false, now: at(0.5)
    )
    #expect(outcome.linkLayerAddress == mac)
    #expect(outcome.released.map { $0.withBytes { $0[0] } } == [1, 2])
    #expect(state(cache) == "REACHABLE")
    #expect(cache.queuedPackets == 0)
    #expect(cache.resolve(neighbour, packet: packet(), now: at(1)) == .send(mac))
  }

  @Test func incompleteRetriesThenFails() {
    var cache = NeighbourCache()
    _ = cache.resolve(neighbour, packet: packet(), now: .zero)
    #expect(cache.nextDeadline == at(1))
    #expect(cache.poll(now: at(0.9)).isEmpty)
    guard case .solicit(neighbour, unicast: nil) = cache.poll(now: at(1)).first else {
      Issue.record("no second solicitation")
      return
    }
    guard case .solicit(neighbour, unicast: nil) = cache.poll(now: at(2)).first else {
      Issue.record("no third solicitation")
      return
    }
    // MAX_MULTICAST_SOLICIT (3) sent: one retransmit timer later the entry fails.
    guard case .failed(neighbour, let queued) = cache.poll(now: at(3)).first else {
      Issue.record("did not fail")
      return
    }
    #expect(queued.count == 1)
    #expect(cache.entry(for: neighbour) == nil)
    #expect(cache.queuedPackets == 0)
  }

  @Test func incompleteIgnoresAdvertisementWithoutAddress() {
    var cache = NeighbourCache()
    _ = cache.resolve(neighbour, packet: packet(), now: .zero)
    let outcome = cache.receiveAdvertisement(
      neighbour, linkLayerAddress: nil, solicited: true, override: true, router: false, now: .zero)
    #expect(outcome.released.isEmpty)
    #expect(state(cache) == "INCOMPLETE")
  }

  @Test func unsolicitedAdvertisementMakesStale() {
    var cache = NeighbourCache()
    _ = cache.resolve(neighbour, packet: packet(), now: .zero)
    let outcome = cache.receiveAdvertisement(
      neighbour, linkLayerAddress: mac, solicited: false, override: true, router: false, now: .zero)
    #expect(outcome.released.count == 1)
    #expect(state(cache) == "STALE")
  }

  @Test func advertisementForUnknownAddressIsIgnored() {
    var cache = NeighbourCache()
    _ = cache.receiveAdvertisement(
      neighbour, linkLayerAddress: mac, solicited: true, override: true, router: false, now: .zero)
    #expect(cache.entry(for: neighbour) == nil)
  }

  @Test func reachableStaleDelayProbe() {
    var cache = NeighbourCache()
    cache.reachableTime = .seconds(30)
    _ = cache.resolve(neighbour, packet: packet(), now: .zero)
    _ = cache.receiveAdvertisement(
      neighbour, linkLayerAddress: mac, solicited: true, override: true, router: false, now: .zero)
    #expect(cache.poll(now: at(29)).isEmpty)
    #expect(state(cache) == "REACHABLE")
    // ReachableTime over: STALE, without a message.
    #expect(cache.poll(now: at(30)).isEmpty)
    #expect(state(cache) == "STALE")
    // First use: sent at once, DELAY for DELAY_FIRST_PROBE_TIME (5 s).
    #expect(cache.resolve(neighbour, packet: packet(), now: at(40)) == .send(mac))
    #expect(state(cache) == "DELAY")
    #expect(cache.nextDeadline == at(45))
    guard case .solicit(neighbour, unicast: mac) = cache.poll(now: at(45)).first else {
      Issue.record("no probe")
      return
    }
    #expect(state(cache) == "PROBE")
    // Still used while probing.
    #expect(cache.resolve(neighbour, packet: packet(), now: at(45.5)) == .send(mac))
    // Two more probes, then gone (MAX_UNICAST_SOLICIT 3).
    #expect(cache.poll(now: at(46)).count == 1)
    #expect(cache.poll(now: at(47)).count == 1)
    #expect(cache.poll(now: at(48)).isEmpty)
    #expect(cache.entry(for: neighbour) == nil)
  }

  @Test func probeAnsweredBecomesReachable() {
    var cache = NeighbourCache()
    _ = cache.learn(neighbour, linkLayerAddress: mac, isRouter: nil, now: .zero)
    _ = cache.resolve(neighbour, packet: packet(), now: at(1))
    _ = cache.poll(now: at(6))
    #expect(state(cache) == "PROBE")
    // Linux's answer to a probe: solicited, no override, no address option.
    _ = cache.receiveAdvertisement(
      neighbour, linkLayerAddress: nil, solicited: true, override: false, router: false,
      now: at(6.1))
    #expect(state(cache) == "REACHABLE")
    #expect(cache.entry(for: neighbour)?.state.linkLayerAddress == mac)
  }

  @Test func upperLayerConfirmationSkipsTheProbe() {
    var cache = NeighbourCache()
    _ = cache.learn(neighbour, linkLayerAddress: mac, isRouter: nil, now: .zero)
    _ = cache.resolve(neighbour, packet: packet(), now: at(1))
    #expect(state(cache) == "DELAY")
    cache.confirmReachability(neighbour, now: at(2))
    #expect(state(cache) == "REACHABLE")
    #expect(cache.poll(now: at(6)).isEmpty)
  }

  @Test func learningFromSolicitations() {
    var cache = NeighbourCache()
    // A new entry from a solicitation's source address: STALE.
    #expect(cache.learn(neighbour, linkLayerAddress: mac, isRouter: nil, now: .zero).isEmpty)
    #expect(state(cache) == "STALE")
    _ = cache.receiveAdvertisement(
      neighbour, linkLayerAddress: mac, solicited: true, override: true, router: false, now: .zero)
    #expect(state(cache) == "REACHABLE")
    // The same address again changes nothing; another one makes it STALE.
    _ = cache.learn(neighbour, linkLayerAddress: mac, isRouter: nil, now: at(1))
    #expect(state(cache) == "REACHABLE")
    let other = MACAddress(0x02, 0, 0, 0, 0, 0x0c)
    _ = cache.learn(neighbour, linkLayerAddress: other, isRouter: nil, now: at(1))
    #expect(state(cache) == "STALE")
    #expect(cache.entry(for: neighbour)?.state.linkLayerAddress == other)
  }

  @Test func overrideFlagDecidesAnAddressChange() {
    var cache = NeighbourCache()
    _ = cache.learn(neighbour, linkLayerAddress: mac, isRouter: nil, now: .zero)
    cache.confirmReachability(neighbour, now: .zero)
    let other = MACAddress(0x02, 0, 0, 0, 0, 0x0c)
    // Without override: the cached address stays, but a REACHABLE entry becomes STALE.
    _ = cache.receiveAdvertisement(
      neighbour, linkLayerAddress: other, solicited: true, override: false, router: false,
      now: at(1))
    #expect(state(cache) == "STALE")
    #expect(cache.entry(for: neighbour)?.state.linkLayerAddress == mac)
    // With override: taken.
    _ = cache.receiveAdvertisement(
      neighbour, linkLayerAddress: other, solicited: false, override: true, router: false,
      now: at(2))
    #expect(cache.entry(for: neighbour)?.state.linkLayerAddress == other)
    #expect(state(cache) == "STALE")
  }

  @Test func routerFlag() {
    var cache = NeighbourCache()
    _ = cache.learn(
      LinuxCaptures.linkLocalR, linkLayerAddress: LinuxCaptures.macR, isRouter: true, now: .zero)
    #expect(cache.entry(for: LinuxCaptures.linkLocalR)?.isRouter == true)
    let outcome = cache.receiveAdvertisement(
      LinuxCaptures.linkLocalR, linkLayerAddress: LinuxCaptures.macR, solicited: true,
      override: false, router: false, now: at(1))
    #expect(outcome.routerFlagCleared)
    #expect(cache.entry(for: LinuxCaptures.linkLocalR)?.isRouter == false)
  }

  @Test func staleEntriesAgeOut() {
    var cache = NeighbourCache()
    _ = cache.learn(neighbour, linkLayerAddress: mac, isRouter: nil, now: .zero)
    _ = cache.poll(now: at(59))
    #expect(cache.entry(for: neighbour) != nil)
    _ = cache.poll(now: at(60))
    #expect(cache.entry(for: neighbour) == nil)
  }

  @Test func boundedQueuesAndBudget() {
    var configuration = NeighbourCache.Configuration()
    configuration.queuedPerEntry = 2
    configuration.queuedTotal = 3
    let budget = MemoryBudget()
    var cache = NeighbourCache(configuration: configuration, budget: budget)
    #expect(cache.resolve(neighbour, packet: packet(), now: .zero) == .queued(solicit: true))
    #expect(cache.resolve(neighbour, packet: packet(), now: .zero) == .queued(solicit: false))
    #expect(cache.resolve(neighbour, packet: packet(), now: .zero) == .dropped)
    #expect(budget.used(for: .neighbourQueues) > 0)
    #expect(
      cache.resolve(LinuxCaptures.globalR, packet: packet(), now: .zero) == .queued(solicit: true))
    #expect(cache.resolve(LinuxCaptures.globalA, packet: packet(), now: .zero) == .dropped)
    #expect(cache.queueOverflows == 2)
    #expect(cache.queuedPackets == 3)
    _ = cache.poll(now: at(1))
    _ = cache.poll(now: at(2))
    _ = cache.poll(now: at(3))
    #expect(cache.queuedPackets == 0)
    #expect(budget.used(for: .neighbourQueues) == 0)
  }

  @Test func fullCacheEvictsResolvedBeforeResolving() {
    var configuration = NeighbourCache.Configuration()
    configuration.capacity = 2
    var cache = NeighbourCache(configuration: configuration)
    _ = cache.resolve(neighbour, packet: packet(), now: .zero)
    _ = cache.learn(
      LinuxCaptures.globalR, linkLayerAddress: LinuxCaptures.macR, isRouter: nil, now: at(1))
    // A third: the resolved (if more recent) entry goes, not the one being resolved.
    _ = cache.learn(
      LinuxCaptures.globalA, linkLayerAddress: LinuxCaptures.macA, isRouter: nil, now: at(2))
    #expect(cache.entry(for: neighbour) != nil)
    #expect(cache.entry(for: LinuxCaptures.globalR) == nil)
    #expect(cache.evictions == 1)
    // Only INCOMPLETE entries: the oldest goes, its queue with it.
    _ = cache.remove(LinuxCaptures.globalA)
    _ = cache.resolve(LinuxCaptures.globalR, packet: packet(), now: at(3))
    _ = cache.resolve(LinuxCaptures.globalA, packet: packet(), now: at(4))
    #expect(cache.entry(for: neighbour) == nil)
    #expect(cache.queuedDroppedByEviction == 1)
    #expect(cache.queuedPackets == 2)
  }
}
