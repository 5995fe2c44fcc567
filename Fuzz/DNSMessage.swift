// Fuzz target: the DNS message view (Sources/DNS/DNSMessage.swift and DNSName.swift), which reads
// every query a guest sends to the stack's DNS address and every answer an upstream server sends.
//
// Input: a DNS message (a UDP payload, or a TCP message without its length).
// Checks: `DNSMessage(checking:)` never traps; on success the questions are as many as the header
// says, the records (walked again by `forEachRecord`) as many as its three counts, each record's
// data inside the message and at or after the answer section, every name at most 255 bytes of
// labels of at most 63, and an OPT record only in the additional section, once, owned by the root;
// the error responses built for it parse and carry its id and first question, the truncated
// stand-in has TC set and the given id, a question-only message round-trips, and rewriting the id
// changes the first two bytes only.

import DNS

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  let message: DNSMessage
  do {
    message = try DNSMessage(checking: bytes.span)
  } catch {
    // A message that did not parse still gets a header-only FORMERR if it has a header.
    let made = DNSMessageBuilder.errorResponse(toUnparsed: bytes.span, code: .formatError)
    expect((made != nil) == (size >= 12), "FORMERR to unparsed bytes iff a header")
    if let made {
      expect(made.count == 12 && made[0] == bytes[0] && made[1] == bytes[1], "FORMERR header")
    }
    return 0
  }
  let header = message.header
  expect(message.questions.count == Int(header.questionCount), "question count")
  expect(message.answerOffset >= 12 && message.answerOffset <= message.endOffset, "answer offset")
  expect(message.endOffset <= size, "end past the bytes")
  for question in message.questions { checkName(question.name) }
  var records = 0
  var opts = 0
  do {
    try message.forEachRecord { record in
      records += 1
      checkName(record.name)
      expect(record.dataRange.lowerBound >= message.answerOffset, "data before the records")
      expect(record.dataRange.upperBound <= message.endOffset, "data past the end")
      if record.type == .opt {
        opts += 1
        expect(record.section == .additional && record.name == .root, "OPT placement")
      }
    }
  } catch {
    expect(false, "forEachRecord failed on a checked message: \(error)")
  }
  expect(
    records == Int(header.answerCount) + Int(header.authorityCount) + Int(header.additionalCount),
    "record count")
  expect(opts == (message.edns == nil ? 0 : 1), "OPT count")

  for code in [DNSResponseCode.serverFailure, .formatError, .refused, .notImplemented] {
    let response = DNSMessageBuilder.errorResponse(to: message, code: code)
    guard let parsed = try? DNSMessage(checking: response.span) else {
      expect(false, "an error response did not parse")
      return 0
    }
    expect(parsed.header.id == header.id && parsed.header.isResponse, "response id")
    expect(parsed.header.responseCode == code, "response code")
    expect(parsed.question == message.question, "response question")
    expect((parsed.edns != nil) == (message.edns != nil), "response OPT")
  }
  let stand = DNSMessageBuilder.truncatedResponse(to: message, id: 0xA5A5, withEDNS: true)
  if let parsed = try? DNSMessage(checking: stand.span) {
    expect(parsed.header.isTruncated && parsed.header.id == 0xA5A5, "stand-in flags")
    expect(parsed.header.answerCount == 0 && parsed.question == message.question, "stand-in")
  } else {
    expect(false, "the truncated stand-in did not parse")
  }
  let rebuilt = DNSMessageBuilder.message(
    header: header, question: message.question, edns: message.edns)
  if let parsed = try? DNSMessage(checking: rebuilt.span) {
    expect(parsed.question == message.question && parsed.edns == message.edns, "round trip")
    expect(
      parsed.header.flags == header.flags && parsed.header.id == header.id, "round trip header")
  } else {
    expect(false, "a question-only message did not parse")
  }
  var copy = bytes
  expect(DNSMessageBuilder.rewriteID(0x1234, in: &copy), "rewrite")
  expect(copy[0] == 0x12 && copy[1] == 0x34 && copy[2...] == bytes[2...], "rewrite changed more")
  return 0
}

/// A decoded name is within RFC 1035's bounds and its wire form walks to the root.
func checkName(_ name: DNSName) {
  expect(name.wire.count <= DNSName.maximumLength && name.wire.last == 0, "name length")
  var offset = 0
  while name.wire[offset] != 0 {
    let length = Int(name.wire[offset])
    expect(length <= DNSName.maximumLabelLength, "label length")
    offset += 1 + length
    expect(offset < name.wire.count, "labels past the end")
  }
  expect(offset == name.wire.count - 1, "bytes after the root")
}
