import DNS
import NetCore
import NetStack
import UDP

/// The relay's DNS addresses on the direct stack (10.0.2.3, and over IPv6 fd00::3, as
/// slirp4netns answers at both): UDP queries to either on port 53 are handed to one
/// ``HostDNSUpstream`` (which forwards them to the host's name servers, RFC 1035 §4.2.1; RFC
/// 5452 for the ids and ports), and its answers go back to the guest from the address the
/// query went to.
///
/// One endpoint is bound to the DNS addresses alone (the UDP layer's `otherFamilyAddress`), so
/// a query to port 53 of the stack's own address gets "port unreachable". The stack's UDP queue bounds what waits (512 datagrams, 1 MiB); the
/// forwarder bounds what waits upstream (SERVFAIL beyond), for both families together. Loop
/// thread only.
public final class RelayDNSService {
  /// The IPv4 DNS address, if there is one.
  public let address: IPv4Address?
  /// The IPv6 DNS address, if there is one.
  public let address6: IPv6Address?
  public let upstream: HostDNSUpstream
  private unowned let runtime: DirectStackRuntime
  /// The endpoint of port 53, bound to the DNS addresses (one port has one endpoint).
  private let endpoint: UDPEndpointID
  /// The DNS addresses served.
  public let addresses: [IPAddress]
  /// Answers the stack could not send (no route to the guest, too long).
  public private(set) var answersNotSent: UInt64 = 0
  /// DNS over TCP at the same addresses, once ``startTCP(logger:)`` has started it.
  public private(set) var tcp: RelayDNSTCPService?

  /// Binds UDP port 53 on `address` and `address6` (which the stack must take as its own:
  /// `startRelay`); at least one of them.
  public init(
    runtime: DirectStackRuntime, address: IPv4Address?, address6: IPv6Address?,
    upstream: HostDNSUpstream
  ) throws(UDPError) {
    precondition(address != nil || address6 != nil, "a DNS service needs an address")
    self.address = address
    self.address6 = address6
    self.upstream = upstream
    self.runtime = runtime
    let addresses = [address.map(IPAddress.v4), address6.map(IPAddress.v6)].compactMap { $0 }
    self.addresses = addresses
    endpoint = try runtime.stack.udp.bind(
      address: addresses[0], otherFamilyAddress: addresses.dropFirst().first,
      port: DNSEndpoint.serverPort)
    upstream.onGuestAction = { [unowned self] action in answer(action) }
  }

  /// Starts DNS over TCP at the DNS addresses (``RelayDNSTCPService``).
  public func startTCP(logger: Logger) {
    let service = RelayDNSTCPService(
      runtime: runtime, addresses: addresses, upstream: upstream, logger: logger)
    tcp = service
    service.start()
  }

  /// Hands the queries the last poll received to the forwarder.
  public func drain() {
    while let query = runtime.stack.udp.receive(from: endpoint) {
      upstream.receiveGuestUDP(
        query.payload.span, from: DNSEndpoint(query.source, query.sourcePort),
        to: DNSEndpoint(query.destination, DNSEndpoint.serverPort))
    }
  }

  private func answer(_ action: DNSGuestAction) {
    guard case .answerUDP(_, let guest, let message) = action else {
      tcp?.perform(action)
      return
    }
    // The endpoint sends from its address of the guest's family: the one the query went to.
    do {
      try runtime.stack.sendUDP(
        message.span, from: endpoint, to: guest.address, port: guest.port,
        now: MonotonicClock.now())
    } catch {
      answersNotSent += 1
    }
  }
}
