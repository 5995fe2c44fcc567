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

  @Test func ipv6AddressesAutoconfigurationAndRouter() throws {
    let configuration = BootConfiguration(
      commandLine: "ip=10.0.0.2/24 ip6=fd00::2/64 ip6=fd00:1::9 ip6=auto gw6=fe80::1")
    #expect(
      configuration.ipv6Addresses == [
        try IPv6CIDR(parsing: "fd00::2/64"), try IPv6CIDR(parsing: "fd00:1::9/128"),
      ])
    #expect(configuration.ipv6Autoconfiguration)
    #expect(configuration.ipv6Gateway == (try IPv6Address(parsing: "fe80::1")))
    #expect(configuration.problems.isEmpty)
    // Nothing given: the link-local address only.
    let none = BootConfiguration(commandLine: "ip=10.0.0.2/24")
    #expect(none.ipv6Addresses.isEmpty && !none.ipv6Autoconfiguration && none.ipv6Gateway == nil)
  }

  @Test func badIPv6WordsAreReported() {
    let configuration = BootConfiguration(commandLine: "ip6=ff02::1/64 ip6=nonsense gw6=ff02::2")
    #expect(configuration.ipv6Addresses.isEmpty)
    #expect(configuration.ipv6Gateway == nil)
    #expect(configuration.problems == ["ip6=ff02::1/64", "ip6=nonsense", "gw6=ff02::2"])
  }

  @Test func crashTestIsAWordOfItsOwn() {
    #expect(BootConfiguration(commandLine: "ip=10.0.0.2/24 crash-test").crashTest)
    #expect(!BootConfiguration(commandLine: "crash-tests").crashTest)
  }

  /// `trace` and `impair=SPEC` wrap netfront in `TracingDevice` and `ImpairedDevice`.
  @Test func traceAndImpairment() {
    let configuration = BootConfiguration(
      commandLine: "ip=10.0.0.2/24 trace impair=loss=1%,delay=50ms")
    #expect(configuration.trace)
    #expect(configuration.impairment.lossPerMillion == 10_000)
    #expect(configuration.impairment.delay == .milliseconds(50))
    #expect(configuration.problems.isEmpty)
    let plain = BootConfiguration(commandLine: "ip=10.0.0.2/24 tracer")
    #expect(!plain.trace && !plain.impairment.isActive)
  }

  @Test func aBadImpairmentIsReportedAndImpairsNothing() {
    let configuration = BootConfiguration(commandLine: "impair=loss=200% impair=jitter=1ms")
    #expect(!configuration.impairment.isActive)
    #expect(configuration.problems.count == 2)
    #expect(configuration.problems.first?.hasPrefix("impair=loss=200% (") == true)
  }
}
