import DNS
import Glibc
import NetCore

/// Reads a `resolv.conf` file again when it changes: at most once per ``checkInterval`` it
/// `stat`s the path (following links, as `/etc/resolv.conf` often is one) and reads the file
/// when its identity changed: device, inode, size, modification or change time. A file
/// replaced by a rename (how resolvconf, NetworkManager and systemd-resolved write it) has a
/// new inode; one rewritten in place a new modification time.
///
/// The file is opened non-blocking and must be a regular file (a FIFO at the path cannot stall
/// the loop); at most ``maximumFileSize`` bytes are read. A missing, unreadable, non-regular or
/// empty file means no name servers.
public struct ResolvConfWatcher {
  public let path: String
  /// How often the path is looked at, at most.
  public static let checkInterval = Interval.seconds(1)
  /// The most bytes read of the file (glibc reads all of it; 64 KiB is far more than any
  /// real one).
  public static let maximumFileSize = 65536

  private var lastCheck: Instant? = nil
  private var identity: FileIdentity? = nil

  /// What the file's stat said; `missing` with the errno of a failed stat.
  private enum FileIdentity: Equatable {
    case present(device: UInt64, inode: UInt64, size: Int64, modified: Int64, changed: Int64)
    case missing(Int32)
  }

  public init(path: String) { self.path = path }

  /// The file's contents if this is the first look or it changed since the last; nil when it
  /// was looked at less than ``checkInterval`` ago or has not changed.
  public mutating func check(now: Instant) -> ResolvConfReading? {
    if let lastCheck, now - lastCheck < ResolvConfWatcher.checkInterval { return nil }
    lastCheck = now
    let current = ResolvConfWatcher.identity(of: path)
    guard current != identity else { return nil }
    identity = current
    if case .missing(let code) = current { return .unreadable(String(cString: strerror(code))) }
    return ResolvConfWatcher.read(path)
  }

  private static func identity(of path: String) -> FileIdentity {
    var info = stat()
    guard stat(path, &info) == 0 else { return .missing(errno) }
    return .present(
      device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
      modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
      changed: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec))
  }

  private static func read(_ path: String) -> ResolvConfReading {
    let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
    guard descriptor >= 0 else { return .unreadable(String(cString: strerror(errno))) }
    defer { close(descriptor) }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else {
      return .unreadable(String(cString: strerror(errno)))
    }
    guard info.st_mode & S_IFMT == S_IFREG else { return .unreadable("not a regular file") }
    var contents = [UInt8](repeating: 0, count: maximumFileSize)
    var filled = 0
    while filled < maximumFileSize {
      let count = contents.withUnsafeMutableBytes {
        Glibc.read(descriptor, $0.baseAddress! + filled, maximumFileSize - filled)
      }
      if count < 0 && errno == EINTR { continue }
      guard count >= 0 else { return .unreadable(String(cString: strerror(errno))) }
      if count == 0 { break }
      filled += count
    }
    contents.removeSubrange(filled...)
    return .read(ResolvConf(parsing: contents), cut: filled == maximumFileSize)
  }
}

/// What a look at a `resolv.conf` file found.
public enum ResolvConfReading: Equatable {
  /// Its contents; `cut` when only its first ``ResolvConfWatcher/maximumFileSize`` bytes were
  /// read.
  case read(ResolvConf, cut: Bool)
  /// It could not be read, and why.
  case unreadable(String)
}
