import NetCore

/// The TCP options the stack understands, parsed from or to be written into a header:
/// MSS (RFC 9293 §3.7.1), window scale and timestamps (RFC 7323), SACK-permitted and SACK
/// blocks (RFC 2018). Unknown options are skipped; malformed lengths are rejected.
public struct TCPOptions: Equatable, Sendable {
  /// Maximum segment size the sender can receive (SYN only).
  public var maximumSegmentSize: UInt16?
  /// Window scale shift count (SYN only; values above 14 are treated as 14, RFC 7323 §2.3).
  public var windowScale: UInt8?
  /// The sender can receive SACK blocks (SYN only).
  public var sackPermitted = false
  /// Timestamp value and echo reply.
  public var timestamp: TCPTimestampOption?
  /// Up to four blocks of data received out of order (left edge, right edge).
  public var sackBlocks: [SACKBlock] = []

  /// Kinds from the IANA registry.
  enum Kind {
    static let endOfList: UInt8 = 0
    static let noOperation: UInt8 = 1
    static let maximumSegmentSize: UInt8 = 2
    static let windowScale: UInt8 = 3
    static let sackPermitted: UInt8 = 4
    static let sack: UInt8 = 5
    static let timestamp: UInt8 = 8
  }

  /// The length byte of each option of fixed length (kind and length bytes included).
  enum Length {
    static let maximumSegmentSize = 4
    static let windowScale = 3
    static let sackPermitted = 2
    static let timestamp = 10
    /// A SACK option without its blocks.
    static let sackBase = 2
  }

  /// Offsets in one option (RFC 9293 §3.1: kind, length, data) and in the data of the
  /// options with several fields.
  enum Field {
    /// The length byte, after the kind.
    static let length = 1
    /// The option's data, after kind and length.
    static let data = 2
    /// In a SACK block: the right edge, after the left edge (RFC 2018 §3).
    static let sackRightEdge = 4
    /// In the timestamps option's data: the echo reply, after the value (RFC 7323 §3).
    static let timestampEchoReply = 4
  }

  /// The most SACK blocks an option can carry (40 bytes of option space).
  public static let maximumSACKBlocks = 4

  public init() {}

  /// Parses the option bytes of a header. Throws `.badOption` for a length that is below 2,
  /// runs past the options, or does not fit its kind.
  public init(parsing bytes: Span<UInt8>) throws(WireError) {
    var offset = 0
    while offset < bytes.count {
      let kind = bytes[offset]
      if kind == Kind.endOfList { break }
      if kind == Kind.noOperation {
        offset += 1
        continue
      }
      guard offset + Field.length < bytes.count else { throw .badOption }
      let length = Int(bytes[offset + Field.length])
      guard length >= Field.data, offset + length <= bytes.count else { throw .badOption }
      let data = offset + Field.data
      switch kind {
      case Kind.maximumSegmentSize:
        guard length == Length.maximumSegmentSize else { throw .badOption }
        maximumSegmentSize = bytes.uint16(at: data)
      case Kind.windowScale:
        guard length == Length.windowScale else { throw .badOption }
        windowScale = min(bytes[data], 14)
      case Kind.sackPermitted:
        guard length == Length.sackPermitted else { throw .badOption }
        sackPermitted = true
      case Kind.sack:
        let blocks = (length - Length.sackBase) / SACKBlock.encodedLength
        guard (length - Length.sackBase) % SACKBlock.encodedLength == 0, blocks >= 1,
          blocks <= TCPOptions.maximumSACKBlocks
        else {
          throw .badOption
        }
        sackBlocks = []
        for index in 0..<blocks {
          let start = data + index * SACKBlock.encodedLength
          sackBlocks.append(
            SACKBlock(
              left: SequenceNumber(bytes.uint32(at: start)),
              right: SequenceNumber(bytes.uint32(at: start + Field.sackRightEdge))))
        }
      case Kind.timestamp:
        guard length == Length.timestamp else { throw .badOption }
        timestamp = TCPTimestampOption(
          value: bytes.uint32(at: data),
          echoReply: bytes.uint32(at: data + Field.timestampEchoReply))
      default:
        break  // Unknown options are skipped (RFC 9293 §3.1, RFC 1122 §4.2.2.5).
      }
      offset += length
    }
  }

