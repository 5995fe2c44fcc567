import ARP
import NetCore
import Testing

/// The neighbour cache as a state machine, driven by a manual clock.
struct ARPCacheTests {
  let peer = IPv4Address(10, 77, 0, 1)
  let mac = MACAddress(0x02, 0x4E, 0x53, 0x00, 0x00, 0x01)

  func at(_ seconds: Double) -> Instant {
    Instant(nanoseconds: Int64(seconds * 1_000_000_000))
  }

  @Test func lookupStartsResolutionThenRetriesEverySecondThenFails() {
    var cache = ARPCache()
    #expect(cache.lookup(peer, now: at(0)) == .startResolution)
    #expect(cache.entry(for: peer)?.state == .incomplete(requestsSent: 1, nextRequest: at(1)))
    #expect(cache.lookup(peer, now: at(0.2)) == .pending)
    #expect(cache.nextDeadline == at(1))
    #expect(cache.poll(now: at(0.999)).isEmpty)
    #expect(cache.poll(now: at(1)) == [.sendRequest(peer, to: nil)])
    #expect(cache.entry(for: peer)?.state == .incomplete(requestsSent: 2, nextRequest: at(2)))
    #expect(cache.lookup(peer, now: at(1.5)) == .pending)
    #expect(cache.poll(now: at(2)) == [.sendRequest(peer, to: nil)])
    #expect(cache.nextDeadline == at(3))
    // Three requests went out (one from the lookup, two retries): give up.
    #expect(cache.poll(now: at(3)) == [.failed(peer)])
    #expect(cache.entry(for: peer) == nil)
    #expect(cache.entries.isEmpty)
    #expect(cache.nextDeadline == nil)
    #expect(cache.poll(now: at(10)).isEmpty)
    // The next lookup starts over.
    #expect(cache.lookup(peer, now: at(11)) == .startResolution)
  }

  @Test func lateTimersStillCountRequests() {
    var cache = ARPCache()
    _ = cache.lookup(peer, now: at(0))
    // A poll long after the deadline sends one request, not a burst.
    #expect(cache.poll(now: at(5)) == [.sendRequest(peer, to: nil)])
    #expect(cache.poll(now: at(5.5)).isEmpty)
    #expect(cache.poll(now: at(6)) == [.sendRequest(peer, to: nil)])
    #expect(cache.poll(now: at(7)) == [.failed(peer)])
  }

  @Test func updateResolvesAPendingLookup() {
    var cache = ARPCache()
    _ = cache.lookup(peer, now: at(0))
    #expect(cache.update(peer, hardwareAddress: mac, now: at(0.5), create: false) == true)
    #expect(cache.entry(for: peer)?.state == .reachable(mac, until: at(30.5)))
    #expect(cache.lookup(peer, now: at(1)) == .resolved(mac))
    #expect(cache.poll(now: at(3)).isEmpty)
    #expect(cache.nextDeadline == nil)
  }

  /// RFC 826's merge: an existing entry is always updated; a new one only when asked.
  @Test func mergeRule() {
    var cache = ARPCache()
    #expect(cache.update(peer, hardwareAddress: mac, now: at(0), create: false) == false)
    #expect(cache.entry(for: peer) == nil)
    #expect(cache.update(peer, hardwareAddress: mac, now: at(0), create: true) == false)
    #expect(cache.entry(for: peer)?.state == .reachable(mac, until: at(30)))
    // A known address that moved to another MAC is updated, and refreshed.
    let moved = MACAddress(0x02, 0, 0, 0, 0, 0x99)
    #expect(cache.update(peer, hardwareAddress: moved, now: at(10), create: false) == false)
    #expect(cache.entry(for: peer)?.state == .reachable(moved, until: at(40)))
    #expect(cache.lookup(peer, now: at(11)) == .resolved(moved))
  }

