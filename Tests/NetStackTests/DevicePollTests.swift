import ARP
import Ethernet
import IPv4
import NetCore
import Testing

@testable import NetStack

/// The stack's one poll entry over a device, and the devices that wrap devices (pcap, faults,
/// tracing): the order of the work inside a poll, and that the wrappers see every frame both
/// ways or, when off, leave the frames to the device untouched.
@Suite struct DevicePollTests {
  static let ourMAC = MACAddress(0x02, 0, 0, 0, 0, 2)
  static let peerMAC = MACAddress(0x02, 0, 0, 0, 0, 1)
  static let start = Instant(nanoseconds: 1_000_000_000)

  /// An IPv4-only stack: the frames and deadlines counted here are ARP's alone (IPv6's
  /// start-up traffic is DirectStackIPv6Tests').
  static func stack() throws -> DirectStack {
    var configuration = DirectStackConfiguration(
      hardwareAddress: ourMAC, address: try IPv4CIDR(parsing: "10.0.0.2/24"), seed: 1)
    configuration.ipv6Enabled = false
    return DirectStack(configuration: configuration, now: start)
  }

  /// An ARP request for our address from 10.0.0.1.
  static func arpRequest() -> PacketBuffer {
    let message = ARPMessage(
      operation: .request, senderHardwareAddress: peerMAC,
      senderProtocolAddress: IPv4Address(10, 0, 0, 1), targetHardwareAddress: .zero,
      targetProtocolAddress: IPv4Address(10, 0, 0, 2))
    let buffer = PacketBuffer(capacity: 128, headroom: 64)
    buffer.append(ARPPacket.length)
    buffer.withMutableBytes { message.emit(into: &$0) }
    EthernetHeader(destination: .broadcast, source: peerMAC, etherType: .arp).prepend(to: buffer)
    return buffer
  }

  @Test func onePollReceivesAnswersAndTransmits() throws {
    var stack = try Self.stack()
    var device = MemoryDevice()
    _ = stack.poll(now: Self.start, device: &device)
    _ = device.takeSent()  // the gratuitous ARP
    device.inbox.append(Self.arpRequest())
    let deadline = stack.poll(now: Self.start, device: &device)
    // The reply was built from what was received and handed to the device in the same poll.
    let sent = device.takeSent()
    #expect(sent.count == 1)
    let reply: EthernetHeader? = sent[0].withBytes { bytes in
      guard let frame = try? EthernetFrame(checking: bytes) else { return nil }
      return frame.header
    }
    #expect(reply?.destination == Self.peerMAC && reply?.etherType == .arp)
    #expect(deadline.map { $0 > Self.start } ?? true)
  }

  @Test func aFullBatchAsksToBePolledAgainAtOnce() throws {
    var stack = try Self.stack()
    var device = MemoryDevice()
    for _ in 0..<5 { device.inbox.append(Self.arpRequest()) }
    #expect(stack.poll(now: Self.start, device: &device, receiveBatch: 3) == Self.start)
    #expect(device.inbox.count == 2)
    #expect(stack.poll(now: Self.start, device: &device, receiveBatch: 3) != Self.start)
  }

  /// A poll that reads nothing (a runtime sending what it queued beside the stack) says when
  /// the stack's next deadline is, not "at once": it saw no full batch.
  @Test func aPollThatReadsNothingReturnsTheStacksDeadline() throws {
    var stack = try Self.stack()
    var device = MemoryDevice()
    let deadline = stack.poll(now: Self.start, device: &device)
    device.inbox.append(Self.arpRequest())
    #expect(stack.poll(now: Self.start, device: &device, receiveBatch: 0) == deadline)
    #expect(device.inbox.count == 1)
  }

  /// A pcap sink that keeps the records.
  final class RecordingSink: PcapSink {
    var frames: [[UInt8]] = []
    var flushes = 0
    func record(_ frame: Span<UInt8>, at now: Instant) {
      frames.append((0..<frame.count).map { frame[$0] })
    }
    func flush() { flushes += 1 }
  }

  @Test func pcapRecordsBothWaysAndFlushesWithinASecond() throws {
    var stack = try Self.stack()
    let sink = RecordingSink()
    var device = PcapDevice(wrapping: MemoryDevice(), sink: sink)
    _ = stack.poll(now: Self.start, device: &device)
    device.inner.inbox.append(Self.arpRequest())
    let deadline = stack.poll(now: Self.start, device: &device)
    // The announcement, the request and the reply, in that order.
    #expect(sink.frames.count == 3)
    #expect(device.inner.sent.count == 2)
    #expect(sink.frames[1] == Self.arpRequest().withBytes { b in (0..<b.count).map { b[$0] } })
    #expect(deadline == Self.start + .seconds(1))
    _ = stack.poll(now: Self.start + .seconds(1), device: &device)
    #expect(sink.flushes == 1)
  }

  @Test func withoutASinkPcapPassesTheQueueStraightThrough() throws {
    var stack = try Self.stack()
    var device = PcapDevice<MemoryDevice, RecordingSink>(wrapping: MemoryDevice(), sink: nil)
    _ = stack.poll(now: Self.start, device: &device)
    #expect(device.inner.sent.count == 1)
    #expect(device.nextDeadline == nil)
  }

  @Test func impairmentDropsAndDelays() throws {
    var loss = ImpairmentConfiguration()
    loss.lossPerMillion = 1_000_000
    var stack = try Self.stack()
    var dropping = ImpairedDevice(wrapping: MemoryDevice(), configuration: loss, seed: 1)
    dropping.inner.inbox.append(Self.arpRequest())
    _ = stack.poll(now: Self.start, device: &dropping)
    #expect(dropping.inner.sent.isEmpty, "everything lost both ways")
    #expect(stack.ipv4.link.arpCounters.requestsReceived == 0)

    var delay = ImpairmentConfiguration()
    delay.delay = .milliseconds(5)
    var other = try Self.stack()
    var delaying = ImpairedDevice(wrapping: MemoryDevice(), configuration: delay, seed: 1)
    let deadline = other.poll(now: Self.start, device: &delaying)
    #expect(delaying.inner.sent.isEmpty)
    #expect(deadline == Self.start + .milliseconds(5))
    _ = other.poll(now: Self.start + .milliseconds(5), device: &delaying)
    #expect(delaying.inner.sent.count == 1)
  }

  @Test func tracingDescribesEveryFrame() throws {
    var stack = try Self.stack()
    var lines: [String] = []
    var device = TracingDevice(wrapping: MemoryDevice()) { lines.append($0) }
    device.inner.inbox.append(Self.arpRequest())
    _ = stack.poll(now: Self.start, device: &device)
    #expect(lines.filter { $0.hasPrefix("in  ") }.count == 1)
    #expect(lines.filter { $0.hasPrefix("out ") }.count == 2)
  }
}
