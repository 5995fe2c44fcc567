import NetCore

/// The example's command line: `tap-hello --tap NAME [--ip ADDR/PREFIX] [--port N]
/// [--no-offload]`. A bad value is one line naming the option.
struct HelloOptions {
  /// The TAP device to attach to (created if it does not exist).
  var tap = ""
  /// The stack's address.
  var address = IPv4CIDR(address: IPv4Address(10, 77, 0, 2), prefixLength: 24)
  /// The port the "hello" service listens on.
  var port: UInt16 = 7777
  /// Checksum and segmentation offload through the TAP's virtio-net header.
  var offloads = true

  static let usage = "usage: TAPHello --tap NAME [--ip ADDR/PREFIX] [--port N] [--no-offload]"

  init(arguments: [String]) throws(HelloOptionError) {
    var remaining = arguments[...]
    func value(_ option: String) throws(HelloOptionError) -> String {
      guard let next = remaining.popFirst() else {
        throw HelloOptionError("\(option): needs a value")
      }
      return next
    }
    while let option = remaining.popFirst() {
      switch option {
      case "--tap":
        tap = try value(option)
      case "--ip":
        let text = try value(option)
        do { address = try IPv4CIDR(parsing: text) } catch {
          throw HelloOptionError("--ip: \(error)")
        }
        guard address.address.isUnicast else {
          throw HelloOptionError("--ip: '\(text)' is not a unicast host address")
        }
      case "--port":
        let text = try value(option)
        guard let number = UInt16(text), number > 0 else {
          throw HelloOptionError("--port: '\(text)' is not a port from 1 to 65535")
        }
        port = number
      case "--no-offload":
        offloads = false
      default:
        throw HelloOptionError("unknown argument '\(option)'")
      }
    }
    guard !tap.isEmpty else { throw HelloOptionError("--tap: is required") }
  }
}

/// A bad command line, as one line.
struct HelloOptionError: Error, CustomStringConvertible {
  var description: String

  init(_ description: String) { self.description = description }
}
