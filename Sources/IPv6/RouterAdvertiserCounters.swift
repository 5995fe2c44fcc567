import NetCore

/// What a router's advertising interface did (RFC 4861 §6.2): advertisements sent, router
/// solicitations answered or rate-limited (§6.2.6), and other routers' advertisements seen
/// (§6.2.7).
public struct RouterAdvertiserCounters: CounterGroup, Sendable, Equatable {
  public static let groupName: StaticString = "router_adv"

  /// Advertisements sent to all nodes, unsolicited and solicited.
  public var advertisementsSent: UInt64 = 0
  /// Of those, the ones that answered solicitations.
  public var solicitedAdvertisementsSent: UInt64 = 0
  /// Valid router solicitations received while advertising.
  public var solicitationsReceived: UInt64 = 0
  /// Solicitations answered by an advertisement of their own: one scheduled for them, or the
  /// unsolicited one that was due sooner (counted as solicited when sent).
  public var solicitationsAnswered: UInt64 = 0
  /// Solicitations that got no advertisement of their own: the one answering an earlier
  /// solicitation, due within MIN_DELAY_BETWEEN_RAS (§6.2.6), answers them too.
  public var solicitationsRateLimited: UInt64 = 0
  /// Final advertisements (router lifetime 0) sent when advertising stopped (§6.2.5).
  public var finalAdvertisementsSent: UInt64 = 0
  /// Times the link-local address failed duplicate address detection while advertising: with
  /// no usable link-local address left, advertising stops (RFC 4861 §6.2.2 needs one).
  public var linkLocalDuplicates: UInt64 = 0
  /// Valid advertisements from other routers on the link (never taken in while advertising).
  public var otherRouterAdvertisements: UInt64 = 0
  /// Of those, ones that contradict ours (§6.2.7: hop limit, flags, timers, MTU, or the
  /// lifetimes of a prefix we advertise).
  public var inconsistentAdvertisements: UInt64 = 0
  /// Advertisements from one of our own addresses (a link that loops our frames back).
  public var ownAdvertisementsSeen: UInt64 = 0

  public init() {}

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("advertisements_sent", advertisementsSent)
    body("solicited_advertisements_sent", solicitedAdvertisementsSent)
    body("solicitations_received", solicitationsReceived)
    body("solicitations_answered", solicitationsAnswered)
    body("solicitations_rate_limited", solicitationsRateLimited)
    body("final_advertisements_sent", finalAdvertisementsSent)
    body("link_local_duplicates", linkLocalDuplicates)
    body("other_router_advertisements", otherRouterAdvertisements)
    body("inconsistent_advertisements", inconsistentAdvertisements)
    body("own_advertisements_seen", ownAdvertisementsSeen)
  }
}
