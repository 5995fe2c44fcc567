import NetCore

/// Walks the extension headers of a received IPv6 packet in order, as its destination must
/// (RFC 8200 §4), up to the upper-layer header or a fragment header.
///
/// - Hop-by-hop options may only come first (right after the fixed header); anywhere else the
///   packet is refused with parameter problem code 1 pointing at the Next Header field that
///   named it (§4.3).
/// - Options of hop-by-hop and destination options headers follow §4.2: padding is skipped
///   (at most 7 bytes in a row, PadN's data zero, as Linux checks after RFC 4942 §2.1.9.5);
///   any other option is one this stack does not act on, so its type's two high bits decide:
///   `00` skip, `01` discard, `10` discard and send parameter problem code 2 pointing at the
///   option, `11` the same unless the destination is multicast.
/// - A routing header with Segments Left 0 is skipped; with segments left, whatever its type,
///   the packet is discarded with parameter problem code 0 pointing at the Routing Type (§4.4;
///   a host routes nothing, and type 0 is deprecated by RFC 5095).
/// - A fragment header ends the walk: what follows it is one fragment of the fragmentable part.
/// - Any other value is the upper layer (or a header this stack does not process, such as ESP
///   or AH, which the caller then treats as an unrecognized next header).
///
/// The chain is bounded (RFC 8504 §5.3): at most ``Limits/maximumHeaders`` extension headers,
/// ``Limits/maximumChainLength`` bytes of them, ``Limits/maximumOptions`` options (not
/// counting padding) in one options header; beyond them the packet is discarded.
public struct IPv6ExtensionHeaderWalker: Sendable {
  /// Bounds on what one packet may make the walker do.
  public struct Limits: Sendable {
    /// Extension headers in one packet (Linux allows 8 options per header, RFC 8504 suggests
    /// bounding the count).
    public var maximumHeaders = 8
    /// Bytes of extension headers before the upper layer.
    public var maximumChainLength = 1024
    /// Options in one hop-by-hop or destination options header, padding not counted
    /// (Linux: 8).
    public var maximumOptions = 8

    public init() {}
  }

  /// Where the walk stands: the header to read next.
  public struct Position: Equatable, Sendable {
    /// Offset of that header in the packet.
    public var offset: Int
    /// What it is, as the previous Next Header field says.
    public var nextHeader: IPv6NextHeader
    /// Offset of that Next Header field (6 for the fixed header's).
    public var nextHeaderFieldOffset: Int
    /// Extension headers walked so far.
    public var headersSeen: Int

    public init(
      offset: Int, nextHeader: IPv6NextHeader, nextHeaderFieldOffset: Int, headersSeen: Int
    ) {
      self.offset = offset
      self.nextHeader = nextHeader
      self.nextHeaderFieldOffset = nextHeaderFieldOffset
      self.headersSeen = headersSeen
    }

    /// The start of a packet: the header its fixed header names, at byte 40.
    public static func start(nextHeader: IPv6NextHeader) -> Position {
      Position(
        offset: IPv6Header.length, nextHeader: nextHeader,
        nextHeaderFieldOffset: IPv6Packet.Field.nextHeader, headersSeen: 0)
    }
  }

  public let limits: Limits

  public init(limits: Limits = Limits()) { self.limits = limits }

