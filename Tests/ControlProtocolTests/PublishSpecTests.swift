import ControlProtocol
import NetCore
import Testing

/// `--publish` and `publish add|remove`'s spec: `tcp|udp:[HOSTADDR:]HOSTPORT=GUESTADDR:GUESTPORT`.
struct PublishSpecTests {
  @Test func theFullForm() throws {
    let spec = try PublishSpec.parse("tcp:127.0.0.1:8080=10.0.2.15:80")
    #expect(spec.transport == .tcp)
    #expect(spec.hostAddress == .v4(IPv4Address(127, 0, 0, 1)))
    #expect(spec.hostPort == 8080)
    #expect(spec.guestAddress == .v4(IPv4Address(10, 0, 2, 15)))
    #expect(spec.guestPort == 80)
    #expect(spec.description == "tcp:127.0.0.1:8080=10.0.2.15:80")
    #expect(spec.hostKey == "tcp:127.0.0.1:8080")
  }

  @Test func withoutAHostAddressEveryAddress() throws {
    let spec = try PublishSpec.parse("udp:5353=10.0.2.15:53")
    #expect(spec.transport == .udp)
    #expect(spec.hostAddress == .v4(.any))
    #expect(spec.description == "udp:0.0.0.0:5353=10.0.2.15:53")
  }

  @Test func theExtremePorts() throws {
    let spec = try PublishSpec.parse("tcp:1=10.0.2.15:65535")
    #expect(spec.hostPort == 1)
    #expect(spec.guestPort == 65535)
  }

  @Test(arguments: [
    ("", PublishSpecError.transport),
    ("8080=10.0.2.15:80", .transport),
    ("sctp:8080=10.0.2.15:80", .transport),
    ("TCP:8080=10.0.2.15:80", .transport),
    ("tcp:", .shape),
    ("tcp:8080", .shape),
    ("tcp:8080=", .shape),
    ("tcp:8080=10.0.2.15", .shape),
    ("tcp:8080=10.0.2.15:80=1", .shape),
    ("tcp:1.2.3.4:5:8080=10.0.2.15:80", .shape),
    ("tcp:8080=10.0.2.15:80:1", .shape),
    ("tcp:0=10.0.2.15:80", .hostPort),
    ("tcp:65536=10.0.2.15:80", .hostPort),
    ("tcp:-1=10.0.2.15:80", .hostPort),
    ("tcp:+80=10.0.2.15:80", .hostPort),
    ("tcp: 80=10.0.2.15:80", .hostPort),
    ("tcp:=10.0.2.15:80", .hostPort),
    ("tcp:host:8080=10.0.2.15:80", .hostAddress),
    ("tcp:1.2.3:8080=10.0.2.15:80", .hostAddress),
    ("tcp:224.0.0.1:8080=10.0.2.15:80", .hostAddress),
    ("tcp:255.255.255.255:8080=10.0.2.15:80", .hostAddress),
    ("tcp::8080=10.0.2.15:80", .hostAddress),
    ("tcp:8080=guest:80", .guestAddress),
    ("tcp:8080=0.0.0.0:80", .guestAddress),
    ("tcp:8080=127.0.0.1:80", .guestAddress),
    ("tcp:8080=239.1.1.1:80", .guestAddress),
    ("tcp:8080=255.255.255.255:80", .guestAddress),
    ("tcp:8080=:80", .guestAddress),
    ("tcp:8080=10.0.2.15:0", .guestPort),
    ("tcp:8080=10.0.2.15:70000", .guestPort),
    ("tcp:8080=10.0.2.15:", .guestPort),
    ("tcp:8080=10.0.2.15:8o", .guestPort),
    ("tcp:8080=10.0.2.15:000080", .guestPort),
    ("tcp:8080=10.0.2.15:80" + String(repeating: " ", count: 100), .tooLong),
    ("tcp:::1:8080=10.0.2.15:80", .shape),
    ("tcp:8080=fd00::100:80", .shape),
    ("tcp:[::1:8080=10.0.2.15:80", .shape),
    ("tcp:[::1]8080=10.0.2.15:80", .shape),
    ("tcp:[::1]=10.0.2.15:80", .shape),
    ("tcp:8080=[fd00::100]", .shape),
    ("tcp:[::1]:0=10.0.2.15:80", .hostPort),
    ("tcp:[::1]:=10.0.2.15:80", .hostPort),
    ("tcp:[]:8080=10.0.2.15:80", .hostAddress),
    ("tcp:[10.0.0.1]:8080=10.0.2.15:80", .hostAddress),
    ("tcp:[ff02::1]:8080=10.0.2.15:80", .hostAddress),
    ("tcp:[::ffff:10.0.0.1]:8080=10.0.2.15:80", .hostAddress),
    ("tcp:[fe80::1%eth0]:8080=10.0.2.15:80", .hostAddress),
    ("tcp:8080=[::]:80", .guestAddress),
    ("tcp:8080=[::1]:80", .guestAddress),
    ("tcp:8080=[ff02::1]:80", .guestAddress),
    ("tcp:8080=[fe80::1]:80", .guestAddress),
    ("tcp:8080=[::ffff:10.0.2.15]:80", .guestAddress),
    ("tcp:8080=[fd00::zz]:80", .guestAddress),
    ("tcp:8080=[fd00::100]:0", .guestPort),
    ("tcp:8080=[fd00::100]:80]", .guestPort),
  ])
  func everyBadForm(text: String, why: PublishSpecError) {
    #expect(throws: why) { try PublishSpec.parse(text) }
  }

