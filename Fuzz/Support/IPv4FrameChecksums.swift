// A helper shared by the fuzz targets that feed whole frames to a stack (DirectStack,
// RelayGateway): frames with valid checksums reach past the checksum checks.

import Ethernet
import IPv4
import NetCore

/// Corrects the IPv4 header checksum of an Ethernet frame and, for an unfragmented ICMP or
/// UDP datagram, its transport checksum; leaves anything else alone.
func fixChecksums(_ frame: inout [UInt8]) {
  let ip = EthernetHeader.length
  guard frame.count >= ip + IPv4Header.length, frame[12] == 0x08, frame[13] == 0x00 else {
    return
  }
  let headerLength = Int(frame[ip] & 0x0F) * 4
  guard headerLength >= IPv4Header.length, ip + headerLength <= frame.count else { return }
  fixChecksum(&frame, range: ip..<(ip + headerLength), at: ip + 10)
  let totalLength = min(Int(frame[ip + 2]) << 8 | Int(frame[ip + 3]), frame.count - ip)
  let isFragment = (Int(frame[ip + 6]) << 8 | Int(frame[ip + 7])) & 0x3FFF != 0
  let start = ip + headerLength
  let end = ip + totalLength
  guard !isFragment, end - start >= 8 else { return }
  switch frame[ip + 9] {
  case 1:
    fixChecksum(&frame, range: start..<end, at: start + 2)
  case 17:
    let length = Int(frame[start + 4]) << 8 | Int(frame[start + 5])
    guard length >= 8, start + length <= end else { return }
    let source = IPv4Address(frame.span, at: ip + 12)
    let destination = IPv4Address(frame.span, at: ip + 16)
    fixChecksum(
      &frame, range: start..<(start + length), at: start + 6,
      prefix: pseudoHeader(
        source: source, destination: destination, protocolNumber: 17, length: length))
  default:
    break
  }
}
