import NetCore
import NetStack

/// The unikernel's settings, from the guest command line (`extra=` in the xl configuration):
/// `ip=10.0.0.2/24 gw=10.0.0.1` for a static address, `dhcp` (or no `ip=`) for the stack's
/// DHCP client; `ip6=fd00::2/64` (repeatable) for an IPv6 address besides the link-local one
/// the stack always has, `ip6=auto` for addresses from router advertisements (RFC 4862 SLAAC),
/// `gw6=fe80::1` for an IPv6 default router; `trace` prints every frame in and out on the console (`TracingDevice`);
/// `impair=SPEC` damages the traffic as `netstackd --impair SPEC` does (`ImpairedDevice`, e.g.
/// `impair=loss=1%,delay=20ms`); `crash-test` makes it trap on purpose once it serves (to test
/// the crash path); unknown words are ignored.
public struct BootConfiguration {
  /// Our address and prefix, or nil for DHCP.
  public var address: IPv4CIDR?
  /// The default gateway.
  public var gateway: IPv4Address?
  /// IPv6 addresses (`ip6=ADDR/PREFIX`, repeatable; a bare address is a /128).
  public var ipv6Addresses: [IPv6CIDR] = []
  /// Addresses from router advertisements (`ip6=auto`).
  public var ipv6Autoconfiguration = false
  /// The IPv6 default router (`gw6=`).
  public var ipv6Gateway: IPv6Address?
  /// Trap once serving (`crash-test`).
  public var crashTest = false
  /// Describe each frame in and out on the console (`trace`).
  public var trace = false
  /// What to do to the traffic both ways (`impair=SPEC`); impairs nothing by default.
  public var impairment = ImpairmentConfiguration()
  /// Words the parser did not understand, to report.
  public var problems: [String] = []

  public init(commandLine: String) {
    for word in commandLine.split(separator: " ") {
      if word.hasPrefix("ip=") {
        do {
          address = try IPv4CIDR(parsing: String(word.dropFirst(3)))
        } catch {
          problems.append(String(word))
        }
      } else if word.hasPrefix("gw=") {
        do {
          gateway = try IPv4Address(parsing: String(word.dropFirst(3)))
        } catch {
          problems.append(String(word))
        }
      } else if word == "ip6=auto" {
        ipv6Autoconfiguration = true
      } else if word.hasPrefix("ip6=") {
        let text = String(word.dropFirst(4))
        if let cidr = try? IPv6CIDR(parsing: text), cidr.address.isUnicast {
          ipv6Addresses.append(cidr)
        } else if let plain = try? IPv6Address(parsing: text), plain.isUnicast {
          ipv6Addresses.append(IPv6CIDR(address: plain, prefixLength: 128))
        } else {
          problems.append(String(word))
        }
      } else if word.hasPrefix("gw6=") {
        if let router = try? IPv6Address(parsing: String(word.dropFirst(4))), router.isUnicast {
          ipv6Gateway = router
        } else {
          problems.append(String(word))
        }
      } else if word == "dhcp" {
        address = nil
      } else if word == "crash-test" {
        crashTest = true
      } else if word == "trace" {
        trace = true
      } else if word.hasPrefix("impair=") {
        do {
          impairment = try ImpairmentConfiguration(parsing: String(word.dropFirst(7)))
        } catch {
          problems.append("\(word) (\(error))")
        }
      }
    }
    if let gateway, let address, !address.contains(gateway) {
      problems.append("gw=\(gateway) (outside \(address))")
      self.gateway = nil
    }
  }
}
