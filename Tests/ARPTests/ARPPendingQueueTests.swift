import ARP
import NetCore
import Testing

/// Packets waiting for their next hop's hardware address.
struct ARPPendingQueueTests {
  let first = IPv4Address(10, 0, 0, 1)
  let second = IPv4Address(10, 0, 0, 2)

  func packet(_ tag: UInt8) -> PacketBuffer {
    PacketBuffer(copying: [tag].span, headroom: 0)
  }

  func tags(_ packets: [PacketBuffer]) -> [UInt8] {
    packets.map { $0.withBytes { $0[0] } }
  }

  @Test func releasesInOrderPerNextHop() {
    var queue = ARPPendingQueue()
    #expect(queue.enqueue(packet(1), for: first) == true)
    #expect(queue.enqueue(packet(2), for: second) == true)
    #expect(queue.enqueue(packet(3), for: first) == true)
    #expect(queue.enqueue(packet(4), for: second) == true)
    #expect(queue.count == 4)
    #expect(queue.count(for: first) == 2)
    #expect(tags(queue.release(first)) == [1, 3])
    #expect(queue.count == 2)
    #expect(queue.release(first).isEmpty)
    #expect(queue.drop(second) == 2)
    #expect(queue.count == 0)
  }

  @Test func perDestinationLimit() {
    var queue = ARPPendingQueue(totalLimit: 10, perDestinationLimit: 3)
    for tag: UInt8 in 0..<3 { #expect(queue.enqueue(packet(tag), for: first) == true) }
    #expect(queue.enqueue(packet(9), for: first) == false)
    #expect(queue.enqueue(packet(10), for: second) == true)
    #expect(tags(queue.release(first)) == [0, 1, 2])
  }

  @Test func totalLimit() {
    var queue = ARPPendingQueue(totalLimit: 4, perDestinationLimit: 3)
    for tag: UInt8 in 0..<3 { #expect(queue.enqueue(packet(tag), for: first) == true) }
    #expect(queue.enqueue(packet(3), for: second) == true)
    #expect(queue.enqueue(packet(4), for: second) == false)
    #expect(queue.enqueue(packet(5), for: IPv4Address(10, 0, 0, 3)) == false)
    _ = queue.release(first)
    #expect(queue.enqueue(packet(6), for: IPv4Address(10, 0, 0, 3)) == true)
  }

  @Test func defaults() {
    let queue = ARPPendingQueue()
    #expect(queue.totalLimit == 256)
    #expect(queue.perDestinationLimit == 64)
  }
}
