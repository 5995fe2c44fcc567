import DNS
import Testing

/// The messages the forwarder writes itself.
struct DNSMessageBuilderTests {
  @Test func errorResponsesCarryTheQuerysIDQuestionAndFlags() throws {
    let queryBytes = DnsmasqDNSCaptures.ednsQuery
    let query = try DNSMessage(checking: queryBytes.span)
    for code in [DNSResponseCode.serverFailure, .formatError, .refused, .notImplemented] {
      let bytes = DNSMessageBuilder.errorResponse(to: query, code: code)
      let response = try DNSMessage(checking: bytes.span)
      #expect(response.header.id == query.header.id)
      #expect(response.header.isResponse && response.header.opcode == .query)
      #expect(response.header.recursionDesired && response.header.recursionAvailable)
      #expect(!response.header.isTruncated && !response.header.isAuthoritative)
      #expect(response.header.responseCode == code)
      #expect(response.questions == query.questions)
      #expect(response.header.answerCount == 0 && response.header.authorityCount == 0)
      // The query had an OPT record, so the response has one (RFC 6891 §6.1.1).
      #expect(response.edns == DNSEDNS(udpPayloadSize: 4096))
    }
    let plainBytes = DnsmasqDNSCaptures.plainQuery
    let plain = try DNSMessage(checking: plainBytes.span)
    let bytes = DNSMessageBuilder.errorResponse(to: plain, code: .serverFailure)
    let response = try DNSMessage(checking: bytes.span)
    #expect(response.edns == nil && response.header.additionalCount == 0)
    #expect(bytes.count == 12 + 10 + 4)
  }

  @Test func aFormatErrorToBytesThatDoNotParseIsTheHeaderOnly() throws {
    // A good header and a question that runs past the end.
    let garbage: [UInt8] = [0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 9, 0x61]
    let made = DNSMessageBuilder.errorResponse(toUnparsed: garbage.span, code: .formatError)
    let bytes = try #require(made)
    let response = try DNSMessage(checking: bytes.span)
    #expect(bytes.count == 12)
    #expect(response.header.id == 0xABCD && response.header.isResponse)
    #expect(response.header.responseCode == .formatError && response.header.recursionDesired)
    #expect(response.questions.isEmpty)
    let short: [UInt8] = [0xAB, 0xCD, 0x01]
    #expect(DNSMessageBuilder.errorResponse(toUnparsed: short.span, code: .formatError) == nil)
  }

  @Test func aTruncatedStandInKeepsTheAnswersFlagsWithTCSet() throws {
    let answerBytes = DnsmasqDNSCaptures.bigTCPAnswer
    let answer = try DNSMessage(checking: answerBytes.span)
    let bytes = DNSMessageBuilder.truncatedResponse(to: answer, id: 0x0102, withEDNS: true)
    let stand = try DNSMessage(checking: bytes.span)
    #expect(stand.header.id == 0x0102 && stand.header.isTruncated)
    #expect(stand.header.isAuthoritative == answer.header.isAuthoritative)
    #expect(stand.header.responseCode == answer.header.responseCode)
    #expect(stand.questions == answer.questions)
    #expect(stand.header.answerCount == 0 && stand.edns?.udpPayloadSize == 4096)
    let without = DNSMessageBuilder.truncatedResponse(to: answer, id: 7, withEDNS: false)
    #expect(try parse(without).edns == nil)
  }

  @Test func aQueryForAName() throws {
    let question = DNSQuestion(name: try DNSName(parsing: "www.test"), type: .a)
    let bytes = DNSMessageBuilder.query(id: 0x03A3, question: question)
    // dig +noedns sends the same but with AD set (flags 0x0120).
    var dig = DnsmasqDNSCaptures.plainQuery
    dig[3] &= ~0x20
    #expect(bytes[2...] == dig[2...])
    let withEDNS = DNSMessageBuilder.query(
      id: 1, question: question, edns: DNSEDNS(udpPayloadSize: 1232))
    #expect(try parse(withEDNS).edns?.udpPayloadSize == 1232)
  }

  @Test func rewritingTheIDInPlace() {
    var bytes = DnsmasqDNSCaptures.ednsAnswer
    let rest = Array(bytes[2...])
    #expect(DNSMessageBuilder.rewriteID(0xFEED, in: &bytes))
    #expect(bytes[0] == 0xFE && bytes[1] == 0xED && Array(bytes[2...]) == rest)
    var short: [UInt8] = [1, 2, 3]
    #expect(!DNSMessageBuilder.rewriteID(0xFEED, in: &short))
    #expect(short == [1, 2, 3])
  }
}
