import Glibc

/// How much the daemon says on standard error.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
  /// Failures: the device failed, a service stopped.
  case error = 0
  /// Something went wrong and the loop goes on (a transmit to the device failed).
  case warning = 1
  /// The default: nothing per frame or per connection.
  case info = 2
  /// Connections opening and closing, listeners with connections waiting.
  case debug = 3
  /// Every frame in and out, described in one line.
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

  /// The level's name as `--log-level` takes it.
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
  /// The least important level written.
  public var level: LogLevel

  /// A logger that writes messages at `level` and above.
  public init(level: LogLevel) { self.level = level }

  /// Whether messages at `messageLevel` are written (check before building costly messages).
  public func enabled(_ messageLevel: LogLevel) -> Bool { messageLevel <= level }

  /// Writes `message` if `messageLevel` is enabled (the message is built only then).
  public func log(_ messageLevel: LogLevel, _ message: @autoclosure () -> String) {
    guard enabled(messageLevel) else { return }
    writeStandardError("netstackd[\(messageLevel.name)]: \(message())\n")
  }

  /// Logs at ``LogLevel/error``.
  public func error(_ message: @autoclosure () -> String) { log(.error, message()) }
  /// Logs at ``LogLevel/warning``.
  public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
  /// Logs at ``LogLevel/info``.
  public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
  /// Logs at ``LogLevel/debug``.
  public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }
  /// Logs at ``LogLevel/trace``.
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
