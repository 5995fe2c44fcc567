import CLinuxShims
import Glibc
import LinuxRuntime

/// The daemon's control socket (`--control PATH`): a Unix stream socket, mode 0600, that
/// answers one request per connection. A request is one line, `status` or `status json`; the
/// answer is the status report, then the server closes the connection.
///
/// Runs on the event loop like everything else: the listening socket and each client are
/// non-blocking descriptors registered with the loop, so a slow client never stalls the stack.
final class ControlServer {
  let path: String
  private let loop: EventLoop
  private let listener: Int32
  private let report: (_ json: Bool) -> String

  /// One client: the request read so far, then the answer still to write.
  private struct Client {
    var request: [UInt8] = []
    var answer: [UInt8] = []
    var answering = false
  }
  private var clients: [Int32: Client] = [:]
  /// Requests longer than this are answered with an error.
  static let maximumRequest = 256

  init(path: String, loop: EventLoop, report: @escaping (_ json: Bool) -> String)
    throws(OptionError)
  {
    guard path.utf8.count < 108 else {
      throw OptionError("--control", "'\(path)' is too long for a socket path")
    }
    // A socket file left by a daemon that is gone is replaced; a live one is not.
    if ControlServer.connect(path) >= 0 {
      throw OptionError("--control", "'\(path)' is in use by a running daemon")
    }
    unlink(path)
    let descriptor = socket(
      AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue),
      0)
    guard descriptor >= 0 else {
      throw OptionError("--control", "socket: \(String(cString: strerror(errno)))")
    }
    var address = ControlServer.address(path)
    let previous = umask(0o177)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    umask(previous)
    guard bound == 0, listen(descriptor, 16) == 0, chmod(path, 0o600) == 0 else {
      let code = errno
      close(descriptor)
      throw OptionError(
        "--control", "cannot listen on '\(path)': \(String(cString: strerror(code)))")
    }
    self.path = path
    self.loop = loop
    listener = descriptor
    self.report = report
    do {
      try loop.register(descriptor, events: UInt32(EPOLLIN.rawValue)) { [unowned self] _ in
        acceptClients()
      }
    } catch {
      close(descriptor)
      unlink(path)
      throw OptionError("--control", "\(error)")
    }
  }

  /// Closes everything and removes the socket file.
  func shutdown() {
    for descriptor in clients.keys { drop(descriptor) }
    loop.unregister(listener)
    close(listener)
    unlink(path)
  }

  private func acceptClients() {
    while true {
      let client = netstack_accept(listener)
      guard client >= 0 else { return }
      clients[client] = Client()
      try? loop.register(client, events: UInt32(EPOLLIN.rawValue)) { [unowned self] _ in
        serve(client)
      }
    }
  }

  /// Reads the request line; once it is whole, writes the answer (resuming when the socket
  /// takes more), then closes.
  private func serve(_ descriptor: Int32) {
    guard var client = clients[descriptor] else { return }
    if !client.answering {
      var buffer = [UInt8](repeating: 0, count: 512)
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count <= 0 {
        if count == 0 || (errno != EAGAIN && errno != EINTR) { drop(descriptor) }
        return
      }
      client.request.append(contentsOf: buffer[0..<count])
      guard let newline = client.request.firstIndex(of: 10) else {
        if client.request.count > ControlServer.maximumRequest {
          drop(descriptor)
        } else {
          clients[descriptor] = client
        }
        return
      }
      let line = String(decoding: client.request[..<newline], as: UTF8.self).trimmingCharacters()
      switch line {
      case "status", "status text": client.answer = Array(report(false).utf8)
      case "status json": client.answer = Array(report(true).utf8)
      default:
        client.answer = Array(
          "error: unknown request '\(line)' (expected 'status' or 'status json')\n".utf8)
      }
      client.answering = true
      try? loop.modify(descriptor, events: UInt32(EPOLLOUT.rawValue))
    }
    let written = client.answer.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    if written < 0 {
      if errno != EAGAIN && errno != EINTR {
        drop(descriptor)
      } else {
        clients[descriptor] = client
      }
      return
    }
    client.answer.removeFirst(written)
    if client.answer.isEmpty {
      drop(descriptor)
    } else {
      clients[descriptor] = client
    }
  }

  private func drop(_ descriptor: Int32) {
    loop.unregister(descriptor)
    close(descriptor)
    clients[descriptor] = nil
  }

  static func address(_ path: String) -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      let bytes = Array(path.utf8)
      for index in 0..<min(bytes.count, raw.count - 1) { raw[index] = bytes[index] }
      raw[min(bytes.count, raw.count - 1)] = 0
    }
    return address
  }

  /// A blocking connection to the control socket at `path`, or -errno.
  static func connect(_ path: String) -> Int32 {
    let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { return -errno }
    var address = address(path)
    let result = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    if result != 0 {
      let code = errno
      close(descriptor)
      return -code
    }
    return descriptor
  }
}

extension String {
  /// Without leading and trailing spaces, tabs and carriage returns.
  func trimmingCharacters() -> String {
    var scalars = Substring(self)
    while let first = scalars.first, first == " " || first == "\t" || first == "\r" {
      scalars.removeFirst()
    }
    while let last = scalars.last, last == " " || last == "\t" || last == "\r" {
      scalars.removeLast()
    }
    return String(scalars)
  }
}
