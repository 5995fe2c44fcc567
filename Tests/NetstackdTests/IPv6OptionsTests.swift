import NetCore
import Testing

@testable import netstackd

/// The IPv6 options of the daemon: `--ip6` (repeatable, or `auto`), `--gateway6`,
/// `--host-ip6`, their values and every refusal (one line naming the option; exit status 2 in
/// `netstackd`, which the e2e test `options` checks).
struct IPv6OptionsTests {
  private func cidr(_ text: String) -> IPv6CIDR { try! IPv6CIDR(parsing: text) }
  private func address(_ text: String) -> IPv6Address { try! IPv6Address(parsing: text) }

  /// The message a command line is refused with, or nil if it is accepted.
  private func refusal(_ arguments: [String]) -> String? {
    do {
      _ = try DaemonOptions(arguments: arguments)
      return nil
    } catch {
      return error.description
    }
  }

  @Test func noIPv6OptionMeansTheLinkLocalAddressOnly() throws {
    let options = try DaemonOptions(arguments: ["--tap", "t"])
    #expect(options.ipv6Addresses.isEmpty)
    #expect(!options.ipv6Autoconfiguration)
    #expect(options.ipv6Gateway == nil)
    #expect(options.hostIPv6Address == nil)
    #expect(DaemonOptions.help.contains("always has a link-local address"))
  }

  @Test func addressesGatewayAndHostSide() throws {
    let options = try DaemonOptions(arguments: [
      "--tap", "t", "--ip6", "2001:db8::2/64", "--ip6", "fd00:1::7", "--ip6", "auto",
      "--gateway6", "fe80::1", "--host-ip6", "2001:db8::1/64",
    ])
    #expect(options.ipv6Addresses == [cidr("2001:db8::2/64"), cidr("fd00:1::7/128")])
    #expect(options.ipv6Autoconfiguration)
    #expect(options.ipv6Gateway == address("fe80::1"))
    #expect(options.hostIPv6Address == cidr("2001:db8::1/64"))
    // A gateway inside an --ip6 prefix is accepted as well as a link-local one.
    let inside = try DaemonOptions(arguments: [
      "--tap", "t", "--ip6", "2001:db8::2/64", "--gateway6", "2001:db8::ff",
    ])
    #expect(inside.ipv6Gateway == address("2001:db8::ff"))
  }

  @Test(arguments: [
    (["--tap", "t", "--ip6", "ff02::1/64"], "--ip6: 'ff02::1/64' is not a unicast address"),
    (["--tap", "t", "--ip6", "::/64"], "--ip6: '::/64' is not a unicast address"),
    (["--tap", "t", "--ip6", "::1"], "--ip6: '::1/128' is not a unicast address"),
    (
      ["--tap", "t", "--ip6", "2001:db8::2/64", "--ip6", "2001:db8::2/48"],
      "--ip6: '2001:db8::2' is given twice"
    ),
    (
      ["--tap", "t", "--gateway6", "2001:db8::1"],
      "--gateway6: '2001:db8::1' is neither link-local nor inside an --ip6 prefix"
    ),
    (
      ["--tap", "t", "--ip6", "2001:db8::2/64", "--gateway6", "2001:db8::2"],
      "--gateway6: '2001:db8::2' is not another host's unicast address"
    ),
    (
      ["--tap", "t", "--gateway6", "ff02::2"],
      "--gateway6: 'ff02::2' is not another host's unicast address"
    ),
    (
      ["--tap", "t", "--ip6", "2001:db8::2/64", "--host-ip6", "2001:db8::2/64"],
      "--host-ip6: '2001:db8::2/64' is the stack's own address"
    ),
    (
      ["--tap", "t", "--host-ip6", "ff02::1/64"],
      "--host-ip6: 'ff02::1/64' is not a unicast address"
    ),
    (["--unix", "s", "--host-ip6", "2001:db8::1/64"], "--host-ip6: only applies to a TAP device"),
    (
      ["--backend", "socket", "--ip6", "fe80::2"],
      "--ip6: 'fe80::2' is link-local: the socket backend binds no link-local address"
    ),
    (["--backend", "socket", "--ip6", "ff02::1"], "--ip6: 'ff02::1/128' is not a unicast address"),
    (["--backend", "socket", "--ip6", "::"], "--ip6: '::/128' is not a unicast address"),
    (["--backend", "socket", "--ip6", "::1", "--ip6", "::1/128"], "--ip6: '::1' is given twice"),
    (
      ["--backend", "socket", "--gateway6", "fe80::1"],
      "--gateway6: has no meaning with --backend socket (there is no device)"
    ),
    (
      ["--backend", "socket", "--ip6", "auto"],
      "--ip6: has no meaning with --backend socket (there is no device)"
    ),
  ])
  func aBadCombinationIsOneLineNamingTheOption(arguments: [String], message: String) {
    #expect(refusal(arguments) == message)
  }

  @Test(arguments: [
    ["--tap", "t", "--ip6", "bad"], ["--tap", "t", "--ip6", "2001:db8::2/129"],
    ["--tap", "t", "--ip6", "2001:db8::2/"], ["--tap", "t", "--ip6", "10.0.0.1/24"],
    ["--tap", "t", "--gateway6", "fe80::1/64"], ["--tap", "t", "--gateway6", "nonsense"],
    ["--tap", "t", "--host-ip6", "2001:db8::1"], ["--tap", "t", "--host-ip6", "bad/64"],
  ])
  func aValueThatDoesNotParseNamesTheOption(arguments: [String]) {
    let message = refusal(arguments) ?? ""
    #expect(message.hasPrefix(arguments[2] + ": "), "\(message)")
  }

  @Test func theSocketBackendTakesTheIPv6AddressesItsServicesBindTo() throws {
    let options = try DaemonOptions(arguments: [
      "--backend", "socket", "--ip", "10.77.0.2", "--ip6", "fd77::2/64", "--ip6", "::1",
    ])
    #expect(options.ipv6Addresses.map(\.address) == [address("fd77::2"), .loopback])
  }

  @Test func atMostEightAddresses() {
    var arguments = ["--tap", "t"]
    for index in 1...9 { arguments += ["--ip6", "2001:db8::\(index)/64"] }
    #expect(refusal(arguments) == "--ip6: at most 8 addresses (given 9)")
  }
}
