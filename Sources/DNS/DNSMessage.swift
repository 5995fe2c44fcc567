import NetCore

/// A received DNS message (RFC 1035 §4.1), viewed in place.
///
/// ``init(checking:)`` is the only way to get one. It reads the header, checks that the four
/// counts could fit in the bytes at all (a question takes at least 5 bytes, a record 11) before
/// reading anything they announce, and then walks every question and record: each name is
/// decoded under ``DNSName``'s bounds (compression pointers only backwards, at most
/// ``DNSName/maximumPointers`` of them, at most 255 bytes, labels at most 63), each record's
/// data must lie inside the message, and an OPT pseudo-record (RFC 6891 §6.1.1) must be the
/// only one, in the additional section, owned by the root. Bytes after the last record are
/// allowed (and passed on). Record data is not interpreted.
///
/// Every malformed input is a ``DNSMessageError``; nothing here traps on input.
public struct DNSMessage: ~Escapable {
  /// The whole message.
  public let bytes: Span<UInt8>
  public let header: DNSHeader
  /// The question section, decoded (normally one question, RFC 9619).
  public let questions: [DNSQuestion]
  /// Where the answer section starts (the question section ends).
  public let answerOffset: Int
  /// Where the last record ends; bytes after it are trailing.
  public let endOffset: Int
  /// The EDNS(0) parameters of the OPT record, if the message has one (RFC 6891 §6.1.2).
  public let edns: DNSEDNS?

  @_lifetime(copy bytes)
  public init(checking bytes: Span<UInt8>) throws(DNSMessageError) {
    let header = try DNSHeader(parsing: bytes)
    let records =
      Int(header.answerCount) + Int(header.authorityCount) + Int(header.additionalCount)
    guard Int(header.questionCount) * 5 + records * 11 <= bytes.count - DNSHeader.length else {
      throw .countsExceedMessage
    }
    var offset = DNSHeader.length
    var questions: [DNSQuestion] = []
    questions.reserveCapacity(Int(header.questionCount))
    for _ in 0..<Int(header.questionCount) {
      let (question, end) = try DNSQuestion.decode(bytes, at: offset)
      questions.append(question)
      offset = end
    }
    let answerOffset = offset
    var edns: DNSEDNS? = nil
    let sections: [(DNSSection, UInt16)] = [
      (.answer, header.answerCount), (.authority, header.authorityCount),
      (.additional, header.additionalCount),
    ]
    for (section, count) in sections {
      for _ in 0..<Int(count) {
        let (record, end) = try DNSResourceRecord.decode(bytes, at: offset, section: section)
        if record.type == .opt {
          guard section == .additional, edns == nil, record.name.wire == [0] else {
            throw .badOPTRecord
          }
          edns = DNSEDNS(record)
        }
        offset = end
      }
    }
    self.bytes = bytes
    self.header = header
    self.questions = questions
    self.answerOffset = answerOffset
    self.endOffset = offset
    self.edns = edns
  }

  /// The first question, if any.
  public var question: DNSQuestion? { questions.first }

  /// The response code with the OPT record's upper bits (RFC 6891 §6.1.3).
  public var responseCode: DNSResponseCode {
    let low = header.responseCode.rawValue
    guard let edns else { return header.responseCode }
    return DNSResponseCode(rawValue: UInt16(edns.extendedResponseCode) << 4 | low)
  }

  /// Calls `body` with every record, in order (answer, authority, additional sections).
  /// Cannot fail on a checked message; throws only because it walks the bytes again.
  public func forEachRecord(_ body: (DNSResourceRecord) -> Void) throws(DNSMessageError) {
    var offset = answerOffset
    let sections: [(DNSSection, UInt16)] = [
      (.answer, header.answerCount), (.authority, header.authorityCount),
      (.additional, header.additionalCount),
    ]
    for (section, count) in sections {
      for _ in 0..<Int(count) {
        let (record, end) = try DNSResourceRecord.decode(bytes, at: offset, section: section)
        body(record)
        offset = end
      }
    }
  }

  /// The data of one of this message's records.
  @_lifetime(copy self)
  public func data(of record: DNSResourceRecord) -> Span<UInt8> {
    bytes.extracting(record.dataRange)
  }

  /// Whether bytes follow the last record.
  public var hasTrailingBytes: Bool { endOffset < bytes.count }
}

/// The EDNS(0) parameters an OPT pseudo-record carries (RFC 6891 §6.1.2, §6.1.3).
public struct DNSEDNS: Equatable, Sendable {
  /// The largest UDP payload the sender can take (the OPT record's class field).
  public var udpPayloadSize: UInt16
  /// The upper eight bits of the 12-bit response code.
  public var extendedResponseCode: UInt8
  public var version: UInt8
  /// DO: the sender wants DNSSEC records (RFC 3225).
  public var dnssecOK: Bool

  public init(
    udpPayloadSize: UInt16, extendedResponseCode: UInt8 = 0, version: UInt8 = 0,
    dnssecOK: Bool = false
  ) {
    self.udpPayloadSize = udpPayloadSize
    self.extendedResponseCode = extendedResponseCode
    self.version = version
    self.dnssecOK = dnssecOK
  }

  init(_ record: DNSResourceRecord) {
    udpPayloadSize = record.recordClass.rawValue
    extendedResponseCode = UInt8(truncatingIfNeeded: record.ttl >> 24)
    version = UInt8(truncatingIfNeeded: record.ttl >> 16)
    dnssecOK = record.ttl & 0x8000 != 0
  }

  /// The 11 bytes of an OPT record with these parameters and no options.
  public var encoded: [UInt8] {
    let ttl =
      UInt32(extendedResponseCode) << 24 | UInt32(version) << 16 | (dnssecOK ? 0x8000 : 0)
    return [
      0, 0, 41, UInt8(udpPayloadSize >> 8), UInt8(truncatingIfNeeded: udpPayloadSize),
      UInt8(ttl >> 24), UInt8(truncatingIfNeeded: ttl >> 16),
      UInt8(truncatingIfNeeded: ttl >> 8), UInt8(truncatingIfNeeded: ttl), 0, 0,
    ]
  }
}
