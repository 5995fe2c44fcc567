import NetCore

/// Path MTU changes reported by the network layer below (RFC 8201 §5.2, RFC 1191 §6.4).
extension TCPLayer {
  /// A path MTU report about one of our segments (an IPv4 fragmentation needed, RFC 1191
  /// §6.4; an ICMPv6 packet too big, RFC 8201 §5.2): `quotedHeader` is the start of the TCP
  /// header the router quoted (at least 8 bytes: ports and sequence number), of a segment
  /// from `source` to `destination`, and the path now carries at most `maximumPayload` bytes
  /// of TCP per packet. Taken only when the quote names a connection of ours and a sequence
  /// number it has sent and not yet seen acknowledged (SND.UNA ≤ SEG.SEQ < SND.MAX; RFC 5927
  /// §4.1, as Linux's `tcp_v4_err` and `tcp_v6_err`): an attacker must then know the
  /// connection and its window, not only the addresses. That connection sends segments that
  /// fit from now on and resends at once what no longer fits; what is due goes out at the
  /// next ``flush(now:network:)``. Returns whether the segment size fell.
  @discardableResult
  public mutating func pathMTUDecreased(
    quotedHeader: Span<UInt8>, from source: IPAddress, to destination: IPAddress,
    maximumPayload: Int
  ) -> Bool {
    guard
      let (id, connection, _) = connectionQuoted(by: quotedHeader, from: source, to: destination)
    else {
      shared.counters.pathMTUReportsIgnored += 1
      return false
    }
    guard connection.pathMTUDecreased(maximumPayload: maximumPayload) else { return false }
    _ = touch(id)
    shared.counters.pathMTUDecreases += 1
    return true
  }
}

extension TCPLayer {
  /// Whether `quotedHeader` (the start of the TCP header of a segment from `source` to
  /// `destination` that an ICMP error quotes) names a connection of ours and a sequence
  /// number it has in flight (SND.UNA ≤ SEG.SEQ < SND.MAX, RFC 5927 §4.1): the check a
  /// network layer waits for before it records a path MTU report about a TCP segment.
  public func quotesSegmentInFlight(
    _ quotedHeader: Span<UInt8>, from source: IPAddress, to destination: IPAddress
  ) -> Bool {
    connectionQuoted(by: quotedHeader, from: source, to: destination) != nil
  }
}
