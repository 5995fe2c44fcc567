import ControlProtocol
import Testing

/// The control socket's request line (`netstackd status --control PATH [--json]` sends
/// `status\n` or `status json\n`).
struct ControlRequestTests {
  private func parse(_ text: String) -> ControlRequestParse {
    ControlRequest.parse(Array(text.utf8))
  }

  @Test func theRequestsTheStatusCommandSends() {
    #expect(parse("status\n") == .request(.status(json: false)))
    #expect(parse("status json\n") == .request(.status(json: true)))
    #expect(parse("status text\n") == .request(.status(json: false)))
  }

  @Test func blanksAroundTheWordsAndACarriageReturnAreIgnored() {
    #expect(parse("  status json \r\n") == .request(.status(json: true)))
    #expect(parse("\tstatus\r\n") == .request(.status(json: false)))
  }

  @Test func bytesAfterTheLineAreIgnored() {
    #expect(parse("status\nstatus json\n") == .request(.status(json: false)))
    #expect(parse("status json\n\u{0}\u{ff}garbage") == .request(.status(json: true)))
  }

  @Test func noLineFeedYetIsIncomplete() {
    #expect(parse("") == .incomplete)
    #expect(parse("stat") == .incomplete)
    #expect(parse("status json") == .incomplete)
    #expect(ControlRequest.parse([UInt8](repeating: 0x61, count: 255)) == .incomplete)
  }

  @Test func noLineFeedWithinTheLimitIsTooLong() {
    let limit = ControlRequest.maximumLength
    #expect(ControlRequest.parse([UInt8](repeating: 0x61, count: limit)) == .invalid(.tooLong))
    #expect(
      ControlRequest.parse([UInt8](repeating: 0x61, count: limit + 500)) == .invalid(.tooLong))
    // A line feed just past the limit does not help.
    #expect(
      ControlRequest.parse([UInt8](repeating: 0x20, count: limit) + [0x0A]) == .invalid(.tooLong))
    // One at the limit's last byte does.
    let padded = [UInt8](repeating: 0x20, count: limit - 7) + Array("status\n".utf8)
    #expect(padded.count == limit)
    #expect(ControlRequest.parse(padded) == .request(.status(json: false)))
  }

  @Test func otherLinesAreUnknownAndQuotedPrintably() {
    #expect(parse("stats\n") == .invalid(.unknown("stats")))
    #expect(parse("\n") == .invalid(.unknown("")))
    #expect(parse("STATUS\n") == .invalid(.unknown("STATUS")))
    #expect(parse("status  json\n") == .invalid(.unknown("status  json")))
    // Control characters and non-ASCII bytes are shown as '?', so the answer is plain text.
    #expect(
      ControlRequest.parse([0x1B, 0x5B, 0x32, 0x4A, 0xC3, 0xA9, 0x00, 0x0A])
        == .invalid(.unknown("?[2J???")))
    let long = String(repeating: "x", count: 100)
    #expect(parse(long + "\n") == .invalid(.unknown(String(repeating: "x", count: 64) + "...")))
  }

  @Test func errorsAnswerInOneLine() {
    for error in [ControlRequestError.tooLong, .unknown("stats")] {
      let answer = error.answer
      #expect(answer.hasPrefix("error: "))
      #expect(answer.hasSuffix("\n"))
      #expect(answer.filter { $0 == "\n" }.count == 1)
    }
    #expect(ControlRequestError.unknown("stats").answer.contains("'stats'"))
  }

  /// However the bytes arrive, a prefix never parses as a different request than the whole.
  @Test func piecesParseAsTheWhole() {
    let bytes = Array("  status json\r\n".utf8)
    for end in 0..<bytes.count {
      #expect(ControlRequest.parse(bytes[0..<end]) == .incomplete)
    }
    #expect(ControlRequest.parse(bytes[...]) == .request(.status(json: true)))
  }
}
