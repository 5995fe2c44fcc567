import DNS
import NetCore
import Testing

/// The message view over real dnsmasq and dig messages (``DnsmasqDNSCaptures``).
struct DNSMessageTests {
  @Test func digsQueryWithEDNS() throws {
    let bytes = DnsmasqDNSCaptures.ednsQuery
    let message = try DNSMessage(checking: bytes.span)
    #expect(message.header.id == UInt16(bytes[0]) << 8 | UInt16(bytes[1]))
    #expect(!message.header.isResponse)
    #expect(message.header.opcode == .query)
    #expect(message.header.recursionDesired)
    #expect(!message.header.isTruncated)
    #expect(message.header.questionCount == 1 && message.header.additionalCount == 1)
    let first = message.question
    let question = try #require(first)
    #expect(question.name.description == "www.test.")
    #expect(question.type == .a && question.recordClass == .internet)
    #expect(message.edns == DNSEDNS(udpPayloadSize: 1232))
    #expect(message.answerOffset == 12 + 10 + 4)
    #expect(message.endOffset == bytes.count && !message.hasTrailingBytes)
    var records: [DNSResourceRecord] = []
    try message.forEachRecord { records.append($0) }
    #expect(records.count == 1)
    #expect(records[0].section == .additional && records[0].type == .opt)
    // The COOKIE option (code 10, 8 bytes of client cookie).
    let data = message.data(of: records[0])
    #expect(data.count == 12 && data[0] == 0 && data[1] == 10 && data[3] == 8)
  }

  @Test func dnsmasqsAnswerWithACompressedOwnerName() throws {
    let messageBytes = DnsmasqDNSCaptures.ednsAnswer
    let message = try DNSMessage(checking: messageBytes.span)
    #expect(message.header.isResponse && message.header.isAuthoritative)
    #expect(message.header.recursionAvailable && message.header.responseCode == .noError)
    var answers: [DNSResourceRecord] = []
    try message.forEachRecord { if $0.section == .answer { answers.append($0) } }
    #expect(answers.count == 1)
    #expect(answers[0].name.description == "www.test.")
    #expect(answers[0].type == .a && answers[0].ttl == 0)
    #expect(IPv4Address(message.data(of: answers[0]), at: 0) == IPv4Address(10, 53, 1, 1))
    #expect(message.edns?.udpPayloadSize == 1232)
    #expect(message.responseCode == .noError)
  }

  @Test func withoutEDNSThereIsNoOPTRecord() throws {
    let queryBytes = DnsmasqDNSCaptures.plainQuery
    let query = try DNSMessage(checking: queryBytes.span)
    #expect(query.edns == nil && query.header.additionalCount == 0)
    let answerBytes = DnsmasqDNSCaptures.plainAnswer
    let answer = try DNSMessage(checking: answerBytes.span)
    #expect(answer.edns == nil && answer.header.answerCount == 1)
  }

  @Test func aaaaAnswer() throws {
    let messageBytes = DnsmasqDNSCaptures.aaaaAnswer
    let message = try DNSMessage(checking: messageBytes.span)
    #expect(message.question?.type == .aaaa)
    var data: [UInt8] = []
    try message.forEachRecord { record in
      if record.type == .aaaa { data = message.data(of: record).copyToArray() }
    }
    #expect(data == [0xFD, 0x53] + [UInt8](repeating: 0, count: 13) + [1])
  }

  @Test func aPointerIntoRecordData() throws {
    // The CNAME's data holds "www.test" uncompressed; the A record's owner is a pointer to it.
    let bytes = DnsmasqDNSCaptures.cnameAnswer
    let message = try DNSMessage(checking: bytes.span)
    var records: [DNSResourceRecord] = []
    try message.forEachRecord { records.append($0) }
    #expect(records.map(\.type) == [.cname, .a, .opt])
    #expect(records[0].name.description == "alias.test.")
    let (target, _) = try DNSName.decode(bytes.span, at: records[0].dataRange.lowerBound)
    #expect(target.description == "www.test.")
    #expect(records[1].name.description == "www.test.")
    #expect(bytes[records[0].dataRange.upperBound] == 0xC0)
    #expect(Int(bytes[records[0].dataRange.upperBound + 1]) == records[0].dataRange.lowerBound)
  }

