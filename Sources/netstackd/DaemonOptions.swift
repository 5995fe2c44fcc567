import LinuxRuntime
import NetCore
import NetStack
import NetworkAPI

/// The daemon's command line, parsed and checked.
///
/// Every bad value is reported as one line naming the option; nothing is configured until all
/// of them have been checked.
struct DaemonOptions {
  /// What to do with the host side of the TAP device.
  enum HostAddress: Equatable {
    /// Give it the first free address of `--ip`'s subnet if it has none, and bring it up.
    case automatic
    /// Leave it alone.
    case none
    /// Give it this address and bring it up.
    case address(IPv4CIDR)
  }

  var tap: String?
  var address = IPv4CIDR(address: IPv4Address(10, 77, 0, 2), prefixLength: 24)
  var gateway: IPv4Address?
  var mac: MACAddress?
  var mtu = 1500
  var hostAddress = HostAddress.automatic
  var pcap: String?
  var logLevel = LogLevel.info
  var impairment: ImpairmentConfiguration?
  var impairmentSeed: UInt64 = 1
  var services = ServiceList.all
  var httpRoot: String?
  /// `--echo-client ADDR:PORT[,BYTES]`: the stack connects out to an echo server.
  var echoClient: (server: SocketAddress, bytes: Int)?
  var showHelp = false
  var showVersion = false

  static let version = "0.1.0"

  static let help = """
    Usage: netstackd --tap NAME [options]

    Runs the netstack Swift TCP/IP stack on a Linux TAP device. The host reaches it with
    ordinary tools: ping, nc, curl.

    Device:
      --tap NAME             TAP device to attach to (created if it does not exist)
      --mtu N                largest IPv4 packet, 68-65535 (default 1500); also set on the host side
      --mac MAC              the stack's MAC address (default: a random locally administered one)

    Addresses:
      --ip ADDR/PREFIX       the stack's address (default 10.77.0.2/24)
      --gateway ADDR         default gateway, inside the --ip network (default: none)
      --host-ip ADDR/PREFIX  give the host side of the TAP this address and bring it up;
                             'none' leaves the host side alone (default: if it has no
                             address, the first free one in the --ip network)

    Services:
      --serve LIST           services and ports, e.g. http:80,echo:7 (default
                             http:80,echo:7,discard:9,chargen:19; 'none' for none). echo
                             answers on TCP and UDP; chargen sends until the client closes
      --http-root DIR        serve the files in DIR over HTTP (besides / and /bytes/N)
      --echo-client ADDR:PORT[,BYTES]
                             once up, connect out to an echo server through the Swift stack,
                             send BYTES (default 1048576), read them back, print the result

    Diagnostics:
      --pcap FILE            write every frame in and out to FILE (pcap, for tcpdump/tshark)
      --log-level LEVEL      error, warn, info, debug or trace (default info)
      --impair LIST          fault injection between device and stack, both directions:
                             loss=P%,reorder=P%,duplicate=P%,corrupt=P%,delay=MS (e.g. delay=2ms)
      --impair-seed N        seed of the fault injector (default 1)

      -h, --help             show this help
      --version              show the version

    ICMP echo (ping) is always answered; closed TCP ports answer RST, closed UDP ports ICMP
    port unreachable.
    SIGINT or SIGTERM stops the daemon; it closes the device and prints its counters.
    Exit status: 0 after a clean stop, 1 on a runtime failure, 2 on a bad option or a device
    or address that could not be set up.
    """

