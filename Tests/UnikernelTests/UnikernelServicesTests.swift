import Applications
import NetCore
import NetSimulation
import NetStack
import TCP
import Testing

@testable import UnikernelMain

/// The unikernel's services (the stack's own HTTP and echo, `TCPServiceHost` stepping the
/// `Applications` handlers) on a direct stack, against a client on a second stack across the
/// simulated link (virtual time), over a lossy link too: the same code the unikernel runs on
/// Xen, tested without Xen.
@Suite struct UnikernelServicesTests {
  static let platform = "a simulated link"

  /// A client connection on the left stack: sends `request`, optionally half-closes after it,
  /// collects everything until the server's end of stream.
  struct Client {
    let id: TCPConnectionID
    let request: [UInt8]
    let halfClose: Bool
    var sent = 0
    var shutDown = false
    var received: [UInt8] = []
    var done = false

    mutating func pump(_ stack: inout DirectStack, now: Instant, scratch: inout [UInt8]) {
      guard !done, stack.tcp.state(id)?.isSynchronized == true else { return }
      while sent < request.count {
        let written =
          (try? stack.tcp.write(id, request.span.extracting(sent..<request.count))) ?? 0
        if written == 0 { break }
        sent += written
      }
      if sent == request.count && halfClose && !shutDown {
        try? stack.tcp.shutdownWrite(id)
        shutDown = true
      }
      while true {
        let count = scratch.withUnsafeMutableBytes {
          (try? stack.tcp.read(id, into: $0, now: now)) ?? 0
        }
        if count == 0 { break }
        received += scratch[0..<count]
      }
      if stack.tcp.isAtEndOfStream(id) {
        stack.tcp.close(id)
        done = true
      }
    }
  }

  /// Runs the unikernel's servers on the right stack and one client on the left until the
  /// server ends the stream; returns what the client received.
  static func exchange(
    _ request: [UInt8], port: UInt16, halfClose: Bool = false,
    impairment: ImpairmentConfiguration = ImpairmentConfiguration(), seed: UInt64 = 1
  ) throws -> [UInt8] {
    var network = SimulatedNetwork(
      left: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 1),
        address: try IPv4CIDR(parsing: "10.0.0.1/24"), seed: seed),
      right: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 2),
        address: try IPv4CIDR(parsing: "10.0.0.2/24"), seed: seed + 1),
      impairment: impairment, seed: seed)
    try UnikernelServices.start(on: &network.right, platform: platform)
    var ipv4 = network.left.ipv4
    let id = try network.left.tcp.connect(
      to: .v4(try IPv4Address(parsing: "10.0.0.2")), port: port, now: network.now, network: &ipv4)
    network.left.ipv4 = ipv4
    var client = Client(id: id, request: request, halfClose: halfClose)
    var scratch = [UInt8](repeating: 0, count: 65536)
    network.run(until: network.now + .seconds(120)) { network in
      client.pump(&network.left, now: network.now, scratch: &scratch)
      return !client.done
    }
    #expect(client.done, "the server did not end the stream in 120 s of virtual time")
    network.run(until: network.now + .seconds(5))
    #expect(network.right.services.sessionCount == 0, "a session outlived its connection")
    #expect(network.right.budget.used(for: .services) == 0, "a session's memory was not given back")
    return client.received
  }

  /// Splits `bytes` into HTTP responses: (status line, Content-Length, body) each.
  static func responses(_ bytes: [UInt8]) -> [(status: String, body: [UInt8])] {
    var result: [(status: String, body: [UInt8])] = []
    var rest = bytes[...]
    let separator: [UInt8] = [13, 10, 13, 10]
    while !rest.isEmpty {
      guard let end = rest.indices.first(where: { rest[$0...].starts(with: separator) }) else {
        break
      }
      let head = String(decoding: rest[..<end], as: UTF8.self)
      let lines = head.split(separator: "\r\n")
      let length =
        lines.first { $0.lowercased().hasPrefix("content-length:") }
        .flatMap { Int($0.split(separator: ":")[1].trimmingPrefix(" ")) } ?? 0
      let bodyStart = end + 4
      let bodyEnd = min(bodyStart + length, rest.endIndex)
      result.append((String(lines.first ?? ""), Array(rest[bodyStart..<bodyEnd])))
      rest = rest[bodyEnd...]
    }
    return result
  }

  /// What `/bytes/N` must send, written out independently of `HTTPContent` (the code under
  /// test): the line repeated to at least 256 KiB (3641 lines, 262,152 bytes), then again.
  static func expectedBytes(_ count: Int) -> [UInt8] {
    let line = Array(
      "netstack: a TCP/IP stack in Swift. 0123456789abcdefghijklmnopqrstuvwxyz\n".utf8)
    let period = (256 * 1024 + line.count - 1) / line.count * line.count
    return (0..<count).map { line[($0 % period) % line.count] }
  }

  @Test func pipelinedRequestsGetThePageAndTheBytes() throws {
    let request = Array(
      "GET / HTTP/1.1\r\nHost: t\r\n\r\nGET /bytes/300000 HTTP/1.1\r\nConnection: close\r\n\r\n"
        .utf8)
    let answers = Self.responses(try Self.exchange(request, port: 80))
    try #require(answers.count == 2)
    #expect(answers[0].status == "HTTP/1.1 200 OK")
    #expect(answers[0].body == HTTPContent.page(for: Self.platform))
    #expect(answers[1].status == "HTTP/1.1 200 OK")
    #expect(answers[1].body.count == 300_000)
    let patternMatches = answers[1].body == Self.expectedBytes(300_000)
    #expect(patternMatches, "the pattern, wrapped past 256 KiB")
  }

  @Test func unknownPathsAndMethods() throws {
    let request = Array(
      "GET /nothing HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nConnection: close\r\n\r\n".utf8)
    let answers = Self.responses(try Self.exchange(request, port: 80))
    #expect(answers.map(\.status) == ["HTTP/1.1 404 Not Found", "HTTP/1.1 405 Method Not Allowed"])
  }

  @Test func headSendsNoBody() throws {
    let bytes = try Self.exchange(
      Array("HEAD /bytes/5000 HTTP/1.1\r\nConnection: close\r\n\r\n".utf8), port: 80)
    let text = String(decoding: bytes, as: UTF8.self)
    #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
    #expect(text.contains("Content-Length: 5000\r\n"))
    #expect(text.hasSuffix("\r\n\r\n"), "a HEAD response ends with its head")
  }

  @Test func echoReturnsEveryByte() throws {
    var generator = SplitMix64(seed: 7)
    let data = (0..<200_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    let echoed = try Self.exchange(data, port: 7, halfClose: true)
    #expect(echoed.count == data.count)
    let same = echoed == data
    #expect(same, "the echoed bytes differ")
  }

  @Test(arguments: [1, 2, 3] as [UInt64])
  func bytesSurviveALossyLink(seed: UInt64) throws {
    var impairment = ImpairmentConfiguration()
    impairment.lossPerMillion = 30_000
    impairment.reorderPerMillion = 30_000
    impairment.delay = .milliseconds(1)
    let answers = Self.responses(
      try Self.exchange(
        Array("GET /bytes/500000 HTTP/1.1\r\nConnection: close\r\n\r\n".utf8), port: 80,
        impairment: impairment, seed: seed))
    try #require(answers.count == 1)
    #expect(answers[0].body.count == 500_000)
    let patternMatches = answers[0].body == Self.expectedBytes(500_000)
    #expect(patternMatches, "the bytes differ from the pattern")
  }
}

/// A small seeded generator for test data (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
