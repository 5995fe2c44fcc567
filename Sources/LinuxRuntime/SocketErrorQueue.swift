import Glibc

/// One error a socket with `IP_RECVERR` (ip(7)) or `IPV6_RECVERR` (ipv6(7)) queued: what the
/// kernel learnt about a datagram it sent, from an ICMP or ICMPv6 message a router sent back
/// (`origin` ICMP or ICMP6, with its type and code) or
/// from the host itself (`origin` local, e.g. no neighbour answered). `payload` is the start of
/// the datagram the error is about, as the socket sent it.
struct SocketQueuedError {
  /// `SO_EE_ORIGIN_*` of linux/errqueue.h.
  enum Origin: UInt8 {
    case none = 0
    case local = 1
    case icmp = 2
    case icmp6 = 3
  }

  var errno: Int32
  var origin: Origin?
  var icmpType: UInt8
  var icmpCode: UInt8
  var payload: [UInt8]

  /// Turns on `IP_RECVERR` for an IPv4 socket (`family` `AF_INET`), `IPV6_RECVERR` for an
  /// IPv6 one; false (errno set) if the kernel refused.
  static func enable(on descriptor: Int32, family: Int32 = AF_INET) -> Bool {
    var on: Int32 = 1
    let (level, option) =
      family == AF_INET ? (Int32(IPPROTO_IP), IP_RECVERR) : (Int32(IPPROTO_IPV6), IPV6_RECVERR)
    return setsockopt(descriptor, level, option, &on, socklen_t(MemoryLayout<Int32>.size)) == 0
  }

  /// Takes the next queued error of `descriptor` (non-blocking): nil when the queue is empty or
  /// the message carries no `IP_RECVERR` (or `IPV6_RECVERR`) record. `payloadLimit` bounds the
  /// bytes kept.
  static func take(from descriptor: Int32, payloadLimit: Int = 64) -> SocketQueuedError? {
    var payload = [UInt8](repeating: 0, count: payloadLimit)
    // cmsghdr (16 bytes on 64-bit Linux), sock_extended_err (16) and the offender's address.
    var control = [UInt8](repeating: 0, count: 128)
    let received = payload.withUnsafeMutableBytes { payloadBytes in
      control.withUnsafeMutableBytes { controlBytes in
        var vector = iovec(iov_base: payloadBytes.baseAddress, iov_len: payloadBytes.count)
        return withUnsafeMutablePointer(to: &vector) { vectorPointer in
          var message = msghdr()
          message.msg_iov = vectorPointer
          message.msg_iovlen = 1
          message.msg_control = controlBytes.baseAddress
          message.msg_controllen = controlBytes.count
          let count = recvmsg(descriptor, &message, Int32(MSG_ERRQUEUE | MSG_DONTWAIT))
          return (count, message.msg_controllen)
        }
      }
    }
    let (count, controlLength) = received
    guard count >= 0 else { return nil }
    return control.withUnsafeBytes { bytes -> SocketQueuedError? in
      let headerLength = MemoryLayout<Int>.size + 8
      var offset = 0
      while offset + headerLength <= min(controlLength, bytes.count) {
        let length = bytes.loadUnaligned(fromByteOffset: offset, as: Int.self)
        let level = bytes.loadUnaligned(
          fromByteOffset: offset + MemoryLayout<Int>.size, as: Int32.self)
        let type = bytes.loadUnaligned(
          fromByteOffset: offset + MemoryLayout<Int>.size + 4, as: Int32.self)
        guard length >= headerLength, offset + length <= bytes.count else { return nil }
        let isRecord =
          (level == Int32(IPPROTO_IP) && type == IP_RECVERR)
          || (level == Int32(IPPROTO_IPV6) && type == IPV6_RECVERR)
        if isRecord && length >= headerLength + 8 {
          let data = offset + headerLength
          return SocketQueuedError(
            errno: Int32(bitPattern: bytes.loadUnaligned(fromByteOffset: data, as: UInt32.self)),
            origin: Origin(rawValue: bytes[data + 4]), icmpType: bytes[data + 5],
            icmpCode: bytes[data + 6], payload: Array(payload[0..<min(count, payloadLimit)]))
        }
        offset += (length + 7) & ~7
      }
      return nil
    }
  }
}
