import IPv4
import NetCore

/// One packet an `IPv4Layer` handed its link.
struct SentPacket: Equatable {
  var bytes: [UInt8]
  var nextHop: IPv4Address
}

/// A link that records what the IPv4 layer sends through it.
struct RecordingLink: IPv4Link {
  var mtu = 1500
  var headerLength = 14
  var supportsSegmentationOffload = false
  var sent: [SentPacket] = []
  var address: IPv4CIDR?
  var polls: [Instant] = []
  var nextDeadline: Instant? = nil

  mutating func send(_ packet: PacketBuffer, to nextHop: IPv4Address, now: Instant) {
    sent.append(SentPacket(bytes: packet.withBytes { $0.copyToArray() }, nextHop: nextHop))
  }

  mutating func setAddress(_ address: IPv4CIDR?, now: Instant) { self.address = address }

  mutating func poll(now: Instant) { polls.append(now) }
}

extension IPv4Layer where Link == RecordingLink {
  /// Takes the packets sent so far.
  mutating func takeSent() -> [SentPacket] {
    defer { link.sent.removeAll() }
    return link.sent
  }
}

/// A layer with vb's address (10.77.0.2/24), as in the captures, over a recording link.
func makeLayer(
  identificationSeed: UInt16 = 0, mtu: Int = 1500, gateway: IPv4Address? = nil,
  reassembly: IPv4Reassembler.Configuration = IPv4Reassembler.Configuration(),
  errorRateLimiter: ICMPv4RateLimiter = ICMPv4RateLimiter()
) -> IPv4Layer<RecordingLink> {
  var link = RecordingLink()
  link.mtu = mtu
  var layer = IPv4Layer(
    link: link, identificationSeed: identificationSeed, reassembly: reassembly,
    errorRateLimiter: errorRateLimiter)
  layer.configure(
    address: IPv4CIDR(address: LinuxCaptures.vb, prefixLength: 24), gateway: gateway, now: .zero)
  return layer
}

/// A packet buffer holding `bytes`, with room for headers in front.
func buffer(_ bytes: [UInt8]) -> PacketBuffer {
  PacketBuffer(copying: bytes.span)
}

/// Builds an IPv4 packet around `payload` (the header computed by `IPv4Header.emit`).
func ipv4Packet(_ header: IPv4Header, payload: [UInt8]) -> [UInt8] {
  var header = header
  header.payloadLength = payload.count
  var bytes = [UInt8](repeating: 0, count: IPv4Header.length)
  var span = bytes.mutableSpan
  header.emit(into: &span)
  return bytes + payload
}

/// Rewrites the header checksum of `packet` after a test changed a header field.
func fixHeaderChecksum(_ packet: inout [UInt8]) {
  let headerLength = Int(packet[0] & 0x0F) * 4
  packet[10] = 0
  packet[11] = 0
  let checksum = InternetChecksum.compute(
    packet.span.extracting(0..<min(headerLength, packet.count)))
  packet[10] = UInt8(checksum >> 8)
  packet[11] = UInt8(checksum & 0xFF)
}

/// `count` bytes from a seeded generator.
func randomBytes(_ count: Int, _ random: inout PseudoRandomGenerator) -> [UInt8] {
  (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
}

/// The error `IPv4Packet(checking:)` throws for `bytes`, or nil when it parses.
func ipv4ParseError(_ bytes: [UInt8]) -> WireError? {
  do {
    _ = try IPv4Packet(checking: bytes.span)
    return nil
  } catch {
    return error
  }
}
