import IPv6
import NetCore

/// An ICMPv6 message (header and body) with its checksum for `source` → `destination`.
func icmpv6Message(
  _ header: ICMPv6Header, body: [UInt8], source: IPv6Address, destination: IPv6Address
) -> [UInt8] {
  let buffer = PacketBuffer(copying: body.span, headroom: ICMPv6Header.length)
  header.prepend(to: buffer, source: source, destination: destination)
  return buffer.withBytes { $0.copyToArray() }
}

/// A whole ICMPv6 packet: fixed header (next header 58) and message.
func icmpv6Packet(
  _ header: ICMPv6Header, body: [UInt8], source: IPv6Address, destination: IPv6Address,
  hopLimit: UInt8 = 255
) -> [UInt8] {
  ipv6Packet(
    IPv6Header(
      source: source, destination: destination, nextHeader: .icmpv6, payloadLength: 0,
      hopLimit: hopLimit),
    payload: icmpv6Message(header, body: body, source: source, destination: destination))
}

/// The parsed ICMPv6 message of a whole packet without extension headers, or nil.
func icmpv6Header(of packet: [UInt8]) -> ICMPv6Header? {
  guard let view = try? IPv6Packet(checking: packet.span), view.nextHeader == .icmpv6,
    let message = try? ICMPv6Packet(
      checking: view.payload, source: view.source, destination: view.destination)
  else { return nil }
  return message.header
}

/// The ICMPv6 message (header and body) of a packet without extension headers.
func icmpv6Bytes(of packet: [UInt8]) -> [UInt8] { Array(packet[IPv6Header.length...]) }
