import Glibc

/// A fresh private directory under /tmp, removed with what is in it when released.
final class TemporaryDirectory {
  let path: String

  init() throws(TestSocketError) {
    var template = Array("/tmp/netstack-unixsocket-test.XXXXXX".utf8CString)
    guard mkdtemp(&template) != nil else {
      throw TestSocketError(operation: "mkdtemp", code: errno)
    }
    path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
  }

  deinit {
    if let directory = opendir(path) {
      while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) {
          String(cString: $0.bindMemory(to: CChar.self).baseAddress!)
        }
        if name != "." && name != ".." { unlink(path + "/" + name) }
      }
      closedir(directory)
    }
    rmdir(path)
  }
}

/// A failed system call in a test's own socket code.
struct TestSocketError: Error {
  let operation: String
  let code: Int32
}

/// The test's end of a Unix stream socket: blocking, closed when released.
final class TestPeer {
  let descriptor: Int32

  init(descriptor: Int32) { self.descriptor = descriptor }

  /// Connects to the listener at `path`.
  convenience init(connectingTo path: String) throws(TestSocketError) {
    let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw TestSocketError(operation: "socket", code: errno) }
    var address = unixAddress(path)
    let result = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard result == 0 else {
      let code = errno
      close(descriptor)
      throw TestSocketError(operation: "connect", code: code)
    }
    self.init(descriptor: descriptor)
  }

  deinit { close(descriptor) }

  func send(_ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
      let count = bytes.withUnsafeBytes {
        Glibc.send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
      }
      guard count > 0 else { return }
      offset += count
    }
  }

  /// Reads exactly `count` bytes, or fewer if the connection ends first.
  func read(count: Int) -> [UInt8] {
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while result.count < count {
      let wanted = min(buffer.count, count - result.count)
      let got = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, wanted) }
      guard got > 0 else { break }
      result += buffer[0..<got]
    }
    return result
  }

  /// Reads until the other side closes.
  func readUntilClosed() -> [UInt8] { read(count: Int.max) }

  func setNonBlocking() {
    _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
  }
}

/// A listening Unix stream socket, for the device in connect mode.
final class TestListener {
  let descriptor: Int32

  init(path: String) throws(TestSocketError) {
    let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw TestSocketError(operation: "socket", code: errno) }
    var address = unixAddress(path)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard bound == 0, listen(descriptor, 4) == 0 else {
      let code = errno
      close(descriptor)
      throw TestSocketError(operation: "bind/listen", code: code)
    }
    self.descriptor = descriptor
  }

  deinit { close(descriptor) }

  func accept() throws(TestSocketError) -> TestPeer {
    let connection = Glibc.accept(descriptor, nil, nil)
    guard connection >= 0 else { throw TestSocketError(operation: "accept", code: errno) }
    return TestPeer(descriptor: connection)
  }
}

/// The `sockaddr_un` of `path`.
func unixAddress(_ path: String) -> sockaddr_un {
  var address = sockaddr_un()
  address.sun_family = sa_family_t(AF_UNIX)
  withUnsafeMutableBytes(of: &address.sun_path) { raw in
    let bytes = Array(path.utf8)
    for index in 0..<bytes.count { raw[index] = bytes[index] }
    raw[bytes.count] = 0
  }
  return address
}
