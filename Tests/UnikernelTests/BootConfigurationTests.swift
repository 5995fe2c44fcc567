import NetCore
import Testing

@testable import UnikernelMain

/// The unikernel's settings from the guest command line (`extra=` in the xl configuration).
@Suite struct BootConfigurationTests {
  @Test func aStaticAddressAndGateway() throws {
    let configuration = BootConfiguration(commandLine: "ip=10.0.0.2/24 gw=10.0.0.1")
    #expect(configuration.address == (try IPv4CIDR(parsing: "10.0.0.2/24")))
    #expect(configuration.gateway == (try IPv4Address(parsing: "10.0.0.1")))
    #expect(!configuration.crashTest)
    #expect(configuration.problems.isEmpty)
  }

  @Test func dhcpOrNoAddressMeansTheDHCPClient() {
    #expect(BootConfiguration(commandLine: "dhcp").address == nil)
    #expect(BootConfiguration(commandLine: "").address == nil)
    #expect(BootConfiguration(commandLine: "ip=10.0.0.2/24 dhcp").address == nil)
  }

  @Test func badWordsAreReportedAndUnknownOnesIgnored() {
    let configuration = BootConfiguration(commandLine: "ip=10.0.0.300/24 gw=nowhere quiet")
    #expect(configuration.address == nil)
    #expect(configuration.gateway == nil)
    #expect(configuration.problems == ["ip=10.0.0.300/24", "gw=nowhere"])
  }

  @Test func aGatewayOutsideTheNetworkIsDropped() {
    let configuration = BootConfiguration(commandLine: "ip=10.0.0.2/24 gw=192.168.1.1")
    #expect(configuration.gateway == nil)
    #expect(configuration.problems == ["gw=192.168.1.1 (outside 10.0.0.2/24)"])
  }

  @Test func crashTestIsAWordOfItsOwn() {
    #expect(BootConfiguration(commandLine: "ip=10.0.0.2/24 crash-test").crashTest)
    #expect(!BootConfiguration(commandLine: "crash-tests").crashTest)
  }
}

/// The unikernel's HTTP request-head parser (RFC 9112 §3), bytes only.
@Suite struct HTTPRequestLineTests {
  static func parse(_ text: String) -> HTTPRequestLine.Parse {
    HTTPRequestLine.parse(Array(text.utf8))
  }

  @Test func aGETWithHeadersAndAQuery() {
    let text = "GET /bytes/10?x=1 HTTP/1.1\r\nHost: a\r\n\r\nnext"
    guard case .complete(let request, let length) = Self.parse(text) else {
      Issue.record("not parsed")
      return
    }
    #expect(request.method == Array("GET".utf8))
    #expect(request.path == Array("/bytes/10".utf8))
    #expect(request.keepAlive)
    #expect(length == text.utf8.count - 4)
  }

  @Test func keepAliveOnlyForHTTP11WithoutConnectionClose() {
    for (text, keepAlive) in [
      ("GET / HTTP/1.1\r\n\r\n", true),
      ("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", false),
      ("GET / HTTP/1.0\r\n\r\n", false),
    ] {
      guard case .complete(let request, _) = Self.parse(text) else {
        Issue.record("not parsed: \(text)")
        continue
      }
      #expect(request.keepAlive == keepAlive, "\(text)")
    }
  }

  @Test func incompleteInvalidAndTooLong() {
    guard case .incomplete = Self.parse("GET / HTTP/1.1\r\nHost: a\r\n") else {
      Issue.record("a head without its empty line is not complete")
      return
    }
    guard case .invalid = Self.parse("GET /\r\n\r\n") else {
      Issue.record("a request line without a version is invalid")
      return
    }
    guard case .invalid = Self.parse("HELLO THERE WORLD\r\n\r\n") else {
      Issue.record("not HTTP is invalid")
      return
    }
    let long = "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 17 * 1024)
    guard case .invalid = Self.parse(long) else {
      Issue.record("a head over the limit is invalid")
      return
    }
  }
}
