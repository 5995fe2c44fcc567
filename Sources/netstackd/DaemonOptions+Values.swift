import NetCore
import NetworkAPI

/// The parsers of the values options take that are more than a number: sizes, endpoints,
/// forwarding rules.
extension DaemonOptions {
  /// A size in bytes: digits with an optional K, M or G (powers of 1024; `KiB`, `MB` and the
  /// like are taken too).
  static func parseSize(_ text: String) -> Int? {
    var digits = Substring(text)
    var unit = 1
    let suffixes: [(String, Int)] = [
      ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1 << 10), ("MB", 1 << 20),
      ("GB", 1 << 30), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("k", 1 << 10),
      ("m", 1 << 20), ("g", 1 << 30),
    ]
    for (suffix, multiplier) in suffixes where digits.hasSuffix(suffix) {
      digits = digits.dropLast(suffix.count)
      unit = multiplier
      break
    }
    guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let number = Int(digits), number >= 0,
      number <= (1 << 42) / unit
    else { return nil }
    return number * unit
  }

  /// A whole number of seconds, 1 to one day (or 0 with `allowZero`).
  static func parseSeconds(_ text: String, option: String, allowZero: Bool = false)
    throws(OptionError) -> Int
  {
    guard let seconds = Int(text), seconds >= (allowZero ? 0 : 1), seconds <= 86400 else {
      throw OptionError(
        option, "'\(text)' is not a number of seconds from \(allowZero ? 0 : 1) to 86400")
    }
    return seconds
  }

  /// `ADDR:PORT` (IPv4), `[ADDR]:PORT` (IPv6, the brackets of RFC 3986 §3.2.2), or nil.
  static func parseEndpoint(_ text: String) -> SocketAddress? {
    if text.hasPrefix("[") {
      let parts = text.dropFirst().split(
        separator: "]", maxSplits: 1, omittingEmptySubsequences: false)
      guard parts.count == 2, parts[1].hasPrefix(":"),
        let address = try? IPv6Address(parsing: String(parts[0])),
        let port = UInt16(parts[1].dropFirst()), port > 0
      else { return nil }
      return SocketAddress(.v6(address), port)
    }
    let parts = text.split(separator: ":")
    guard parts.count == 2, let address = try? IPv4Address(parsing: String(parts[0])),
      let port = UInt16(parts[1]), port > 0
    else { return nil }
    return SocketAddress(address, port)
  }

  /// `tcp:PORT=HOST:PORT` (or, with `transport` "udp", `udp:PORT=HOST:PORT`), HOST an IPv4
  /// address or a bracketed IPv6 one.
  static func parseForward(_ text: String, transport: String = "tcp") throws(OptionError)
    -> Forward
  {
    let problem = "'\(text)' is not \(transport):PORT=HOST:PORT"
    guard text.hasPrefix("\(transport):") else { throw OptionError("--forward", problem) }
    let rule = text.dropFirst(transport.count + 1).split(separator: "=")
    guard rule.count == 2, let port = UInt16(rule[0]), port > 0,
      let target = parseEndpoint(String(rule[1]))
    else { throw OptionError("--forward", problem) }
    if let ipv6 = target.address.ipv6, ipv6.isLinkLocal || ipv6.isMulticast || ipv6.isUnspecified {
      throw OptionError(
        "--forward",
        "'\(text)': \(ipv6) is not a unicast address (a link-local one would need a zone)")
    }
    return Forward(port: port, target: target)
  }
}
