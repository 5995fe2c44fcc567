import Testing

@testable import Applications

@Suite struct HTTPHeadScannerTests {
  func scan(_ pieces: [String]) -> [Int?] {
    var scanner = HTTPHeadScanner()
    return pieces.map { piece in
      Array(piece.utf8).withUnsafeBufferPointer { scanner.scan(Span(_unsafeElements: $0)) }
    }
  }

  @Test func wholeHeadInOnePiece() {
    #expect(scan(["GET / HTTP/1.1\r\nHost: a\r\n\r\nrest"]) == [27])
  }

  @Test func headEndSplitAcrossPieces() {
    #expect(scan(["GET / HTTP/1.1\r\n", "\r", "\n"]) == [nil, nil, 1])
    #expect(scan(["GET / HTTP/1.1\r", "\n\r\nX"]) == [nil, 3])
  }

  @Test func carriageReturnsThatDoNotEndTheHead() {
    #expect(scan(["a\r\r\n\r\n"]) == [6])
    #expect(scan(["a\r\n\r\r\n\r\n"]) == [8])
    #expect(scan(["a\n\n\r\n"]) == [nil])
  }
}

/// The request-head parser's strictness (RFC 9112 §3, §5, §6.3).
@Suite struct HTTPRequestHeadTests {
  func parse(_ text: String) throws(HTTPRequestHead.Rejection) -> HTTPRequestHead {
    let bytes = Array(text.utf8)
    return try bytes.withUnsafeBufferPointer { buffer throws(HTTPRequestHead.Rejection) in
      try HTTPRequestHead(parsing: Span(_unsafeElements: buffer))
    }
  }

  @Test func aGETWithFieldsAndAQuery() throws {
    let head = try parse(
      "GET /bytes/10?x=1 HTTP/1.1\r\nHost: a\r\nConnection:  Keep-Alive , Upgrade\r\n\r\n")
    #expect(head.method == Array("GET".utf8))
    #expect(Array(head.path) == Array("/bytes/10".utf8))
    #expect(head.minorVersion == 1)
    #expect(head.connectionKeepAlive && !head.connectionClose)
    #expect(head.keepAlive)
  }

  @Test(arguments: [
    "GET  / HTTP/1.1\r\n\r\n",  // two spaces: an empty part
    "GET /\r\n\r\n",
    "GET / HTTP/1.1\r\nHost : a\r\n\r\n",  // space before the colon
    "GET / HTTP/1.1\r\n folded\r\n\r\n",  // obsolete line folding
    "GET / HTTP/1.1\r\n: empty name\r\n\r\n",
    "G\u{1}T / HTTP/1.1\r\n\r\n",
    "GET /a\u{7f}b HTTP/1.1\r\n\r\n",
    "GET a HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    "GET / HTTP/1.1\r\nContent-Length: 12a\r\n\r\n",
  ])
  func malformedHeadsAreRejectedWith400(text: String) {
    #expect(throws: HTTPRequestHead.Rejection(status: 400)) { try parse(text) }
  }

  @Test func versionsAndBodies() throws {
    #expect(throws: HTTPRequestHead.Rejection(status: 505)) { try parse("GET / HTTP/3\r\n\r\n") }
    #expect(throws: HTTPRequestHead.Rejection(status: 501)) {
      try parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    }
    #expect(throws: HTTPRequestHead.Rejection(status: 400)) {
      try parse("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")
    }
    #expect(
      try parse("POST / HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n").contentLength
        == 3)
    #expect(try parse("GET / HTTP/1.0\r\n\r\n").keepAlive == false)
    #expect(try parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keepAlive == false)
  }
}
