import NetCore
import NetStack

/// The unikernel's settings, from the guest command line (`extra=` in the xl configuration):
/// `ip=10.0.0.2/24 gw=10.0.0.1` for a static address, `dhcp` (or no `ip=`) for the stack's
/// DHCP client; `trace` prints every frame in and out on the console (`TracingDevice`);
/// `impair=SPEC` damages the traffic as `netstackd --impair SPEC` does (`ImpairedDevice`, e.g.
/// `impair=loss=1%,delay=20ms`); `crash-test` makes it trap on purpose once it serves (to test
/// the crash path); unknown words are ignored.
public struct BootConfiguration {
  /// Our address and prefix, or nil for DHCP.
  public var address: IPv4CIDR?
  /// The default gateway.
  public var gateway: IPv4Address?
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
