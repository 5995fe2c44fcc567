import IPv4
import NetCore
import UDP

/// One datagram handed to the network layer.
struct SentDatagram: Equatable {
  var bytes: [UInt8]
  var protocolNumber: IPProtocolNumber
  var destination: IPAddress
  var source: IPAddress?
}

/// A network layer that records what UDP sends, and can be told to fail.
struct FakeNetwork: TransportNetwork {
  var address: IPv4CIDR? = IPv4CIDR(address: LinuxCaptures.vb, prefixLength: 24)
  var maximumPayloadSize = 1480
  var supportsSegmentationOffload = false
  var headroom = 34
  var sent: [SentDatagram] = []
  var failure: TransportSendError? = nil

  /// On-link IPv4 destinations and broadcasts only.
  func sourceAddress(for destination: IPAddress) -> IPAddress? {
    guard case .v4(let destination) = destination else { return nil }
    if destination.isBroadcast || destination.isMulticast {
      return .v4(address?.address ?? .any)
    }
    guard let address, address.contains(destination) else { return nil }
    return .v4(address.address)
  }

  func maximumPayloadSize(to destination: IPAddress) -> Int { maximumPayloadSize }

  mutating func send(
    _ payload: PacketBuffer, protocolNumber: IPProtocolNumber, to destination: IPAddress,
    options: TransportSendOptions, now: Instant
  ) throws(TransportSendError) {
    if let failure { throw failure }
    sent.append(
      SentDatagram(
        bytes: payload.withBytes { $0.copyToArray() }, protocolNumber: protocolNumber,
        destination: destination, source: options.source))
  }
}

/// A link that records the packets an `IPv4Layer` sends.
struct RecordingLink: IPv4Link {
  var mtu = 1500
  var headerLength = 14
  var supportsSegmentationOffload = false
  var sent: [[UInt8]] = []
  var nextDeadline: Instant? { nil }

  mutating func send(_ packet: PacketBuffer, to nextHop: IPv4Address, now: Instant) {
    sent.append(packet.withBytes { $0.copyToArray() })
  }
  mutating func setAddress(_ address: IPv4CIDR?, now: Instant) {}
  mutating func poll(now: Instant) {}
}

/// An IPv4 layer with `address`/24 over a recording link.
func makeIPv4(_ address: IPv4Address = LinuxCaptures.vb, identificationSeed: UInt16 = 0)
  -> IPv4Layer<RecordingLink>
{
  var layer = IPv4Layer(link: RecordingLink(), identificationSeed: identificationSeed)
  layer.configure(address: IPv4CIDR(address: address, prefixLength: 24), gateway: nil, now: .zero)
  return layer
}

/// Passes `packet` through a real IPv4 layer (vb) and hands what it delivers to `udp`.
func deliver(
  _ packet: [UInt8], to udp: inout UDPLayer, checksumVerified: Bool = false,
  linkBroadcast: Bool = false
) -> UDPInput? {
  var ipv4 = makeIPv4()
  guard
    case .local(let delivery) = ipv4.receive(packet.span, linkBroadcast: linkBroadcast, now: .zero)
  else { return nil }
  let length = delivery.headerLength + delivery.header.payloadLength
  return udp.input(
    TransportDelivery(delivery, checksumVerified: checksumVerified),
    datagram: packet.span.extracting(delivery.headerLength..<length))
}

/// Rewrites the IPv4 header checksum of `packet`.
func fixHeaderChecksum(_ packet: inout [UInt8]) {
  packet[10] = 0
  packet[11] = 0
  let checksum = InternetChecksum.compute(packet.span.extracting(0..<20))
  packet[10] = UInt8(checksum >> 8)
  packet[11] = UInt8(checksum & 0xFF)
}

/// Replaces the UDP part of a captured packet (header at byte 20), fixing the IP lengths.
func withUDP(_ udp: [UInt8], in packet: [UInt8]) -> [UInt8] {
  var bytes = Array(packet[..<20]) + udp
  bytes[2] = UInt8(bytes.count >> 8)
  bytes[3] = UInt8(bytes.count & 0xFF)
  fixHeaderChecksum(&bytes)
  return bytes
}
