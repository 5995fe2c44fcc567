import NetCore

/// The 12-byte header of a DNS message (RFC 1035 §4.1.1), as a value: the id, the flags and
/// the four section counts.
///
/// `flags` keeps the 16 bits as they are on the wire, so that bits this code does not name
/// (Z) round-trip; the named properties read and write their bits in it.
public struct DNSHeader: Equatable, Sendable {
  /// Byte offsets of the header's fields.
  enum Field {
    static let id = 0
    static let flags = 2
    static let questionCount = 4
    static let answerCount = 6
    static let authorityCount = 8
    static let additionalCount = 10
  }

  /// The header's length.
  public static let length = 12

  public var id: UInt16
  /// QR, Opcode, AA, TC, RD, RA, Z, AD, CD, RCODE (RFC 1035 §4.1.1, RFC 4035 §3.2).
  public var flags: UInt16
  public var questionCount: UInt16
  public var answerCount: UInt16
  public var authorityCount: UInt16
  public var additionalCount: UInt16

  public init(
    id: UInt16, flags: UInt16 = 0, questionCount: UInt16 = 0, answerCount: UInt16 = 0,
    authorityCount: UInt16 = 0, additionalCount: UInt16 = 0
  ) {
    self.id = id
    self.flags = flags
    self.questionCount = questionCount
    self.answerCount = answerCount
    self.authorityCount = authorityCount
    self.additionalCount = additionalCount
  }

  /// Reads the header at the front of `bytes`.
  public init(parsing bytes: Span<UInt8>) throws(DNSMessageError) {
    guard bytes.count >= DNSHeader.length else { throw .truncatedHeader }
    id = bytes.uint16(at: Field.id)
    flags = bytes.uint16(at: Field.flags)
    questionCount = bytes.uint16(at: Field.questionCount)
    answerCount = bytes.uint16(at: Field.answerCount)
    authorityCount = bytes.uint16(at: Field.authorityCount)
    additionalCount = bytes.uint16(at: Field.additionalCount)
  }

  /// Writes the header at the front of `bytes` (at least 12 bytes).
  public func emit(into bytes: inout MutableSpan<UInt8>) {
    bytes.setUInt16(id, at: Field.id)
    bytes.setUInt16(flags, at: Field.flags)
    bytes.setUInt16(questionCount, at: Field.questionCount)
    bytes.setUInt16(answerCount, at: Field.answerCount)
    bytes.setUInt16(authorityCount, at: Field.authorityCount)
    bytes.setUInt16(additionalCount, at: Field.additionalCount)
  }

  /// Bit masks of the flags word.
  enum Bit {
    static let response: UInt16 = 0x8000
    static let opcodeShift: UInt16 = 11
    static let opcodeMask: UInt16 = 0x7800
    static let authoritative: UInt16 = 0x0400
    static let truncated: UInt16 = 0x0200
    static let recursionDesired: UInt16 = 0x0100
    static let recursionAvailable: UInt16 = 0x0080
    static let authenticData: UInt16 = 0x0020
    static let checkingDisabled: UInt16 = 0x0010
    static let responseCodeMask: UInt16 = 0x000F
  }

  private mutating func set(_ bit: UInt16, _ on: Bool) {
    flags = on ? flags | bit : flags & ~bit
  }

  /// QR: a response (true) or a query.
  public var isResponse: Bool {
    get { flags & Bit.response != 0 }
    set { set(Bit.response, newValue) }
  }
  /// The kind of query (RFC 1035 §4.1.1, RFC 6895 §2.2).
  public var opcode: DNSOpcode {
    get { DNSOpcode(rawValue: UInt8((flags & Bit.opcodeMask) >> Bit.opcodeShift)) }
    set {
      flags = (flags & ~Bit.opcodeMask) | (UInt16(newValue.rawValue & 0x0F) << Bit.opcodeShift)
    }
  }
  /// AA: the answering server is an authority for the name.
  public var isAuthoritative: Bool {
    get { flags & Bit.authoritative != 0 }
    set { set(Bit.authoritative, newValue) }
  }
  /// TC: the message was truncated to fit its transport; ask again over TCP.
  public var isTruncated: Bool {
    get { flags & Bit.truncated != 0 }
    set { set(Bit.truncated, newValue) }
  }
  /// RD: recursion desired (copied from the query into the response).
  public var recursionDesired: Bool {
    get { flags & Bit.recursionDesired != 0 }
    set { set(Bit.recursionDesired, newValue) }
  }
  /// RA: the server offers recursion.
  public var recursionAvailable: Bool {
    get { flags & Bit.recursionAvailable != 0 }
    set { set(Bit.recursionAvailable, newValue) }
  }
  /// CD: checking disabled (RFC 4035 §3.2.2), copied into the response.
  public var checkingDisabled: Bool {
    get { flags & Bit.checkingDisabled != 0 }
    set { set(Bit.checkingDisabled, newValue) }
  }
  /// The low four bits of the response code (an OPT record may extend it, RFC 6891 §6.1.3).
  public var responseCode: DNSResponseCode {
    get { DNSResponseCode(rawValue: UInt16(flags & Bit.responseCodeMask)) }
    set { flags = (flags & ~Bit.responseCodeMask) | (newValue.rawValue & Bit.responseCodeMask) }
  }
}

/// The kind of a query (RFC 1035 §4.1.1; registry of RFC 6895 §2.2). An open set: values this
/// code does not name round-trip.
public struct DNSOpcode: RawRepresentable, Hashable, Sendable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }
  /// A standard query.
  public static let query = DNSOpcode(rawValue: 0)
  /// An inverse query (obsolete, RFC 3425).
  public static let inverseQuery = DNSOpcode(rawValue: 1)
  public static let status = DNSOpcode(rawValue: 2)
  /// RFC 1996.
  public static let notify = DNSOpcode(rawValue: 4)
  /// RFC 2136.
  public static let update = DNSOpcode(rawValue: 5)
}

/// A response code (RFC 1035 §4.1.1, RFC 6895 §2.3). An open set.
public struct DNSResponseCode: RawRepresentable, Hashable, Sendable {
  public let rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }
  public static let noError = DNSResponseCode(rawValue: 0)
  /// The server could not interpret the query.
  public static let formatError = DNSResponseCode(rawValue: 1)
  /// The server could not answer (here: no name server answered in time).
  public static let serverFailure = DNSResponseCode(rawValue: 2)
  public static let nameError = DNSResponseCode(rawValue: 3)
  /// The server does not do that kind of query.
  public static let notImplemented = DNSResponseCode(rawValue: 4)
  /// The server will not do it for policy reasons.
  public static let refused = DNSResponseCode(rawValue: 5)
}

extension DNSResponseCode: CustomStringConvertible {
  public var description: String {
    switch self {
    case .noError: "NOERROR"
    case .formatError: "FORMERR"
    case .serverFailure: "SERVFAIL"
    case .nameError: "NXDOMAIN"
    case .notImplemented: "NOTIMP"
    case .refused: "REFUSED"
    default: "RCODE\(rawValue)"
    }
  }
}