  @Test func ipv6OnBothSidesInBrackets() throws {
    let spec = try PublishSpec.parse("tcp:[::1]:8080=[fd00::100]:80")
    #expect(spec.hostAddress == .v6(.loopback))
    #expect(spec.hostPort == 8080)
    #expect(spec.guestAddress == .v6(try IPv6Address(parsing: "fd00::100")))
    #expect(spec.guestPort == 80)
    #expect(spec.description == "tcp:[::1]:8080=[fd00::100]:80")
    #expect(spec.hostKey == "tcp:[::1]:8080")
    #expect(spec.hostEndpoint == "[::1]:8080")
    #expect(spec.guestEndpoint == "[fd00::100]:80")
  }

  @Test func eachSideHasItsOwnFamily() throws {
    let toIPv6 = try PublishSpec.parse("udp:5353=[fd00::100]:53")
    #expect(toIPv6.hostAddress == .v4(.any))
    #expect(toIPv6.description == "udp:0.0.0.0:5353=[fd00::100]:53")
    let fromIPv6 = try PublishSpec.parse("udp:[::]:5353=10.0.2.15:53")
    #expect(fromIPv6.hostAddress == .v6(.unspecified))
    #expect(fromIPv6.description == "udp:[::]:5353=10.0.2.15:53")
  }

  @Test func theTextFormIsCanonicalAndParsesBack() throws {
    let spec = try PublishSpec.parse("tcp:[FD77:0:0::0002]:8080=[fd00:0::100]:80")
    #expect(spec.description == "tcp:[fd77::2]:8080=[fd00::100]:80")
    #expect(try PublishSpec.parse(spec.description) == spec)
  }

  @Test func theLongestIPv6FormFits() throws {
    let longest =
      "udp:[fd00:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535=[fd00:ffff:ffff:ffff:ffff:ffff:ffff:fffe]:65535"
    #expect(longest.utf8.count <= PublishSpec.maximumLength)
    #expect(throws: Never.self) { try PublishSpec.parse(longest) }
  }

  @Test func theErrorsSayWhatIsWrong() {
    #expect(
      PublishSpecError.hostPort.description == "the host port is not a number from 1 to 65535")
    #expect(PublishSpecError.shape.description.contains(PublishSpec.form))
  }
}

/// The control socket's `publish` requests.
struct ControlPublishRequestTests {
  private func parse(_ text: String) -> ControlRequestParse {
    ControlRequest.parse(Array(text.utf8))
  }

  @Test func addRemoveAndList() throws {
    let spec = try PublishSpec.parse("tcp:8080=10.0.2.15:80")
    #expect(parse("publish add tcp:8080=10.0.2.15:80\n") == .request(.publishAdd(spec)))
    #expect(parse("publish remove tcp:8080=10.0.2.15:80\n") == .request(.publishRemove(spec)))
    #expect(parse(" publish \t add  tcp:8080=10.0.2.15:80 \r\n") == .request(.publishAdd(spec)))
    #expect(parse("publish list\n") == .request(.publishList(json: false)))
    #expect(parse("publish list json\n") == .request(.publishList(json: true)))
  }

  @Test func ipv6SpecsInRequests() throws {
    let spec = try PublishSpec.parse("udp:[::1]:5353=[fd00::100]:53")
    #expect(parse("publish add udp:[::1]:5353=[fd00::100]:53\n") == .request(.publishAdd(spec)))
    #expect(
      parse("publish remove udp:[::1]:5353=[fd00::100]:53\n") == .request(.publishRemove(spec)))
    #expect(
      parse("publish add tcp:[::1:80=10.0.2.15:80\n")
        == .invalid(.badPublishSpec("tcp:[::1:80=10.0.2.15:80", .shape)))
  }

  @Test func aBadSpecIsAnErrorThatSaysWhy() {
    let result = parse("publish add tcp:99999=10.0.2.15:80\n")
    #expect(result == .invalid(.badPublishSpec("tcp:99999=10.0.2.15:80", .hostPort)))
    if case .invalid(let error) = result {
      #expect(
        error.answer
          == "error: 'tcp:99999=10.0.2.15:80' is not a published port: the host port is not a number from 1 to 65535 (expected \(PublishSpec.form))\n"
      )
    }
  }

  @Test func aBadSpecIsQuotedPrintableOnly() {
    let bytes = Array("publish add tcp:\u{1}8080=10.0.2.15:80\n".utf8)
    #expect(
      ControlRequest.parse(bytes) == .invalid(.badPublishSpec("tcp:?8080=10.0.2.15:80", .hostPort)))
  }

  @Test(arguments: [
    "publish\n", "publish add\n", "publish remove\n", "publish add a b\n", "publish drop x\n",
    "publish list yaml\n", "publishadd tcp:1=10.0.0.1:1\n", "publish list json extra\n",
  ])
  func malformedPublishRequestsAreUnknown(text: String) {
    guard case .invalid(.unknown) = parse(text) else {
      Issue.record("\(text.debugDescription) was taken")
      return
    }
  }
}