  /// Bytes these options take in a header, padded to a multiple of four.
  public var encodedLength: Int {
    var length = 0
    if maximumSegmentSize != nil { length += Length.maximumSegmentSize }
    if sackPermitted && timestamp != nil {
      // SACK-permitted + timestamps, as Linux packs them.
      length += Length.sackPermitted + Length.timestamp
    } else {
      if sackPermitted { length += 2 + Length.sackPermitted }  // NOP NOP SACK-permitted
      if timestamp != nil { length += 2 + Length.timestamp }  // NOP NOP timestamps
    }
    if windowScale != nil { length += 1 + Length.windowScale }  // NOP window-scale
    if !sackBlocks.isEmpty {  // NOP NOP SACK
      length += 2 + Length.sackBase + SACKBlock.encodedLength * sackBlocks.count
    }
    return (length + 3) / 4 * 4
  }

  /// The most bytes of options a TCP header holds (data offset 15 words, less 20).
  public static let maximumLength = 40

  /// Writes the options at `offset`, padding with NOPs to ``encodedLength`` (at most
  /// ``maximumLength``: the stack never builds more, and refuses to write more).
  public func emit(into bytes: inout MutableSpan<UInt8>, at start: Int) {
    precondition(encodedLength <= TCPOptions.maximumLength, "TCP options longer than 40 bytes")
    var offset = start
    func byte(_ value: UInt8) {
      bytes[offset] = value
      offset += 1
    }
    if let maximumSegmentSize {
      byte(Kind.maximumSegmentSize)
      byte(UInt8(Length.maximumSegmentSize))
      bytes.setUInt16(maximumSegmentSize, at: offset)
      offset += Length.maximumSegmentSize - Field.data
    }
    if sackPermitted && timestamp != nil {
      byte(Kind.sackPermitted)
      byte(UInt8(Length.sackPermitted))
    } else if sackPermitted {
      byte(Kind.noOperation)
      byte(Kind.noOperation)
      byte(Kind.sackPermitted)
      byte(UInt8(Length.sackPermitted))
    }
    if let timestamp {
      if !sackPermitted {
        byte(Kind.noOperation)
        byte(Kind.noOperation)
      }
      byte(Kind.timestamp)
      byte(UInt8(Length.timestamp))
      bytes.setUInt32(timestamp.value, at: offset)
      bytes.setUInt32(timestamp.echoReply, at: offset + Field.timestampEchoReply)
      offset += Length.timestamp - Field.data
    }
    if let windowScale {
      byte(Kind.noOperation)
      byte(Kind.windowScale)
      byte(UInt8(Length.windowScale))
      byte(windowScale)
    }
    if !sackBlocks.isEmpty {
      byte(Kind.noOperation)
      byte(Kind.noOperation)
      byte(Kind.sack)
      byte(UInt8(Length.sackBase + SACKBlock.encodedLength * sackBlocks.count))
      for block in sackBlocks {
        bytes.setUInt32(block.left.rawValue, at: offset)
        bytes.setUInt32(block.right.rawValue, at: offset + Field.sackRightEdge)
        offset += SACKBlock.encodedLength
      }
    }
    while offset < start + encodedLength { byte(Kind.noOperation) }
  }
}

/// The timestamps option (RFC 7323 §3): the sender's clock and the last value it received.
public struct TCPTimestampOption: Equatable, Sendable {
  public var value: UInt32
  public var echoReply: UInt32

  public init(value: UInt32, echoReply: UInt32) {
    self.value = value
    self.echoReply = echoReply
  }
}

/// One SACK block: bytes `[left, right)` were received (RFC 2018 §3).
public struct SACKBlock: Equatable, Hashable, Sendable {
  public var left: SequenceNumber
  public var right: SequenceNumber

  /// Bytes of one block in a SACK option: two 32-bit edges.
  public static let encodedLength = 8

  public init(left: SequenceNumber, right: SequenceNumber) {
    self.left = left
    self.right = right
  }
}
