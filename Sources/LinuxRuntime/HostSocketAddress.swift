import Glibc
import NetCore
import NetworkAPI

/// A socket address as the host kernel takes it: a `sockaddr_in` or a `sockaddr_in6` (RFC 3493
/// §3.3 and §3.4) in one `sockaddr_storage`, made from a ``SocketAddress`` or filled in by the
/// kernel (`accept`, `recvfrom`, `getsockname`, `getpeername`) and read back as one.
///
/// IPv6 addresses carry no zone here (`sin6_scope_id` is 0), so a link-local address cannot be
/// bound or reached through it; the kernel refuses that with `EINVAL`.
struct HostSocketAddress {
  private var storage = sockaddr_storage()
  /// The length of the address in ``storage``: what the kernel reads, or wrote.
  private(set) var length: socklen_t

  /// Room for any address, for the kernel to fill in.
  init() {
    length = socklen_t(MemoryLayout<sockaddr_storage>.size)
  }

  /// `address`, as `sockaddr_in` or `sockaddr_in6`.
  init(_ address: SocketAddress) {
    switch address.address {
    case .v4(let ipv4):
      var inet = sockaddr_in()
      inet.sin_family = sa_family_t(AF_INET)
      inet.sin_port = address.port.bigEndian
      inet.sin_addr.s_addr = ipv4.rawValue.bigEndian
      length = socklen_t(MemoryLayout<sockaddr_in>.size)
      withUnsafeMutableBytes(of: &storage) { target in
        withUnsafeBytes(of: &inet) { target.copyMemory(from: $0) }
      }
    case .v6(let ipv6):
      var inet6 = sockaddr_in6()
      inet6.sin6_family = sa_family_t(AF_INET6)
      inet6.sin6_port = address.port.bigEndian
      withUnsafeMutableBytes(of: &inet6.sin6_addr) { bytes in
        for index in 0..<16 { bytes[index] = ipv6.octet(index) }
      }
      length = socklen_t(MemoryLayout<sockaddr_in6>.size)
      withUnsafeMutableBytes(of: &storage) { target in
        withUnsafeBytes(of: &inet6) { target.copyMemory(from: $0) }
      }
    }
  }

  /// The address family of `address` (`AF_INET` or `AF_INET6`).
  static func family(of address: IPAddress) -> Int32 {
    address.isIPv4 ? AF_INET : AF_INET6
  }

  /// The address and port, or nil for a family other than IPv4 and IPv6.
  var socketAddress: SocketAddress? {
    switch Int32(storage.ss_family) {
    case AF_INET:
      let inet = withUnsafeBytes(of: storage) { $0.loadUnaligned(as: sockaddr_in.self) }
      return SocketAddress(
        IPv4Address(rawValue: UInt32(bigEndian: inet.sin_addr.s_addr)),
        UInt16(bigEndian: inet.sin_port))
    case AF_INET6:
      let inet6 = withUnsafeBytes(of: storage) { $0.loadUnaligned(as: sockaddr_in6.self) }
      let octets = withUnsafeBytes(of: inet6.sin6_addr) { Array($0) }
      var high: UInt64 = 0
      var low: UInt64 = 0
      for index in 0..<8 {
        high = high << 8 | UInt64(octets[index])
        low = low << 8 | UInt64(octets[index + 8])
      }
      return SocketAddress(
        .v6(IPv6Address(high: high, low: low)), UInt16(bigEndian: inet6.sin6_port))
    default:
      return nil
    }
  }

  /// Calls `body` with the address for a system call that reads one (`bind`, `connect`,
  /// `sendto`).
  func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
    withUnsafeBytes(of: storage) {
      body($0.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
    }
  }

  /// Calls `body` with room for a system call that writes one (`recvfrom`, `getsockname`,
  /// `getpeername`); the length it writes is kept.
  mutating func withMutableSockaddr<Result>(
    _ body: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Result
  ) -> Result {
    var written = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let result = withUnsafeMutableBytes(of: &storage) {
      body($0.baseAddress!.assumingMemoryBound(to: sockaddr.self), &written)
    }
    length = written
    return result
  }
}
