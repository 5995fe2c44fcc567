import Glibc

/// A test's blocking TCP client on the loopback interface, with 10 s timeouts on every call so
/// that a test fails instead of hanging; closed when released.
final class LoopbackClient {
  /// The socket; -1 once ``reset()`` has closed it.
  private(set) var descriptor: Int32

  /// Connects to 127.0.0.1:`port`.
  init(port: UInt16) throws(LoopbackError) {
    descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { throw LoopbackError(operation: "socket", code: errno) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = LoopbackClient.address(port: port)
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else {
      let code = errno
      close(descriptor)
      descriptor = -1
      throw LoopbackError(operation: "connect", code: code)
    }
  }

  deinit { if descriptor >= 0 { close(descriptor) } }

  static func address(port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return address
  }

  /// A port on 127.0.0.1 that nothing listens on now: one the kernel picked for a socket
  /// bound to port 0, then closed.
  static func freePort() throws(LoopbackError) -> UInt16 {
    let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard probe >= 0 else { throw LoopbackError(operation: "socket", code: errno) }
    defer { close(probe) }
    var address = LoopbackClient.address(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(probe, $0, length) == 0 ? getsockname(probe, $0, &length) : -1
      }
    }
    guard bound == 0 else { throw LoopbackError(operation: "bind", code: errno) }
    return UInt16(bigEndian: address.sin_port)
  }

  /// Sends all of `bytes`.
  func send(_ bytes: [UInt8]) throws(LoopbackError) {
    var offset = 0
    while offset < bytes.count {
      let count = bytes[offset...].withUnsafeBytes {
        Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
      }
      guard count > 0 else { throw LoopbackError(operation: "send", code: errno) }
      offset += count
    }
  }

  func send(_ text: String) throws(LoopbackError) { try send(Array(text.utf8)) }

  /// Reads exactly `count` bytes (fewer if the stream ends first).
  func receive(exactly count: Int) throws(LoopbackError) -> [UInt8] {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while bytes.count < count {
      let received = recv(descriptor, &buffer, min(buffer.count, count - bytes.count), 0)
      if received == 0 { break }
      guard received > 0 else { throw LoopbackError(operation: "recv", code: errno) }
      bytes += buffer[0..<received]
    }
    return bytes
  }

  /// Reads until the server ends the stream.
  func receiveToEnd() throws(LoopbackError) -> [UInt8] {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let received = recv(descriptor, &buffer, buffer.count, 0)
      if received == 0 { return bytes }
      guard received > 0 else { throw LoopbackError(operation: "recv", code: errno) }
      bytes += buffer[0..<received]
    }
  }

  /// Sends FIN: the server sees the end of the client's stream.
  func shutdownWrite() { shutdown(descriptor, Int32(SHUT_WR)) }

  /// Closes with a reset: `close` with SO_LINGER set to a zero timeout sends RST.
  func reset() {
    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
    setsockopt(
      descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    close(descriptor)
    descriptor = -1
  }
}

/// A failed system call in a test's client, with its errno.
struct LoopbackError: Error, CustomStringConvertible {
  let operation: String
  let code: Int32

  var description: String { "\(operation) failed: \(String(cString: strerror(code)))" }
}
