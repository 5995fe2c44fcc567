import NetCore
import UDP

/// The UDP endpoints that send from an address and port they do not own (a published port's
/// flow into the guest that shows the guest its client's address and port, as the IPv4 and
/// IPv6 paths of TCP do): each is named by the flow's four numbers as the guest sees them, so
/// that the guest's answers, addressed to that client, reach the endpoint (RFC 768's
/// demultiplexing on the full pair of sockets). One entry an endpoint; as many entries as
/// endpoints at most (the UDP layer's bound).
public struct ChosenSourceUDPTable: Sendable {
  private var endpointByFlow: [UDPFlowKey: UDPEndpointID] = [:]
  private var flowByEndpoint: [UDPEndpointID: UDPFlowKey] = [:]

  public init() {}

  /// Entries now.
  public var count: Int { endpointByFlow.count }

  /// Names `endpoint` by `flow` (guest: the guest's address and port; destination: the chosen
  /// source). False when another endpoint has that flow already.
  mutating func insert(_ flow: UDPFlowKey, for endpoint: UDPEndpointID) -> Bool {
    guard endpointByFlow[flow] == nil, flowByEndpoint[endpoint] == nil else { return false }
    endpointByFlow[flow] = endpoint
    flowByEndpoint[endpoint] = flow
    return true
  }

  /// The endpoint a datagram from the guest's `flow.guest` to `flow.destination` is for.
  func endpoint(for flow: UDPFlowKey) -> UDPEndpointID? { endpointByFlow[flow] }

  /// The flow `endpoint` sends on, if it has one.
  func flow(of endpoint: UDPEndpointID) -> UDPFlowKey? { flowByEndpoint[endpoint] }

  /// The peer (the guest's address and port) `endpoint` sends to, if it has a chosen source.
  public func peer(of endpoint: UDPEndpointID) -> (address: IPAddress, port: UInt16)? {
    flowByEndpoint[endpoint].map { ($0.guest, $0.guestPort) }
  }

  /// Forgets `endpoint` (closed).
  mutating func remove(_ endpoint: UDPEndpointID) {
    guard let flow = flowByEndpoint.removeValue(forKey: endpoint) else { return }
    endpointByFlow[flow] = nil
  }
}