  @Test func reachableBecomesStaleAndIsProbedOnUse() {
    var cache = ARPCache()
    cache.update(peer, hardwareAddress: mac, now: at(0), create: true)
    #expect(cache.poll(now: at(29.9)).isEmpty)
    #expect(cache.entry(for: peer)?.state == .reachable(mac, until: at(30)))
    #expect(cache.poll(now: at(30)).isEmpty)
    #expect(cache.entry(for: peer)?.state == .stale(mac, since: at(30)))
    #expect(cache.nextDeadline == nil)
    // Use: still answered with the old MAC, plus a unicast probe.
    #expect(cache.lookup(peer, now: at(40)) == .resolvedProbe(mac))
    #expect(cache.entry(for: peer)?.state == .probing(mac, probesSent: 1, nextProbe: at(41)))
    #expect(cache.nextDeadline == at(41))
    // Further use while probing sends no more probes of its own.
    #expect(cache.lookup(peer, now: at(40.5)) == .resolved(mac))
    // A reply makes it reachable again.
    #expect(cache.update(peer, hardwareAddress: mac, now: at(40.7), create: false) == false)
    #expect(cache.entry(for: peer)?.state == .reachable(mac, until: at(70.7)))
    #expect(cache.poll(now: at(41)).isEmpty)
    #expect(cache.lookup(peer, now: at(50)) == .resolved(mac))
  }

  @Test func silenceWhileProbingRemovesTheEntry() {
    var cache = ARPCache()
    cache.update(peer, hardwareAddress: mac, now: at(0), create: true)
    _ = cache.poll(now: at(30))
    #expect(cache.lookup(peer, now: at(31)) == .resolvedProbe(mac))
    #expect(cache.poll(now: at(32)) == [.sendRequest(peer, to: mac)])
    #expect(cache.poll(now: at(33)) == [.sendRequest(peer, to: mac)])
    // Three unicast probes unanswered: forgotten (nothing waits for it, so no failure event).
    #expect(cache.poll(now: at(34)).isEmpty)
    #expect(cache.entry(for: peer) == nil)
    #expect(cache.lookup(peer, now: at(35)) == .startResolution)
  }

  /// An entry past its reachable time is re-validated on use even before a poll marks it
  /// stale.
  @Test func expiredReachableEntryIsProbedWithoutAPoll() {
    var cache = ARPCache()
    cache.update(peer, hardwareAddress: mac, now: at(0), create: true)
    #expect(cache.lookup(peer, now: at(29)) == .resolved(mac))
    #expect(cache.lookup(peer, now: at(30)) == .resolvedProbe(mac))
  }

  @Test func unusedStaleEntriesAgeOut() {
    var cache = ARPCache()
    cache.update(peer, hardwareAddress: mac, now: at(0), create: true)
    _ = cache.poll(now: at(30))
    #expect(cache.poll(now: at(89.9)).isEmpty)
    #expect(cache.entry(for: peer)?.state == .stale(mac, since: at(30)))
    _ = cache.poll(now: at(90))
    #expect(cache.entry(for: peer) == nil)
  }

  @Test func lookupRecordsUseButEntryDoesNot() {
    var cache = ARPCache()
    cache.update(peer, hardwareAddress: mac, now: at(0), create: true)
    _ = cache.entry(for: peer)
    #expect(cache.entry(for: peer)?.lastUsed == at(0))
    _ = cache.lookup(peer, now: at(5))
    #expect(cache.entry(for: peer)?.lastUsed == at(5))
  }

  @Test func removeForgetsAnAddress() {
    var cache = ARPCache()
    cache.update(peer, hardwareAddress: mac, now: at(0), create: true)
    cache.update(IPv4Address(10, 77, 0, 3), hardwareAddress: mac, now: at(0), create: true)
    cache.remove(peer)
    cache.remove(IPv4Address(1, 1, 1, 1))
    #expect(cache.entry(for: peer) == nil)
    #expect(cache.entry(for: IPv4Address(10, 77, 0, 3)) != nil)
    #expect(cache.entries.count == 1)
  }

  func small(_ capacity: Int) -> ARPCache {
    var configuration = ARPCache.Configuration()
    configuration.capacity = capacity
    return ARPCache(configuration: configuration)
  }

  func host(_ last: UInt8) -> IPv4Address { IPv4Address(10, 77, 0, last) }