  /// Walks `bytes` (a whole packet, fixed header first) from `position`.
  /// `destinationIsMulticast` decides options whose type starts with `11`.
  public func walk(
    _ bytes: Span<UInt8>, from position: Position, destinationIsMulticast: Bool
  ) -> IPv6HeaderChainVerdict {
    var position = position
    while true {
      let nextHeader = position.nextHeader
      switch nextHeader {
      case .hopByHopOptions, .destinationOptions, .routing:
        if nextHeader == .hopByHopOptions && position.offset != IPv6Header.length {
          return .parameterProblem(
            .unrecognizedNextHeader, pointer: position.nextHeaderFieldOffset, .hopByHopNotFirst)
        }
        guard position.headersSeen < limits.maximumHeaders else {
          return .discard(.tooManyHeaders)
        }
        guard position.offset + 2 <= bytes.count else { return .discard(.truncated) }
        let length = (Int(bytes[position.offset + 1]) + 1) * 8
        guard position.offset + length <= bytes.count else { return .discard(.truncated) }
        guard position.offset + length - IPv6Header.length <= limits.maximumChainLength else {
          return .discard(.chainTooLong)
        }
        if nextHeader == .routing {
          if bytes[position.offset + 3] != 0 {
            return .parameterProblem(
              .erroneousHeaderField, pointer: position.offset + 2, .routingHeader)
          }
        } else if let verdict = checkOptions(
          bytes, headerOffset: position.offset, headerLength: length,
          destinationIsMulticast: destinationIsMulticast)
        {
          return verdict
        }
        position = Position(
          offset: position.offset + length,
          nextHeader: IPv6NextHeader(rawValue: bytes[position.offset]),
          nextHeaderFieldOffset: position.offset, headersSeen: position.headersSeen + 1)
      case .fragment:
        guard position.headersSeen < limits.maximumHeaders else {
          return .discard(.tooManyHeaders)
        }
        let end = position.offset + IPv6FragmentHeader.length
        guard end <= bytes.count else { return .discard(.truncated) }
        guard end - IPv6Header.length <= limits.maximumChainLength else {
          return .discard(.chainTooLong)
        }
        return .fragment(
          IPv6FragmentHeader(bytes, at: position.offset), offset: position.offset,
          nextHeaderFieldOffset: position.nextHeaderFieldOffset,
          headersSeen: position.headersSeen + 1)
      case .noNextHeader:
        return .noNextHeader
      default:
        return .upperLayer(
          nextHeader, offset: position.offset,
          nextHeaderFieldOffset: position.nextHeaderFieldOffset)
      }
    }
  }

  /// Checks the options of the hop-by-hop or destination options header at `headerOffset`;
  /// nil when the packet may go on.
  private func checkOptions(
    _ bytes: Span<UInt8>, headerOffset: Int, headerLength: Int, destinationIsMulticast: Bool
  ) -> IPv6HeaderChainVerdict? {
    var cursor = headerOffset + 2
    let end = headerOffset + headerLength
    var padding = 0
    var options = 0
    while cursor < end {
      let type = bytes[cursor]
      if type == IPv6OptionType.pad1 {
        padding += 1
        guard padding <= 7 else { return .discard(.badOption) }
        cursor += 1
        continue
      }
      guard cursor + 2 <= end else { return .discard(.badOption) }
      let dataLength = Int(bytes[cursor + 1])
      guard cursor + 2 + dataLength <= end else { return .discard(.badOption) }
      if type == IPv6OptionType.padN {
        padding += 2 + dataLength
        guard padding <= 7 else { return .discard(.badOption) }
        for index in (cursor + 2)..<(cursor + 2 + dataLength) where bytes[index] != 0 {
          return .discard(.badOption)
        }
      } else {
        padding = 0
        options += 1
        guard options <= limits.maximumOptions else { return .discard(.tooManyOptions) }
        switch type >> 6 {
        case 0:
          break
        case 1:
          return .discard(.unrecognizedOption)
        case 2:
          return .parameterProblem(.unrecognizedOption, pointer: cursor, .unrecognizedOption)
        default:
          if destinationIsMulticast { return .discard(.unrecognizedOption) }
          return .parameterProblem(.unrecognizedOption, pointer: cursor, .unrecognizedOption)
        }
      }
      cursor += 2 + dataLength
    }
    return nil
  }

