import NetCore

/// The messages the forwarder writes itself (RFC 1035 §4.1): queries (for tests and the check
/// tool), error responses carrying the query's id and question, a truncated stand-in for an
/// answer too large for the client's UDP size (RFC 2181 §9), and a new id in a message.
///
/// Names are written uncompressed. An OPT record (RFC 6891 §6.1.1) is added when the message
/// answers a query that had one, as a responder that knows EDNS must.
public enum DNSMessageBuilder {
  /// A header, at most one question and an optional OPT record.
  public static func message(header: DNSHeader, question: DNSQuestion?, edns: DNSEDNS?)
    -> [UInt8]
  {
    var header = header
    header.questionCount = question == nil ? 0 : 1
    header.answerCount = 0
    header.authorityCount = 0
    header.additionalCount = edns == nil ? 0 : 1
    let opt = edns?.encoded ?? []
    var result = [UInt8](
      repeating: 0, count: DNSHeader.length + (question?.encodedLength ?? 0) + opt.count)
    var span = result.mutableSpan
    header.emit(into: &span)
    var offset = DNSHeader.length
    if let question { offset = question.emit(into: &span, at: offset) }
    for byte in opt {
      span[offset] = byte
      offset += 1
    }
    return result
  }

  /// A standard query for `question`, recursion desired.
  public static func query(id: UInt16, question: DNSQuestion, edns: DNSEDNS? = nil) -> [UInt8] {
    var header = DNSHeader(id: id)
    header.opcode = .query
    header.recursionDesired = true
    return message(header: header, question: question, edns: edns)
  }

  /// The response with `code` and nothing else to a checked query: its id, opcode, RD and CD,
  /// its first question, RA set, and an OPT record offering `udpPayloadSize` if the query had
  /// an OPT record.
  public static func errorResponse(
    to query: borrowing DNSMessage, code: DNSResponseCode, udpPayloadSize: UInt16 = 4096
  ) -> [UInt8] {
    message(
      header: responseHeader(query.header, code: code), question: query.question,
      edns: query.edns == nil ? nil : DNSEDNS(udpPayloadSize: udpPayloadSize))
  }

  /// The header-only response with `code` to bytes that did not parse as a message but have a
  /// header (FORMERR to garbage after a good header); nil for fewer than 12 bytes.
  public static func errorResponse(toUnparsed bytes: Span<UInt8>, code: DNSResponseCode)
    -> [UInt8]?
  {
    guard let header = try? DNSHeader(parsing: bytes) else { return nil }
    return message(header: responseHeader(header, code: code), question: nil, edns: nil)
  }

  private static func responseHeader(_ query: DNSHeader, code: DNSResponseCode) -> DNSHeader {
    var header = DNSHeader(id: query.id)
    header.isResponse = true
    header.opcode = query.opcode
    header.recursionDesired = query.recursionDesired
    header.checkingDisabled = query.checkingDisabled
    header.recursionAvailable = true
    header.responseCode = code
    return header
  }

  /// What a client whose UDP size `answer` exceeds gets instead: the answer's flags with TC
  /// set, `id`, the question, no records (but an OPT record offering `udpPayloadSize` when
  /// `withEDNS`); the client asks again over TCP (RFC 2181 §9, RFC 7766 §5).
  public static func truncatedResponse(
    to answer: borrowing DNSMessage, id: UInt16, withEDNS: Bool, udpPayloadSize: UInt16 = 4096
  ) -> [UInt8] {
    var header = answer.header
    header.id = id
    header.isTruncated = true
    return message(
      header: header, question: answer.question,
      edns: withEDNS ? DNSEDNS(udpPayloadSize: udpPayloadSize) : nil)
  }

  /// Writes `id` into the header of `message` in place; false (nothing written) when it is
  /// shorter than a header.
  @discardableResult
  public static func rewriteID(_ id: UInt16, in message: inout [UInt8]) -> Bool {
    guard message.count >= DNSHeader.length else { return false }
    var span = message.mutableSpan
    span.setUInt16(id, at: DNSHeader.Field.id)
    return true
  }
}
