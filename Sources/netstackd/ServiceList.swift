import Applications

/// Which services the daemon runs and on which ports: `--serve http:80,echo:7,discard:9,chargen:19`.
/// `echo` serves TCP and UDP; a name without a port uses the usual one. The default is
/// ``ServiceKind/defaults``, the list the unikernel serves too.
struct ServiceList: Equatable {
  var entries: [(kind: ServiceKind, port: UInt16)]

  static func == (lhs: ServiceList, rhs: ServiceList) -> Bool {
    lhs.entries.elementsEqual(rhs.entries) { $0.kind == $1.kind && $0.port == $1.port }
  }

  /// Every service on its usual port.
  static let all = ServiceList(entries: ServiceKind.defaults)

  init(entries: [(kind: ServiceKind, port: UInt16)]) { self.entries = entries }

  /// Parses `name[:port],...`; `none` for no services.
  init(parsing text: String) throws(OptionError) {
    entries = []
    if text == "none" { return }
    for item in text.split(separator: ",", omittingEmptySubsequences: false) {
      let parts = item.split(separator: ":", omittingEmptySubsequences: false)
      guard parts.count <= 2, let kind = ServiceKind(rawValue: String(parts[0])) else {
        throw OptionError(
          "--serve",
          "'\(item)' is not a service (http, echo, discard, chargen, optionally with :PORT)")
      }
      var port = kind.defaultPort
      if parts.count == 2 {
        guard let number = UInt16(parts[1]), number > 0 else {
          throw OptionError("--serve", "'\(item)' has no valid port (1-65535)")
        }
        port = number
      }
      if entries.contains(where: { $0.port == port }) {
        throw OptionError("--serve", "port \(port) is given to two services")
      }
      entries.append((kind, port))
    }
  }

  var description: String { ServiceKind.describe(entries) }
}
