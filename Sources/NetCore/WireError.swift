/// Why received bytes could not be parsed as the packet they claim to be.
///
/// Every parser in the stack (`…Frame`, `…Packet`, `…Datagram`, `…Segment` views) throws one of
/// these instead of trapping; the layer that called it counts the drop by reason.
public enum WireError: Error, Equatable, Sendable {
  /// Fewer bytes than the fixed header, or than a length field inside it promises.
  case truncated
  /// A length field that contradicts itself or the bytes around it.
  case badLength
  /// The checksum does not verify.
  case badChecksum
  /// A version, type or format field this parser does not understand.
  case unsupported
  /// An option (IPv4, TCP, DHCP) with a malformed length or contents.
  case badOption
  /// An address that is not allowed in that position (a broadcast source, say).
  case badAddress
}

extension WireError: CustomStringConvertible {
  public var description: String {
    switch self {
    case .truncated: "truncated"
    case .badLength: "bad length"
    case .badChecksum: "bad checksum"
    case .unsupported: "unsupported"
    case .badOption: "bad option"
    case .badAddress: "bad address"
    }
  }
}
