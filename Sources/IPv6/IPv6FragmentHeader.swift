import NetCore

/// The fragment header (RFC 8200 §4.5): which piece of a larger packet this packet carries.
///
/// An *atomic fragment* (offset 0, no more fragments) carries a whole packet; it is processed
/// on its own, never through reassembly (RFC 6946).
public struct IPv6FragmentHeader: Equatable, Sendable {
  /// The first header of the fragmentable part (in the offset-zero fragment: the one the
  /// reassembled packet continues with).
  public var nextHeader: IPv6NextHeader
  /// Where this fragment's data starts in the fragmentable part, in bytes (a multiple of 8).
  public var fragmentOffset: Int
  /// The M flag: more fragments follow.
  public var moreFragments: Bool
  public var identification: UInt32

  /// Bytes in the header.
  public static let length = 8

  /// Offsets of the header's fields.
  public enum Field {
    public static let nextHeader = 0
    public static let reserved = 1
    public static let offsetAndFlags = 2
    public static let identification = 4
  }

  public init(
    nextHeader: IPv6NextHeader, fragmentOffset: Int, moreFragments: Bool, identification: UInt32
  ) {
    self.nextHeader = nextHeader
    self.fragmentOffset = fragmentOffset
    self.moreFragments = moreFragments
    self.identification = identification
  }

  /// Reads the header at `offset` (the caller has checked that eight bytes are there).
  public init(_ bytes: Span<UInt8>, at offset: Int) {
    nextHeader = IPv6NextHeader(rawValue: bytes[offset + Field.nextHeader])
    let offsetAndFlags = bytes.uint16(at: offset + Field.offsetAndFlags)
    fragmentOffset = Int(offsetAndFlags & 0xFFF8)
    moreFragments = offsetAndFlags & 1 != 0
    identification = bytes.uint32(at: offset + Field.identification)
  }

  /// Whether this is an atomic fragment: the whole packet in one (RFC 6946).
  public var isAtomic: Bool { fragmentOffset == 0 && !moreFragments }

  /// Writes the header at `offset` (reserved bits zero).
  public func emit(into bytes: inout MutableSpan<UInt8>, at offset: Int) {
    precondition(fragmentOffset >= 0 && fragmentOffset % 8 == 0 && fragmentOffset <= 0xFFF8)
    bytes[offset + Field.nextHeader] = nextHeader.rawValue
    bytes[offset + Field.reserved] = 0
    bytes.setUInt16(
      UInt16(fragmentOffset) | (moreFragments ? 1 : 0), at: offset + Field.offsetAndFlags)
    bytes.setUInt32(identification, at: offset + Field.identification)
  }
}
