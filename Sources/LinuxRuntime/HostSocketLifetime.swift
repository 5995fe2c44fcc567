import Glibc
import NetCore
import TCP

/// How long a host TCP socket of a relay holds on to a peer that went silent: keepalive
/// probes on an idle connection (RFC 1122 §4.2.3.6: `SO_KEEPALIVE`, `TCP_KEEPIDLE`,
/// `TCP_KEEPINTVL`, `TCP_KEEPCNT`) and the user timeout on data the peer does not acknowledge
/// or a window it keeps shut (RFC 5482: `TCP_USER_TIMEOUT`, which on Linux also ends
/// keepalive once that long has passed without an answer). At either limit the kernel ends
/// the connection and the socket's next call fails with `ETIMEDOUT`. The same settings as the
/// stack's own connections (`--tcp-keepalive`, `--tcp-user-timeout`), so that both ends of a
/// relayed flow give up on a dead peer alike.
public struct HostSocketLifetime: Sendable, Equatable {
  /// Keepalive on the socket (nil: none, the kernel's default).
  public var keepalive: TCPKeepalive?
  /// The user timeout (nil: the kernel's default, about 15 minutes of retransmissions).
  public var userTimeout: Interval?

  /// Keepalive and user timeout as given (neither by default).
  public init(keepalive: TCPKeepalive? = nil, userTimeout: Interval? = nil) {
    self.keepalive = keepalive
    self.userTimeout = userTimeout
  }

  /// Sets them on the TCP socket `descriptor` (`setsockopt(2)`); whether the kernel took all.
  @discardableResult
  public func apply(to descriptor: Int32) -> Bool {
    var accepted = true
    if let keepalive {
      accepted = set(descriptor, SOL_SOCKET, SO_KEEPALIVE, 1) && accepted
      // The kernel takes whole seconds, 1 to 32,767, and 1 to 127 probes.
      let idle = min(max(keepalive.idle.seconds, 1), 32767)
      let interval = min(max(keepalive.interval.seconds, 1), 32767)
      let probes = min(max(keepalive.probes, 1), 127)
      accepted = set(descriptor, Int32(IPPROTO_TCP), TCP_KEEPIDLE, Int32(idle)) && accepted
      accepted = set(descriptor, Int32(IPPROTO_TCP), TCP_KEEPINTVL, Int32(interval)) && accepted
      accepted = set(descriptor, Int32(IPPROTO_TCP), TCP_KEEPCNT, Int32(probes)) && accepted
    }
    if let userTimeout {
      let milliseconds = min(max(userTimeout.milliseconds, 1), Int64(Int32.max))
      accepted =
        set(descriptor, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, Int32(milliseconds)) && accepted
    }
    return accepted
  }

  private func set(_ descriptor: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Bool {
    var value = value
    return setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0
  }
}
