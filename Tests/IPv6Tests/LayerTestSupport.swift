import IPv6
import NetCore

/// One packet an `IPv6Layer` handed its link.
struct SentFrame: Equatable {
  var bytes: [UInt8]
  var destination: MACAddress
}

/// A link that records what the IPv6 layer sends through it.
struct RecordingLink: IPv6Link {
  var mtu = 1500
  var headerLength = 14
  var supportsSegmentationOffload = false
  var hardwareAddress = LinuxCaptures.macB
  var sent: [SentFrame] = []
  var groups: Set<IPv6Address> = []
  var groupLimit = 32

  mutating func send(_ packet: PacketBuffer, to destination: MACAddress, now: Instant) {
    sent.append(SentFrame(bytes: packet.withBytes { $0.copyToArray() }, destination: destination))
  }

  mutating func joinMulticastGroup(_ group: IPv6Address) -> Bool {
    guard groups.count < groupLimit else { return false }
    groups.insert(group)
    return true
  }

  mutating func leaveMulticastGroup(_ group: IPv6Address) { groups.remove(group) }
}

extension IPv6Layer where Link == RecordingLink {
  /// Takes the packets sent so far.
  mutating func takeSent() -> [SentFrame] {
    defer { link.sent.removeAll() }
    return link.sent
  }
}

/// A layer with B's MAC (unless another is given) over a recording link, started, its
/// link-local address formed and through duplicate address detection, with `addresses` added
/// and also through detection. The clock is then at `readyAt` and what was sent until then is
/// discarded.
func makeLayer(
  mtu: Int = 1500, addresses: [IPv6CIDR] = [],
  configuration: IPv6Layer<RecordingLink>.Configuration = quietConfiguration,
  hardwareAddress: MACAddress = LinuxCaptures.macB, seed: UInt64 = 1,
  errorRateLimiter: ICMPv6ErrorRateLimiter = ICMPv6ErrorRateLimiter(),
  budget: MemoryBudget = MemoryBudget()
) -> IPv6Layer<RecordingLink> {
  var link = RecordingLink()
  link.mtu = mtu
  link.hardwareAddress = hardwareAddress
  var layer = IPv6Layer(
    link: link, configuration: configuration, secretKey: testSecretKey, randomSeed: seed,
    errorRateLimiter: errorRateLimiter, budget: budget)
  layer.start(now: .zero)
  for cidr in addresses { try! layer.addAddress(cidr, now: .zero) }
  // Detection: the random delay (< 1 s), one solicitation, one retransmit timer (1 s).
  var now = Instant.zero
  while now < readyAt {
    now += .milliseconds(100)
    layer.poll(now: now)
  }
  _ = layer.takeSent()
  return layer
}

/// When `makeLayer`'s addresses have passed detection.
let readyAt = Instant.zero + .seconds(3)

/// The default configuration without router solicitations, so that what a test sends is
/// all the link carries.
let quietConfiguration: IPv6Layer<RecordingLink>.Configuration = {
  var configuration = IPv6Layer<RecordingLink>.Configuration()
  configuration.routerSolicitations = 0
  return configuration
}()

extension IPv6Layer {
  /// Receives `bytes` as a frame to our own MAC (or, with `multicast`, to a group's).
  mutating func receive(_ bytes: [UInt8], multicast: Bool = false, at now: Instant) -> IPv6Input {
    receive(bytes.span, linkMulticast: multicast, now: now)
  }

  /// Whether the interface has `address` usable.
  func has(_ address: IPv6Address) -> Bool {
    addresses.contains { $0.address == address && $0.isUsable }
  }
}

/// The ICMPv6 type of each frame (nil for frames that are not ICMPv6 after the fixed header or
/// one hop-by-hop header).
func icmpTypes(_ frames: [SentFrame]) -> [ICMPv6Type?] {
  frames.map { frame in
    guard let packet = try? IPv6Packet(checking: frame.bytes.span) else { return nil }
    if packet.nextHeader == .icmpv6 { return ICMPv6Type(rawValue: frame.bytes[40]) }
    if packet.nextHeader == .hopByHopOptions, frame.bytes[40] == 58, frame.bytes.count > 48 {
      return ICMPv6Type(rawValue: frame.bytes[48])
    }
    return nil
  }
}
