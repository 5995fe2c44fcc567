import NetCore

/// SYN cookies (RFC 4987 §3.6, as Linux does them): when a listener's queue of half-open
/// connections is full, the SYN-ACK's sequence number itself carries what is needed to
/// rebuild the connection from the final ACK, so a SYN flood costs no memory.
///
/// The ISS is `t (5 bits) | MSS index (3 bits) | 24-bit keyed hash`, where `t` counts
/// 64-second periods, and the hash covers the 4-tuple, the client's ISN and `t`. When
/// timestamps are in use, the low six bits of our timestamp value carry the window scale and
/// SACK-permitted, so those options survive too.
public struct SYNCookieGenerator: Sendable {
  private let hasher: SipHash
  /// MSS values a cookie can name, for both families: Linux's IPv4 table (536, 1300, 1440,
  /// 1460) and its IPv6 one (1220 for the 1280 minimum MTU, 1440 for Ethernet, 8940 for
  /// 9000-byte jumbo frames), with 4312 and IPv4 loopback's 65495. A SYN's MSS is rounded
  /// down to the largest entry not above it, so an IPv6 peer at the minimum MTU keeps 1220
  /// rather than falling to 536, and an IPv4 jumbo peer (8960) loses only 20 bytes.
  static let mssTable: [UInt16] = [536, 1220, 1300, 1440, 1460, 4312, 8940, 65495]
  /// How long a cookie stays valid, in 64-second periods (current and previous).
  static let period: Int64 = 64_000_000_000

  public init(key0: UInt64, key1: UInt64) {
    hasher = SipHash(key0: key0, key1: key1)
  }

  /// What a cookie remembers of the SYN.
  public struct Decoded: Equatable, Sendable {
    public var maximumSegmentSize: UInt16
  }

  /// The ISS for a SYN-ACK answering `clientSequence` with the given MSS.
  public func cookie(
    for tuple: TCPFourTuple, clientSequence: SequenceNumber, maximumSegmentSize: UInt16,
    now: Instant
  ) -> SequenceNumber {
    let counter = UInt32(truncatingIfNeeded: now.nanoseconds / SYNCookieGenerator.period) & 0x1F
    var index = 0
    for (position, value) in SYNCookieGenerator.mssTable.enumerated()
    where value <= maximumSegmentSize {
      index = position
    }
    return SequenceNumber(
      counter << 27 | UInt32(index) << 24
        | hash(tuple, clientSequence, counter, mssIndex: UInt32(index)))
  }

  /// Checks the cookie an ACK returns (`acknowledgment − 1`); nil if it is not one of ours
  /// or too old.
  public func check(
    _ cookie: SequenceNumber, for tuple: TCPFourTuple, clientSequence: SequenceNumber, now: Instant
  ) -> Decoded? {
    let value = cookie.rawValue
    let counter = value >> 27
    let current = UInt32(truncatingIfNeeded: now.nanoseconds / SYNCookieGenerator.period) & 0x1F
    guard counter == current || counter == (current &- 1) & 0x1F else { return nil }
    let index = Int(value >> 24 & 0x7)
    guard value & 0x00FF_FFFF == hash(tuple, clientSequence, counter, mssIndex: UInt32(index))
    else { return nil }
    return Decoded(maximumSegmentSize: SYNCookieGenerator.mssTable[index])
  }

  /// The low six bits of our timestamp value in a cookie SYN-ACK: window scale (0–14, or 15
  /// for none) and SACK-permitted.
  public static func encodeOptions(windowScale: UInt8?, sackPermitted: Bool) -> UInt32 {
    UInt32(windowScale ?? 15) << 1 | (sackPermitted ? 1 : 0)
  }

  /// The options back from an echoed timestamp value.
  public static func decodeOptions(_ echoed: UInt32) -> (windowScale: UInt8?, sackPermitted: Bool) {
    let scale = UInt8((echoed >> 1) & 0xF)
    return (scale == 15 ? nil : scale, echoed & 1 == 1)
  }

  /// The keyed hash over the connection, the client's ISN, the time counter and the MSS
  /// index, so that none of them can be changed in a returned cookie (RFC 4987 §3.6).
  private func hash(
    _ tuple: TCPFourTuple, _ clientSequence: SequenceNumber, _ counter: UInt32, mssIndex: UInt32
  ) -> UInt32 {
    var words = tuple.words
    words.append(UInt64(clientSequence.rawValue) << 32 | UInt64(counter << 3 | mssIndex))
    return UInt32(truncatingIfNeeded: hasher.hash(words)) & 0x00FF_FFFF
  }
}
