import DNS
import NetCore
import NetStack
import UDP

/// The relay's DNS address on the direct stack: UDP queries to it on port 53 are handed to a
/// ``HostDNSUpstream`` (which forwards them to the host's name servers, RFC 1035 §4.2.1; RFC
/// 5452 for the ids and ports), and its answers go back to the guest from the DNS address.
///
/// The endpoint is bound to the DNS address alone, so a query to the stack's own address gets
/// "port unreachable". The stack's UDP queue bounds what waits (512 datagrams, 1 MiB); the
/// forwarder bounds what waits upstream (SERVFAIL beyond). Loop thread only.
public final class RelayDNSService {
  public let address: IPv4Address
  public let upstream: HostDNSUpstream
  private unowned let runtime: DirectStackRuntime
  private let endpoint: UDPEndpointID
  /// Answers the stack could not send (no route to the guest, too long).
  public private(set) var answersNotSent: UInt64 = 0
  /// DNS over TCP at the same address, once ``startTCP(logger:)`` has started it.
  public private(set) var tcp: RelayDNSTCPService?

  /// Binds UDP port 53 on `address` (which the stack must take as its own: `startRelay`).
  public init(runtime: DirectStackRuntime, address: IPv4Address, upstream: HostDNSUpstream)
    throws(UDPError)
  {
    self.address = address
    self.upstream = upstream
    self.runtime = runtime
    endpoint = try runtime.stack.udp.bind(address: .v4(address), port: DNSEndpoint.serverPort)
    upstream.onGuestAction = { [unowned self] action in answer(action) }
  }

  /// Starts DNS over TCP at the DNS address (``RelayDNSTCPService``).
  public func startTCP(logger: Logger) {
    let service = RelayDNSTCPService(
      runtime: runtime, address: address, upstream: upstream, logger: logger)
    tcp = service
    service.start()
  }

  /// Hands the queries the last poll received to the forwarder.
  public func drain() {
    while let query = runtime.stack.udp.receive(from: endpoint) {
      // The endpoint is bound to the IPv4 DNS address, so every query comes over IPv4.
      guard let source = query.source.ipv4 else { continue }
      upstream.receiveGuestUDP(
        query.payload.span, from: DNSEndpoint(source, query.sourcePort),
        to: DNSEndpoint(address, DNSEndpoint.serverPort))
    }
  }

  private func answer(_ action: DNSGuestAction) {
    guard case .answerUDP(_, let guest, let message) = action else {
      tcp?.perform(action)
      return
    }
    do {
      try runtime.stack.sendUDP(
        message.span, from: endpoint, to: .v4(guest.address), port: guest.port,
        now: MonotonicClock.now())
    } catch {
      answersNotSent += 1
    }
  }
}
