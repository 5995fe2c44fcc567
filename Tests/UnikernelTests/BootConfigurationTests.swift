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