  /// Finds the upper-layer header by lengths alone, without acting on any option: for
  /// deciding whether a packet carries an ICMPv6 error (never answered with another, RFC 4443
  /// §2.4 e) and whether a first fragment holds the whole header chain (RFC 7112). Nil when
  /// the chain runs past the bytes, past the limits, or through two fragment headers.
  public func upperLayer(_ bytes: Span<UInt8>, from position: Position) -> (
    nextHeader: IPv6NextHeader, offset: Int
  )? {
    var offset = position.offset
    var nextHeader = position.nextHeader
    var headers = position.headersSeen
    var sawFragmentHeader = false
    while true {
      switch nextHeader {
      case .hopByHopOptions, .destinationOptions, .routing, .fragment:
        guard headers < limits.maximumHeaders, offset + 2 <= bytes.count else { return nil }
        if nextHeader == .fragment {
          guard !sawFragmentHeader else { return nil }
          sawFragmentHeader = true
        }
        let length =
          nextHeader == .fragment
          ? IPv6FragmentHeader.length : (Int(bytes[offset + 1]) + 1) * 8
        guard offset + length <= bytes.count,
          offset + length - IPv6Header.length <= limits.maximumChainLength
        else { return nil }
        nextHeader = IPv6NextHeader(rawValue: bytes[offset])
        offset += length
        headers += 1
      default:
        return (nextHeader, offset)
      }
    }
  }

  /// Whether the bytes from `position` on hold every header through the upper-layer header
  /// (RFC 7112 §5, RFC 8200 §4.5: required of the first fragment). The upper-layer header
  /// must be there too: 20 bytes of TCP, 8 of UDP or ICMPv6, a byte of anything else (Linux's
  /// `ipv6_frag_thdr_truncated`). No Next Header completes a chain.
  public func holdsWholeHeaderChain(_ bytes: Span<UInt8>, from position: Position) -> Bool {
    guard let (nextHeader, offset) = upperLayer(bytes, from: position) else { return false }
    let needed: Int
    switch nextHeader {
    case .noNextHeader: needed = 0
    case .tcp: needed = 20
    case .udp, .icmpv6: needed = 8
    default: needed = 1
    }
    return offset + needed <= bytes.count
  }
}

/// Option types with a meaning to the walker itself (RFC 8200 §4.2).
enum IPv6OptionType {
  static let pad1: UInt8 = 0
  static let padN: UInt8 = 1
  /// Router Alert (RFC 2711), in MLD's hop-by-hop header.
  static let routerAlert: UInt8 = 5
}

/// What ``IPv6ExtensionHeaderWalker/walk(_:from:destinationIsMulticast:)`` found.
public enum IPv6HeaderChainVerdict: Equatable, Sendable {
  /// The chain ends at the upper-layer header (or one the walker does not process) at
  /// `offset`; `nextHeaderFieldOffset` is where its value was read.
  case upperLayer(IPv6NextHeader, offset: Int, nextHeaderFieldOffset: Int)
  /// A fragment header at `offset`: the packet is a fragment (maybe an atomic one).
  case fragment(
    IPv6FragmentHeader, offset: Int, nextHeaderFieldOffset: Int, headersSeen: Int)
  /// No Next Header: nothing follows (RFC 8200 §4.7).
  case noNextHeader
  /// Discard the packet silently.
  case discard(IPv6ChainDropReason)
  /// Discard the packet and send ICMPv6 parameter problem with `code` and `pointer` (unless
  /// the rules of RFC 4443 §2.4 e forbid an error about it).
  case parameterProblem(ICMPv6ParameterProblemCode, pointer: Int, IPv6ChainDropReason)
}

/// Why the walker refused a packet, for the layer's counters.
public enum IPv6ChainDropReason: Equatable, Sendable {
  /// A header runs past the end of the packet.
  case truncated
  /// An option's length runs past its header, or padding is too long or not zero.
  case badOption
  /// More options in one header than ``IPv6ExtensionHeaderWalker/Limits/maximumOptions``.
  case tooManyOptions
  /// An option this stack does not know, whose type says to discard the packet.
  case unrecognizedOption
  /// More extension headers than ``IPv6ExtensionHeaderWalker/Limits/maximumHeaders``.
  case tooManyHeaders
  /// More bytes of extension headers than ``IPv6ExtensionHeaderWalker/Limits/maximumChainLength``.
  case chainTooLong
  /// A hop-by-hop options header after the first position.
  case hopByHopNotFirst
  /// A routing header with segments left.
  case routingHeader
}