  @Test func nxdomain() throws {
    let messageBytes = DnsmasqDNSCaptures.nxdomainAnswer
    let message = try DNSMessage(checking: messageBytes.span)
    #expect(message.header.responseCode == .nameError)
    #expect(message.header.answerCount == 0)
    #expect(message.responseCode.description == "NXDOMAIN")
  }

  @Test func aTruncatedAnswerHasTCSetAndWhatFitIn512Bytes() throws {
    let bytes = DnsmasqDNSCaptures.bigTruncatedAnswer
    #expect(bytes.count <= 512)
    let message = try DNSMessage(checking: bytes.span)
    #expect(message.header.isTruncated)
    #expect(message.header.answerCount == 30)
    var addresses: Set<IPv4Address> = []
    try message.forEachRecord { addresses.insert(IPv4Address(message.data(of: $0), at: 0)) }
    #expect(addresses.count == 30)
  }

  @Test func theWholeAnswerOverTCP() throws {
    let messageBytes = DnsmasqDNSCaptures.bigTCPAnswer
    let message = try DNSMessage(checking: messageBytes.span)
    #expect(!message.header.isTruncated)
    var addresses: Set<IPv4Address> = []
    try message.forEachRecord { record in
      if record.type == .a { addresses.insert(IPv4Address(message.data(of: record), at: 0)) }
    }
    #expect(addresses == Set((1...40).map { IPv4Address(10, 53, 2, UInt8($0)) }))
  }

  @Test(arguments: [
    DnsmasqDNSCaptures.ednsQuery, DnsmasqDNSCaptures.ednsAnswer, DnsmasqDNSCaptures.plainQuery,
    DnsmasqDNSCaptures.plainAnswer, DnsmasqDNSCaptures.aaaaQuery, DnsmasqDNSCaptures.aaaaAnswer,
    DnsmasqDNSCaptures.cnameQuery, DnsmasqDNSCaptures.cnameAnswer,
    DnsmasqDNSCaptures.nxdomainQuery, DnsmasqDNSCaptures.nxdomainAnswer,
    DnsmasqDNSCaptures.bigQuery, DnsmasqDNSCaptures.bigTruncatedAnswer,
    DnsmasqDNSCaptures.bigTCPQuery, DnsmasqDNSCaptures.bigTCPAnswer,
  ])
  func everyCaptureParsesAndEveryShorterPrefixIsAnError(bytes: [UInt8]) throws {
    _ = try DNSMessage(checking: bytes.span)
    for length in 0..<bytes.count {
      let prefix = Array(bytes[..<length])
      #expect(throws: DNSMessageError.self) { _ = try DNSMessage(checking: prefix.span) }
    }
    // Trailing bytes are allowed and said.
    let paddedBytes = bytes + [0, 0, 0]
    let padded = try DNSMessage(checking: paddedBytes.span)
    #expect(padded.hasTrailingBytes && padded.endOffset == bytes.count)
  }

  @Test func headerFlagsRoundTrip() throws {
    var header = DNSHeader(id: 0xBEEF)
    header.isResponse = true
    header.opcode = .notify
    header.isAuthoritative = true
    header.isTruncated = true
    header.recursionDesired = true
    header.recursionAvailable = true
    header.checkingDisabled = true
    header.responseCode = .refused
    #expect(header.flags == 0x8000 | 4 << 11 | 0x0400 | 0x0200 | 0x0100 | 0x0080 | 0x0010 | 5)
    var bytes = [UInt8](repeating: 0, count: 12)
    var span = bytes.mutableSpan
    header.emit(into: &span)
    #expect(try DNSHeader(parsing: bytes.span) == header)
    header.isTruncated = false
    header.opcode = .query
    header.responseCode = .noError
    #expect(header.flags == 0x8000 | 0x0400 | 0x0100 | 0x0080 | 0x0010)
  }
}
