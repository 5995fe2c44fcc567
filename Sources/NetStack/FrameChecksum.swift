import IPv4
import NetCore

/// Completes the transport checksum of an Ethernet frame carrying an IPv4 TCP or UDP packet
/// whose checksum field holds only a partial sum: what a virtio-net device (the kernel behind
/// a TAP with offloads) hands over marked `NEEDS_CSUM`, and what the stack hands a device it
/// asks to finish the work. Used where a frame must look as it will on the wire: a capture,
/// or the fault injector before it corrupts a byte.
public enum FrameChecksum {
  /// Computes and stores the TCP or UDP checksum of the frame in `frame` (a fragment or any
  /// other protocol is left as it is).
  public static func completeTransportChecksum(_ frame: inout MutableSpan<UInt8>) {
    guard frame.count >= 34, frame[12] == 0x08, frame[13] == 0x00, frame[14] >> 4 == 4 else {
      return
    }
    let headerLength = Int(frame[14] & 0x0F) * 4
    let totalLength = Int(frame[16]) << 8 | Int(frame[17])
    let fragment = (Int(frame[20]) << 8 | Int(frame[21])) & 0x3FFF
    let protocolNumber = frame[23]
    let start = 14 + headerLength
    let end = 14 + totalLength
    guard fragment == 0, end <= frame.count, start < end else { return }
    let checksumField: Int
    switch protocolNumber {
    case 6: checksumField = start + 16
    case 17: checksumField = start + 6
    default: return
    }
    guard checksumField + 2 <= end else { return }
    frame.setUInt16(0, at: checksumField)
    var sum = InternetChecksum.ipv4PseudoHeader(
      source: IPv4Address(frame.span, at: 26), destination: IPv4Address(frame.span, at: 30),
      protocolNumber: IPProtocolNumber(rawValue: protocolNumber), length: end - start)
    sum.add(frame.span.extracting(start..<end))
    var value = sum.value
    if protocolNumber == 17 && value == 0 { value = 0xFFFF }
    frame.setUInt16(value, at: checksumField)
  }
}
