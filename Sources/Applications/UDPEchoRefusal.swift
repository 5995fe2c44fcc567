import NetCore

/// Why a UDP service that answers every datagram (echo, RFC 862) leaves one unanswered.
///
/// One datagram with a forged source can set two such services answering each other for ever
/// (CERT CA-1996-01, the echo-chargen loop; two daemons exchanged 95,918 datagrams each way
/// in 3 s). Like OpenBSD's inetd (`dg_badinput`), a datagram is not answered when its source
/// port is a system port, 0 to 1023 (RFC 6335 §6): echo, discard, daytime, qotd, chargen and
/// time are there, and so are the other services that answer what they receive (DNS, NTP,
/// SNMP), while no client's own port is (Linux picks them from 32768 up). Nor when it comes
/// from the service's own port, which catches two echo services moved to the same higher
/// port. Nothing goes back to a source that is not one host either (0.0.0.0 or `::`, a
/// multicast or reserved address). A loopback source (127.0.0.0/8, `::1`) counts as one host
/// in both families alike: the host's own sockets deliver `::1` as they do 127.0.0.1
/// (`netstackd --backend socket`), and the IPv6 layer drops a packet that brings `::1` from a
/// link (RFC 4291 §2.5.3) before it reaches a service.
public enum UDPEchoRefusal: Equatable, Sendable {
  /// The source port is a system port (0-1023) or the service's own port.
  case servicePort
  /// The source address is not one host.
  case sourceAddress

  /// The ports below this are system ports (RFC 6335 §6), where the services are.
  public static let firstClientPort: UInt16 = 1024

  /// Why a service on `servicePort` must not answer a datagram from `address`:`port`; nil
  /// when it may.
  public init?(address: IPAddress, port: UInt16, servicePort: UInt16) {
    if !address.isUnicast && address.ipv6?.isLoopback != true {
      self = .sourceAddress
    } else if port < UDPEchoRefusal.firstClientPort || port == servicePort {
      self = .servicePort
    } else {
      return nil
    }
  }
}
