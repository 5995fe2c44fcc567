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