  @Test func capacityEvictsTheLeastRecentlyUsed() {
    var cache = small(3)
    for index in 1...3 {
      cache.update(host(UInt8(index)), hardwareAddress: mac, now: at(Double(index)), create: true)
    }
    _ = cache.lookup(host(1), now: at(10))  // host 2 is now the least recently used
    cache.update(host(4), hardwareAddress: mac, now: at(11), create: true)
    #expect(cache.entries.count == 3)
    #expect(cache.evictions == 1)
    #expect(cache.entry(for: host(2)) == nil)
    for index in [1, 3, 4] { #expect(cache.entry(for: host(UInt8(index))) != nil) }
  }

  /// Entries being resolved are kept in preference to resolved ones, however old.
  @Test func evictionPrefersResolvedEntries() {
    var cache = small(2)
    #expect(cache.lookup(host(1), now: at(0)) == .startResolution)
    cache.update(host(2), hardwareAddress: mac, now: at(0.5), create: true)
    #expect(cache.lookup(host(3), now: at(0.6)) == .startResolution)
    #expect(cache.entry(for: host(1)) != nil)
    #expect(cache.entry(for: host(2)) == nil)
    #expect(cache.entry(for: host(3)) != nil)
    // All entries resolving: the least recently used goes.
    #expect(cache.lookup(host(4), now: at(0.7)) == .startResolution)
    #expect(cache.entry(for: host(1)) == nil)
    #expect(cache.entries.count == 2)
    #expect(cache.evictions == 2)
  }

  /// Filling the cache far past its capacity keeps it at its capacity, and its index
  /// consistent with its entries.
  @Test func staysBoundedUnderAFlood() {
    var cache = small(16)
    for index in 0..<1000 {
      let address = IPv4Address(rawValue: 0x0A00_0000 + UInt32(index))
      if index % 3 == 0 {
        _ = cache.lookup(address, now: at(Double(index) / 100))
      } else {
        cache.update(address, hardwareAddress: mac, now: at(Double(index) / 100), create: true)
      }
      #expect(cache.entries.count <= 16)
    }
    #expect(cache.entries.count == 16)
    for entry in cache.entries {
      #expect(cache.entry(for: entry.address)?.address == entry.address)
    }
    // Every resolution fails and every mapping ages out: nothing is left.
    for second in 1000...1003 { _ = cache.poll(now: at(Double(second))) }
    #expect(cache.entries.isEmpty)
  }

  @Test func nextDeadlineIsTheEarliestRequestOrProbe() {
    var cache = ARPCache()
    _ = cache.lookup(host(1), now: at(0.3))
    _ = cache.lookup(host(2), now: at(0.1))
    cache.update(host(3), hardwareAddress: mac, now: at(0), create: true)
    #expect(cache.nextDeadline == at(1.1))
    #expect(cache.poll(now: at(1.1)) == [.sendRequest(host(2), to: nil)])
    #expect(cache.nextDeadline == at(1.3))
    cache.remove(host(1))
    cache.remove(host(2))
    #expect(cache.nextDeadline == nil)
    _ = cache.poll(now: at(30))
    _ = cache.lookup(host(3), now: at(30.05))
    #expect(cache.nextDeadline == at(31.05))
  }

  @Test func customTimers() {
    var configuration = ARPCache.Configuration()
    configuration.retransmitInterval = .milliseconds(200)
    configuration.maximumRequests = 5
    configuration.reachableTime = .seconds(5)
    var cache = ARPCache(configuration: configuration)
    _ = cache.lookup(peer, now: at(0))
    var events: [ARPCacheEvent] = []
    for step in 1...5 { events += cache.poll(now: at(Double(step) * 0.2)) }
    #expect(events == Array(repeating: .sendRequest(peer, to: nil), count: 4) + [.failed(peer)])
    cache.update(peer, hardwareAddress: mac, now: at(2), create: true)
    #expect(cache.entry(for: peer)?.state == .reachable(mac, until: at(7)))
  }

  @Test func stateHardwareAddress() {
    #expect(ARPCache.State.incomplete(requestsSent: 1, nextRequest: .zero).hardwareAddress == nil)
    #expect(ARPCache.State.reachable(mac, until: .zero).hardwareAddress == mac)
    #expect(ARPCache.State.stale(mac, since: .zero).hardwareAddress == mac)
    #expect(ARPCache.State.probing(mac, probesSent: 1, nextProbe: .zero).hardwareAddress == mac)
  }
}
