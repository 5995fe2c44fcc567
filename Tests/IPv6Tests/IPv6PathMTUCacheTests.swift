import IPv6
import NetCore
import Testing

/// Path MTU estimates from packet too big (RFC 8201 §4, §5.2).
struct IPv6PathMTUCacheTests {
  let far = IPv6Address(0xfd00, 0x78, 0, 0, 0, 0, 0, 3)
  let other = IPv6Address(0xfd00, 0x78, 0, 0, 0, 0, 0, 4)

  @Test func lowersOnlyAndAgesOut() {
    var cache = IPv6PathMTUCache()
    #expect(cache.pathMTU(to: far, linkMTU: 1500) == 1500)
    #expect(cache.lower(far, to: 1400, linkMTU: 1500, now: at(1)) == true)
    #expect(cache.pathMTU(to: far, linkMTU: 1500) == 1400)
    #expect(cache.pathMTU(to: other, linkMTU: 1500) == 1500)
    // Never up through a packet too big; never above the link.
    #expect(cache.lower(far, to: 1450, linkMTU: 1500, now: at(2)) == false)
    #expect(cache.pathMTU(to: far, linkMTU: 1300) == 1300)
    #expect(cache.lower(far, to: 1280, linkMTU: 1500, now: at(3)) == true)
    #expect(cache.pathMTU(to: far, linkMTU: 1500) == 1280)
    // A report at or above the link MTU for an unknown destination changes nothing.
    #expect(cache.lower(other, to: 1500, linkMTU: 1500, now: at(3)) == false)
    #expect(cache.entries.count == 1)
    // Ten minutes after the last decrease, the estimate is forgotten.
    #expect(cache.nextDeadline == at(603))
    cache.poll(now: at(602))
    #expect(cache.pathMTU(to: far, linkMTU: 1500) == 1280)
    cache.poll(now: at(603))
    #expect(cache.pathMTU(to: far, linkMTU: 1500) == 1500)
    #expect(cache.nextDeadline == nil)
  }

  @Test func boundedByEvictingTheOldest() {
    var configuration = IPv6PathMTUCache.Configuration()
    configuration.capacity = 3
    var cache = IPv6PathMTUCache(configuration: configuration)
    for index in 0..<5 {
      let destination = IPv6Address(0xfd00, 0, 0, 0, 0, 0, 0, UInt16(index))
      #expect(cache.lower(destination, to: 1300, linkMTU: 1500, now: at(Double(index))) == true)
    }
    #expect(cache.entries.count == 3)
    #expect(cache.evictions == 2)
    #expect(cache.pathMTU(to: IPv6Address(0xfd00, 0, 0, 0, 0, 0, 0, 0), linkMTU: 1500) == 1500)
    #expect(cache.pathMTU(to: IPv6Address(0xfd00, 0, 0, 0, 0, 0, 0, 4), linkMTU: 1500) == 1300)
  }
}
