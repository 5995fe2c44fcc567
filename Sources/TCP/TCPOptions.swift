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
      guard offset + 1 < bytes.count else { throw .badOption }
      let length = Int(bytes[offset + 1])
      guard length >= 2, offset + length <= bytes.count else { throw .badOption }
      let body = offset + 2
      switch kind {
      case Kind.maximumSegmentSize:
        guard length == 4 else { throw .badOption }
        maximumSegmentSize = bytes.uint16(at: body)
      case Kind.windowScale:
        guard length == 3 else { throw .badOption }
        windowScale = min(bytes[body], 14)
      case Kind.sackPermitted:
        guard length == 2 else { throw .badOption }
        sackPermitted = true
      case Kind.sack:
        let blocks = (length - 2) / 8
        guard (length - 2) % 8 == 0, blocks >= 1, blocks <= TCPOptions.maximumSACKBlocks else {
          throw .badOption
        }
        sackBlocks = []
        for index in 0..<blocks {
          let start = body + index * 8
          sackBlocks.append(
            SACKBlock(
              left: SequenceNumber(bytes.uint32(at: start)),
              right: SequenceNumber(bytes.uint32(at: start + 4))))
        }
      case Kind.timestamp:
        guard length == 10 else { throw .badOption }
        timestamp = TCPTimestampOption(
          value: bytes.uint32(at: body), echoReply: bytes.uint32(at: body + 4))
      default:
        break  // Unknown options are skipped (RFC 9293 §3.1, RFC 1122 §4.2.2.5).
      }
      offset += length
    }
  }

  /// Bytes these options take in a header, padded to a multiple of four.
  public var encodedLength: Int {
    var length = 0
    if maximumSegmentSize != nil { length += 4 }
    if sackPermitted && timestamp != nil {
      length += 12  // SACK-permitted + timestamps, as Linux packs them: 2 + 10
    } else {
      if sackPermitted { length += 4 }  // NOP NOP SACK-permitted
      if timestamp != nil { length += 12 }  // NOP NOP timestamps
    }
    if windowScale != nil { length += 4 }  // NOP window-scale
    if !sackBlocks.isEmpty { length += 4 + 8 * sackBlocks.count }  // NOP NOP SACK
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
      byte(4)
      bytes.setUInt16(maximumSegmentSize, at: offset)
      offset += 2
    }
    if sackPermitted && timestamp != nil {
      byte(Kind.sackPermitted)
      byte(2)
    } else if sackPermitted {
      byte(Kind.noOperation)
      byte(Kind.noOperation)
      byte(Kind.sackPermitted)
      byte(2)
    }
    if let timestamp {
      if !sackPermitted {
        byte(Kind.noOperation)
        byte(Kind.noOperation)
      }
      byte(Kind.timestamp)
      byte(10)
      bytes.setUInt32(timestamp.value, at: offset)
      bytes.setUInt32(timestamp.echoReply, at: offset + 4)
      offset += 8
    }
    if let windowScale {
      byte(Kind.noOperation)
      byte(Kind.windowScale)
      byte(3)
      byte(windowScale)
    }
    if !sackBlocks.isEmpty {
      byte(Kind.noOperation)
      byte(Kind.noOperation)
      byte(Kind.sack)
      byte(UInt8(2 + 8 * sackBlocks.count))
      for block in sackBlocks {
        bytes.setUInt32(block.left.rawValue, at: offset)
        bytes.setUInt32(block.right.rawValue, at: offset + 4)
        offset += 8
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

  public init(left: SequenceNumber, right: SequenceNumber) {
    self.left = left
    self.right = right
  }
}
