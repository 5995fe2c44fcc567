import DNS
import Testing

/// TCP framing: a two-byte length before each message (RFC 1035 §4.2.2).
struct DNSStreamFramerTests {
  private func messages(_ stream: [UInt8], pieces: Int, framer: inout DNSStreamFramer)
    throws(DNSMessageError)
    -> [[UInt8]]
  {
    var result: [[UInt8]] = []
    var start = 0
    while start < stream.count {
      let piece = Array(stream[start..<min(stream.count, start + pieces)])
      start += pieces
      var offset = 0
      while let message = try framer.nextMessage(from: piece.span, offset: &offset) {
        result.append(message)
      }
      #expect(offset == piece.count)
    }
    return result
  }

  @Test func wholeMessagesHoweverTheStreamIsCut() throws {
    let one = DnsmasqDNSCaptures.bigTCPQuery
    let two = DnsmasqDNSCaptures.bigTCPAnswer
    let stream =
      try #require(DNSStreamFramer.framed(one)) + (try #require(DNSStreamFramer.framed(two)))
    #expect(stream[0] == 0 && stream[1] == UInt8(one.count))
    for pieces in [1, 2, 3, 7, 51, 700, stream.count] {
      var framer = DNSStreamFramer()
      #expect(try messages(stream, pieces: pieces, framer: &framer) == [one, two])
      #expect(framer.bufferedCount == 0)
    }
  }

  @Test func itTakesOnlyWhatTheNextMessageNeeds() throws {
    var framer = DNSStreamFramer()
    let stream = [0, 2, 0xAA, 0xBB, 0, 1, 0xCC, 0, 5, 1] as [UInt8]
    var offset = 0
    #expect(try framer.nextMessage(from: stream.span, offset: &offset) == [0xAA, 0xBB])
    #expect(offset == 4)
    #expect(try framer.nextMessage(from: stream.span, offset: &offset) == [0xCC])
    #expect(offset == 7)
    #expect(try framer.nextMessage(from: stream.span, offset: &offset) == nil)
    #expect(offset == stream.count && framer.bufferedCount == 3)
  }

  @Test func aZeroLengthOrOneAboveTheLimitIsAnError() {
    var framer = DNSStreamFramer()
    var offset = 0
    let zero: [UInt8] = [0, 0, 1, 2]
    #expect(throws: DNSMessageError.emptyStreamMessage) {
      _ = try framer.nextMessage(from: zero.span, offset: &offset)
    }
    var small = DNSStreamFramer(maximumMessageLength: 512)
    offset = 0
    let big: [UInt8] = [2, 1]
    #expect(throws: DNSMessageError.messageTooLong) {
      _ = try small.nextMessage(from: big.span, offset: &offset)
    }
    #expect(DNSStreamFramer.framed([]) == nil)
    #expect(DNSStreamFramer.framed([UInt8](repeating: 0, count: 65536)) == nil)
    #expect(DNSStreamFramer.framed([UInt8](repeating: 0, count: 65535))?.count == 65537)
  }
}
