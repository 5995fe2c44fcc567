import NetCore
import NetworkAPI

/// Where a published port's connection or UDP flow into the guest comes from, for a client
/// on the host (passt's and slirp4netns's port forwarding show the guest the client when they
/// can). The client's own address and port when the stack is the guests' gateway (relay
/// mode: the guest answers any address through it), the client is of the guest's family, and
/// it is neither on the host's loopback nor inside the guests' IPv4 subnet or IPv6 prefixes
/// (the guest would answer those on the link). A client on the host's loopback (127.0.0.1,
/// ::1) appears at `--host-loopback`'s address of its family. Otherwise (nil) the stack's own
/// address, as a client of the other family always does: the guest cannot answer an address
/// of a family it was not reached over.
struct PublishedClientMapping: Sendable, Equatable {
  /// The guests' subnet (the stack's `--ip` network).
  var guestSubnet: IPv4CIDR
  /// The guests' IPv6 prefixes (the stack's on-link ones).
  var guestPrefixes: [IPv6CIDR] = []
  /// Whether the stack is the guests' gateway (`--relay`).
  var relaying: Bool
  /// `--host-loopback`'s IPv4 address: where clients on 127.0.0.0/8 appear.
  var hostLoopback: IPv4Address?
  /// `--host-loopback`'s IPv6 address: where clients on ::1 appear.
  var hostLoopbackIPv6: IPv6Address?

  /// The source for `client`'s connection or flow into `guest` (port 0: an ephemeral port of
  /// the stack's), or nil for the stack's own address and an ephemeral port.
  func source(for client: SocketAddress, to guest: IPAddress) -> SocketAddress? {
    switch (client.address, guest) {
    case (.v4(let address), .v4):
      if address.isLoopback { return hostLoopback.map { SocketAddress($0, 0) } }
      guard relaying, address.isUnicast, !guestSubnet.contains(address) else { return nil }
      return client
    case (.v6(let address), .v6):
      if address.isLoopback { return hostLoopbackIPv6.map { SocketAddress(.v6($0), 0) } }
      guard relaying, address.isUnicast, !address.isLinkLocal, !address.isIPv4Mapped,
        !guestPrefixes.contains(where: { $0.contains(address) })
      else { return nil }
      return client
    default:
      return nil
    }
  }
}
