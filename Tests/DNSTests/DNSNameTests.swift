import DNS
import Testing

struct DNSNameTests {
  @Test func fromTextAndBack() throws {
    #expect(
      try DNSName(parsing: "www.example.com").wire == [
        3, 119, 119, 119, 7, 101, 120, 97, 109, 112, 108, 101, 3, 99, 111, 109, 0,
      ])
    #expect(try DNSName(parsing: "www.example.com.") == DNSName(parsing: "www.example.com"))
    #expect(try DNSName(parsing: ".") == .root)
    #expect(DNSName.root.description == ".")
    #expect(try DNSName(parsing: "a.b").description == "a.b.")
    #expect(try DNSName(parsing: "a.b").labels == [[97], [98]])
    for bad in ["", "..", "a..b", ".a", "a.b.."] {
      #expect(throws: DNSMessageError.emptyLabel) { _ = try DNSName(parsing: bad) }
    }
  }

  @Test func oddBytesAreEscapedInText() throws {
    let name = try DNSName(labels: [[0x61, 0x2E, 0x5C, 0x00, 0xFF, 0x20]])
    #expect(name.description == "a\\046\\092\\000\\255\\032.")
  }

  @Test func namesMatchIgnoringASCIICase() throws {
    let lower = try DNSName(parsing: "www.test")
    #expect(lower.matches(try DNSName(parsing: "WwW.TeST")))
    #expect(lower != (try DNSName(parsing: "WWW.test")))
    #expect(!lower.matches(try DNSName(parsing: "www.tesu")))
    #expect(!lower.matches(try DNSName(parsing: "www.test.x")))
    // Bytes above ASCII are not letters: 0xC1 and 0xE1 differ.
    #expect(!(try DNSName(labels: [[0xC1]])).matches(try DNSName(labels: [[0xE1]])))
    let question = DNSQuestion(name: lower, type: .a)
    #expect(question.matches(DNSQuestion(name: try DNSName(parsing: "WWW.TEST"), type: .a)))
    #expect(!question.matches(DNSQuestion(name: lower, type: .aaaa)))
    #expect(!question.matches(DNSQuestion(name: lower, type: .a, recordClass: .chaos)))
  }
}
