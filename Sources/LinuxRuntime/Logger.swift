import Glibc

/// How much the daemon says on standard error.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
  case error = 0
  case warning = 1
  case info = 2
  case debug = 3
  case trace = 4

  /// Parses `error`, `warn`/`warning`, `info`, `debug`, `trace`.
  public init?(name: String) {
    switch name {
    case "error": self = .error
    case "warn", "warning": self = .warning
    case "info": self = .info
    case "debug": self = .debug
    case "trace": self = .trace
    default: return nil
    }
  }

  public var name: String {
    switch self {
    case .error: "error"
    case .warning: "warning"
    case .info: "info"
    case .debug: "debug"
    case .trace: "trace"
    }
  }

  public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Writes log lines (`netstackd[level]: message`) to standard error at or above a level.
public struct Logger: Sendable {
  public var level: LogLevel

  public init(level: LogLevel) { self.level = level }

  /// Whether messages at `messageLevel` are written (check before building costly messages).
  public func enabled(_ messageLevel: LogLevel) -> Bool { messageLevel <= level }

  public func log(_ messageLevel: LogLevel, _ message: @autoclosure () -> String) {
    guard enabled(messageLevel) else { return }
    writeStandardError("netstackd[\(messageLevel.name)]: \(message())\n")
  }

  public func error(_ message: @autoclosure () -> String) { log(.error, message()) }
  public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
  public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
  public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }
  public func trace(_ message: @autoclosure () -> String) { log(.trace, message()) }
}

/// Writes `text` to standard error (file descriptor 2) unbuffered.
public func writeStandardError(_ text: String) {
  var text = text
  text.withUTF8 { bytes in
    var offset = 0
    while offset < bytes.count {
      let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
      if written <= 0 { return }
      offset += written
    }
  }
}
