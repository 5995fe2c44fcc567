import NetCore

/// Cuts a packet too large for the path MTU into fragments (RFC 8200 §4.5), as the source of
/// a packet must: routers never fragment IPv6.
///
/// The stack sends no extension headers in packets that may need cutting, so the
/// unfragmentable part is the fixed header alone. Every fragment but the last carries the
/// largest multiple of 8 bytes that fits the MTU with the fixed and fragment headers; all
/// carry the same identification (which the caller draws at random, RFC 7739) and the upper
/// layer's next header.
public enum IPv6Fragmenter {
  /// Bytes of fragmentable data in each fragment but the last, for `mtu`.
  public static func fragmentDataLength(mtu: Int) -> Int {
    (mtu - IPv6Header.length - IPv6FragmentHeader.length) / 8 * 8
  }

  /// The fragments of `payload` (the upper-layer packet) sent with `header` (whose next header
  /// is the upper layer's), each a complete packet in a new buffer with `headroom` free bytes
  /// in front. `mtu` must be at least 1280.
  public static func fragments(
    of payload: Span<UInt8>, header: IPv6Header, identification: UInt32, mtu: Int, headroom: Int
  ) -> [PacketBuffer] {
    precondition(mtu >= IPv6Header.minimumMTU)
    let step = fragmentDataLength(mtu: mtu)
    var fragments: [PacketBuffer] = []
    var offset = 0
    while offset < payload.count {
      let length = min(step, payload.count - offset)
      let fragment = PacketBuffer(
        capacity: headroom + IPv6Header.length + IPv6FragmentHeader.length + length,
        headroom: headroom + IPv6Header.length + IPv6FragmentHeader.length)
      fragment.append(copying: payload.extracting(offset..<(offset + length)))
      fragment.prepend(IPv6FragmentHeader.length)
      let fragmentHeader = IPv6FragmentHeader(
        nextHeader: header.nextHeader, fragmentOffset: offset,
        moreFragments: offset + length < payload.count, identification: identification)
      fragment.withMutableBytes { fragmentHeader.emit(into: &$0, at: 0) }
      var fixed = header
      fixed.nextHeader = .fragment
      fixed.payloadLength = IPv6FragmentHeader.length + length
      fixed.prepend(to: fragment)
      fragments.append(fragment)
      offset += length
    }
    return fragments
  }
}
