import ARP
import Ethernet
import IPv4
import NetCore
import TCP
import UDP

/// One line about a frame, tcpdump-style, for trace logs and the simulator:
/// `10.77.0.1:51234 > 10.77.0.2:80 TCP SYN seq=1 ack=0 win=64240 len=0`.
public enum FrameDescription {
  /// Describes an Ethernet frame; malformed parts are named, never trapped on.
  public static func describe(_ frame: Span<UInt8>) -> String {
    guard let ethernet = try? EthernetFrame(checking: frame) else {
      return "truncated frame (\(frame.count) bytes)"
    }
    switch ethernet.etherType {
    case .arp:
      guard let arp = try? ARPPacket(checking: ethernet.payload) else { return "ARP, malformed" }
      let message = arp.message
      switch message.operation {
      case .request:
        return "ARP who-has \(message.targetProtocolAddress) tell \(message.senderProtocolAddress)"
      case .reply:
        return "ARP \(message.senderProtocolAddress) is-at \(message.senderHardwareAddress)"
      default: return "ARP operation \(message.operation.rawValue)"
      }
    case .ipv4:
      return describeIPv4(ethernet.payload)
    default:
      return "ethertype 0x\(String(ethernet.etherType.rawValue, radix: 16)), \(frame.count) bytes"
    }
  }

  private static func describeIPv4(_ bytes: Span<UInt8>) -> String {
    guard let packet = try? IPv4Packet(checking: bytes) else { return "IPv4, malformed" }
    let addresses = "\(packet.source) > \(packet.destination)"
    if packet.isFragment {
      return
        "\(addresses) IPv4 fragment id=\(packet.identification) offset=\(packet.fragmentOffset) len=\(packet.payload.count)\(packet.moreFragments ? " MF" : "")"
    }
    switch packet.protocolNumber {
    case .tcp:
      guard let segment = try? TCPSegment(checking: packet.payload) else {
        return "\(addresses) TCP, malformed"
      }
      var line =
        "\(packet.source):\(segment.sourcePort) > \(packet.destination):\(segment.destinationPort) TCP \(segment.flags) seq=\(segment.sequenceNumber) ack=\(segment.acknowledgmentNumber) win=\(segment.window) len=\(segment.payload.count)"
      if !segment.options.sackBlocks.isEmpty {
        line +=
          " sack="
          + segment.options.sackBlocks.map { "\($0.left)-\($0.right)" }.joined(separator: ",")
      }
      return line
    case .udp:
      guard let datagram = try? UDPDatagram(checking: packet.payload) else {
        return "\(addresses) UDP, malformed"
      }
      return
        "\(packet.source):\(datagram.sourcePort) > \(packet.destination):\(datagram.destinationPort) UDP len=\(datagram.payload.count)"
    case .icmp:
      guard let message = try? ICMPv4Packet(checking: packet.payload) else {
        return "\(addresses) ICMP, malformed"
      }
      return
        "\(addresses) ICMP type=\(message.type.rawValue) code=\(message.code) len=\(message.payload.count)"
    default:
      return "\(addresses) protocol \(packet.protocolNumber.rawValue)"
    }
  }
}