  /// Parses `arguments` (without the program name).
  init(arguments: [String]) throws(OptionError) {
    var remaining = arguments[...]
    while let argument = remaining.popFirst() {
      var name = argument
      var inlineValue: String? = nil
      if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
        name = String(argument[..<equals])
        inlineValue = String(argument[argument.index(after: equals)...])
      }
      func value() throws(OptionError) -> String {
        if let inlineValue { return inlineValue }
        guard let next = remaining.popFirst() else { throw OptionError(name, "needs a value") }
        return next
      }
      switch name {
      case "-h", "--help": showHelp = true
      case "--version": showVersion = true
      case "--tap": tap = try value()
      case "--ip":
        let text = try value()
        do { address = try IPv4CIDR(parsing: text) } catch { throw OptionError(name, "\(error)") }
      case "--gateway":
        let text = try value()
        do { gateway = try IPv4Address(parsing: text) } catch {
          throw OptionError(name, "\(error)")
        }
      case "--mac":
        let text = try value()
        do { mac = try MACAddress(parsing: text) } catch { throw OptionError(name, "\(error)") }
      case "--mtu":
        let text = try value()
        guard let number = Int(text), number >= 68, number <= 65535 else {
          throw OptionError(name, "'\(text)' is not an MTU from 68 to 65535")
        }
        mtu = number
      case "--host-ip":
        let text = try value()
        if text == "none" {
          hostAddress = .none
        } else {
          do { hostAddress = .address(try IPv4CIDR(parsing: text)) } catch {
            throw OptionError(name, "\(error)")
          }
        }
      case "--pcap":
        let path = try value()
        guard !path.isEmpty else { throw OptionError(name, "needs a file name") }
        pcap = path
      case "--log-level":
        let text = try value()
        guard let level = LogLevel(name: text) else {
          throw OptionError(name, "'\(text)' is not one of error, warn, info, debug, trace")
        }
        logLevel = level
      case "--impair":
        let text = try value()
        do { impairment = try ImpairmentConfiguration(parsing: text) } catch {
          throw OptionError(name, "\(error)")
        }
      case "--serve":
        services = try ServiceList(parsing: try value())
      case "--http-root":
        let path = try value()
        guard !path.isEmpty else { throw OptionError(name, "needs a directory") }
        httpRoot = path
      case "--echo-client":
        let text = try value()
        let parts = text.split(separator: ",", maxSplits: 1)
        let endpoint = parts.first.map { $0.split(separator: ":") } ?? []
        guard endpoint.count == 2, let address = try? IPv4Address(parsing: String(endpoint[0])),
          let port = UInt16(endpoint[1]), port > 0
        else {
          throw OptionError(name, "'\(text)' is not ADDR:PORT[,BYTES]")
        }
        var bytes = 1 << 20
        if parts.count == 2 {
          guard let count = Int(parts[1]), count >= 0 else {
            throw OptionError(name, "'\(parts[1])' is not a byte count")
          }
          bytes = count
        }
        echoClient = (SocketAddress(address, port), bytes)
      case "--impair-seed":
        let text = try value()
        guard let seed = UInt64(text) else { throw OptionError(name, "'\(text)' is not a number") }
        impairmentSeed = seed
      default:
        if argument.hasPrefix("-") {
          throw OptionError(nil, "unknown option '\(argument)'")
        }
        throw OptionError(nil, "unexpected argument '\(argument)'")
      }
    }
    if showHelp || showVersion { return }
    try validate()
  }

  /// Checks the values against each other.
  private func validate() throws(OptionError) {
    guard tap != nil else { throw OptionError("--tap", "is required (the TAP device to use)") }
    let ours = address.address
    guard ours.isUnicast, !ours.isLoopback else {
      throw OptionError("--ip", "'\(address)' is not a unicast host address")
    }
    if address.prefixLength <= 30
      && (ours == address.networkAddress || ours == address.broadcastAddress)
    {
      throw OptionError("--ip", "'\(address)' is the network or broadcast address of its subnet")
    }
    if let gateway {
      guard address.contains(gateway), gateway != ours, gateway.isUnicast else {
        throw OptionError("--gateway", "'\(gateway)' is not another host inside \(address.network)")
      }
    }
    if let mac {
      guard mac.isUnicast, mac != .zero else {
        throw OptionError("--mac", "'\(mac)' is not a unicast MAC address")
      }
    }
    if case .address(let host) = hostAddress {
      guard host.address != ours else {
        throw OptionError("--host-ip", "'\(host)' is the stack's own address")
      }
      guard host.address.isUnicast, address.contains(host.address) else {
        throw OptionError("--host-ip", "'\(host)' is not a host address inside \(address.network)")
      }
    }
  }

  /// The host-side address `automatic` picks: the first host of the subnet that is not ours.
  var automaticHostAddress: IPv4CIDR? {
    guard address.prefixLength <= 30 else { return nil }
    let first = address.networkAddress.rawValue + 1
    let candidate = first == address.address.rawValue ? first + 1 : first
    return IPv4CIDR(address: IPv4Address(rawValue: candidate), prefixLength: address.prefixLength)
  }
}

/// A bad command line: the option it concerns and what is wrong, as one line.
struct OptionError: Error, CustomStringConvertible {
  var option: String?
  var problem: String

  init(_ option: String?, _ problem: String) {
    self.option = option
    self.problem = problem
  }

  var description: String {
    if let option { return "\(option): \(problem)" }
    return problem
  }
}
