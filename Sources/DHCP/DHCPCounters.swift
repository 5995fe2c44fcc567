import NetCore

/// What the DHCP client sent, received and went through.
public struct DHCPClientCounters: CounterGroup, Sendable, Equatable {
  public static let groupName: StaticString = "dhcp_client"

  public var discoversSent: UInt64 = 0
  public var requestsSent: UInt64 = 0
  public var declinesSent: UInt64 = 0
  public var releasesSent: UInt64 = 0
  public var offersReceived: UInt64 = 0
  public var acksReceived: UInt64 = 0
  public var naksReceived: UInt64 = 0
  /// Not for us (another transaction or hardware address), not a reply, or not expected in
  /// the state the client was in.
  public var ignored: UInt64 = 0
  /// Messages that did not parse.
  public var droppedMalformed: UInt64 = 0
  /// ACKs without a usable lease (no address, server identifier or lease time).
  public var droppedBadLease: UInt64 = 0
  public var probesSent: UInt64 = 0
  /// Another host answered for an address being probed (RFC 5227 §2.1.1).
  public var addressConflicts: UInt64 = 0
  public var leasesObtained: UInt64 = 0
  public var renewals: UInt64 = 0
  /// Leases that expired or were refused (NAK) while in use.
  public var leasesLost: UInt64 = 0

  public init() {}

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("discovers_sent", discoversSent)
    body("requests_sent", requestsSent)
    body("declines_sent", declinesSent)
    body("releases_sent", releasesSent)
    body("offers_received", offersReceived)
    body("acks_received", acksReceived)
    body("naks_received", naksReceived)
    body("ignored", ignored)
    body("dropped_malformed", droppedMalformed)
    body("dropped_bad_lease", droppedBadLease)
    body("probes_sent", probesSent)
    body("address_conflicts", addressConflicts)
    body("leases_obtained", leasesObtained)
    body("renewals", renewals)
    body("leases_lost", leasesLost)
  }
}

/// What the DHCP server received, answered and dropped.
public struct DHCPServerCounters: CounterGroup, Sendable, Equatable {
  public static let groupName: StaticString = "dhcp_server"

  public var discoversReceived: UInt64 = 0
  public var requestsReceived: UInt64 = 0
  public var declinesReceived: UInt64 = 0
  public var releasesReceived: UInt64 = 0
  public var informsReceived: UInt64 = 0
  public var offersSent: UInt64 = 0
  public var acksSent: UInt64 = 0
  public var naksSent: UInt64 = 0
  /// Messages that did not parse.
  public var droppedMalformed: UInt64 = 0
  /// Replies, messages without a type, relayed messages, requests for another server,
  /// INFORMs from outside our subnet.
  public var ignored: UInt64 = 0
  /// DISCOVERs left unanswered because no address of the pool was free.
  public var poolExhausted: UInt64 = 0
  public var leasesExpired: UInt64 = 0
  /// Outstanding offers dropped for a newer DISCOVER (the offer limit, or no free address).
  public var offersReplaced: UInt64 = 0
  /// INIT-REBOOT, RENEWING and REBINDING requests from a client the server has no record
  /// of, left unanswered (RFC 2131 §4.3.2).
  public var requestsUnknownClient: UInt64 = 0
  /// SELECTING requests for an address not offered to that client (NAK).
  public var requestsNotOffered: UInt64 = 0
  /// Requests for an address outside our subnet, or our own (NAK).
  public var requestsWrongNetwork: UInt64 = 0
  /// Requests for an address another client holds, or that is declined, or that is not the
  /// one the client holds (NAK).
  public var requestsWrongAddress: UInt64 = 0
  /// DECLINEs for another server, or from a client that was not given the address.
  public var declinesRefused: UInt64 = 0
  /// Declined addresses returned to the pool early, to keep declines within their limit.
  public var declinesForgotten: UInt64 = 0
  /// RELEASEs for another server, or from a client that does not hold the lease (client
  /// identifier, `chaddr` or `ciaddr` do not match a bound lease).
  public var releasesRefused: UInt64 = 0
  /// Messages whose client identifier belongs to an entry with another `chaddr` (the sender
  /// is taken for another client).
  public var clientMismatches: UInt64 = 0

  public init() {}

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("discovers_received", discoversReceived)
    body("requests_received", requestsReceived)
    body("declines_received", declinesReceived)
    body("releases_received", releasesReceived)
    body("informs_received", informsReceived)
    body("offers_sent", offersSent)
    body("acks_sent", acksSent)
    body("naks_sent", naksSent)
    body("dropped_malformed", droppedMalformed)
    body("ignored", ignored)
    body("pool_exhausted", poolExhausted)
    body("leases_expired", leasesExpired)
    body("offers_replaced", offersReplaced)
    body("requests_unknown_client", requestsUnknownClient)
    body("requests_not_offered", requestsNotOffered)
    body("requests_wrong_network", requestsWrongNetwork)
    body("requests_wrong_address", requestsWrongAddress)
    body("declines_refused", declinesRefused)
    body("declines_forgotten", declinesForgotten)
    body("releases_refused", releasesRefused)
    body("client_mismatches", clientMismatches)
  }
}
