/// A smaller path MTU towards the peer (RFC 8201 §5.2 for IPv6's packet too big; RFC 1191
/// §6.4 for IPv4's fragmentation needed): segments are cut to fit from now on, and the ones in
/// flight that no longer fit, which the path dropped, go again at once in pieces that fit.
/// Not a sign of congestion: the congestion window is left alone.
extension TCPConnection {
  /// The path now carries at most `maximumPayload` bytes of TCP per packet. Returns whether the
  /// segment size fell (a report of a larger or equal size changes nothing: a path MTU only
  /// grows again through the network layer's own aging, RFC 8201 §4).
  func pathMTUDecreased(maximumPayload: Int) -> Bool {
    let fitting = max(maximumPayload - TCPHeader.minimumLength, TCPConnection.minimumSegmentSize)
    guard fitting < sendMaximumSegmentSize, state.isSynchronized else { return false }
    sendMaximumSegmentSize = fitting
    recovery.retransmissionQueue.markLost(longerThan: segmentPayloadLimit)
    if recovery.retransmissionQueue.lostBytes > 0 { recovery.retransmissionOwed = true }
    return true
  }

  /// The smallest segment size a report can set (as `negotiate(peer:weOffered:now:)` keeps
  /// the peer's MSS at 64 or more).
  static let minimumSegmentSize = 64
}
