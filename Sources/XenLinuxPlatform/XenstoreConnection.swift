import Glibc
import Netfront

/// A xenstore client on a descriptor that speaks xs_wire (xen/io/xs_wire.h): Linux's
/// `/dev/xen/xenbus`, which passes each message to xenstored, or a socket in tests.
///
/// Each request is one ``XenstoreMessage``, written with one `write(2)`; the reply carries the
/// same `req_id`. Watch events (`XS_WATCH_EVENT`, payload `path\0token\0`) arrive on the same
/// descriptor at any time, also between a request and its reply: they are noted and reported
/// by ``takeWatchEvent(_:)``.
struct XenstoreConnection {
  let fileDescriptor: Int32
  private var nextRequest: UInt32 = 1
  /// Bytes read but not yet parsed into messages.
  private var pending: [UInt8] = []
  /// Tokens whose watch fired and has not been reported yet.
  private var firedTokens: Set<String> = []

  init(fileDescriptor: Int32) {
    self.fileDescriptor = fileDescriptor
  }

  // MARK: Requests

  /// `XS_READ`: the value, or nil for `ENOENT`.
  mutating func read(_ path: String) throws(XenLinuxError) -> String? {
    let reply = try request(
      .read(path, id: takeID()), operation: "read", path: path, allowMissing: true)
    guard let reply else { return nil }
    return String(decoding: reply, as: UTF8.self)
  }

  /// `XS_WRITE`.
  mutating func write(_ path: String, _ value: String) throws(XenLinuxError) {
    _ = try request(.write(path, value, id: takeID()), operation: "write", path: path)
  }

  /// `XS_WATCH`.
  mutating func watch(_ path: String, token: String) throws(XenLinuxError) {
    _ = try request(.watch(path, token: token, id: takeID()), operation: "watch", path: path)
  }

  /// `XS_UNWATCH`.
  mutating func unwatch(_ path: String, token: String) throws(XenLinuxError) {
    _ = try request(
      .watch(path, token: token, id: takeID(), remove: true), operation: "unwatch", path: path)
  }

  /// Whether the watch with `token` fired since it was last asked; reads whatever the
  /// descriptor has without blocking.
  mutating func takeWatchEvent(_ token: String) throws(XenLinuxError) -> Bool {
    while try readAvailable(blocking: false) {}
    while let message = try nextMessage() {
      if let fired = message.watchToken { firedTokens.insert(fired) }
    }
    return firedTokens.remove(token) != nil
  }

  private mutating func takeID() -> UInt32 {
    defer { nextRequest = nextRequest == UInt32.max ? 1 : nextRequest + 1 }
    return nextRequest
  }

  /// Sends a request and waits for its reply, noting watch events meanwhile. Returns the
  /// reply's payload, or nil for `ENOENT` when `allowMissing`.
  private mutating func request(
    _ message: XenstoreMessage, operation: String, path: String, allowMissing: Bool = false
  ) throws(XenLinuxError) -> [UInt8]? {
    guard message.payload.count <= XenstoreMessage.payloadLimit else {
      throw .xenstore(operation: operation, path: path, error: "E2BIG")
    }
    try send(message.encoded)
    while true {
      if let reply = try nextMessage() {
        if let fired = reply.watchToken {
          firedTokens.insert(fired)
          continue
        }
        guard reply.requestID == message.requestID else { continue }  // a stale reply: not ours
        if let error = reply.errorName {
          if allowMissing && reply.isNoSuchKey { return nil }
          throw .xenstore(operation: operation, path: path, error: error)
        }
        return reply.payload
      }
      _ = try readAvailable(blocking: true)
    }
  }

  private func send(_ message: [UInt8]) throws(XenLinuxError) {
    while true {
      let written = message.withUnsafeBytes {
        Glibc.write(fileDescriptor, $0.baseAddress, $0.count)
      }
      if written == message.count { return }
      let code = errno
      if written < 0 && code == EINTR { continue }
      throw .system(operation: "write to the xenbus device", errno: written < 0 ? code : EIO)
    }
  }

  // MARK: Reading

  /// Reads what the descriptor has into ``pending``; waits for something when `blocking`.
  /// Returns whether it read anything.
  private mutating func readAvailable(blocking: Bool) throws(XenLinuxError) -> Bool {
    var descriptor = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
    while true {
      let ready = poll(&descriptor, 1, blocking ? -1 : 0)
      if ready < 0 {
        if errno == EINTR { continue }
        throw .system(operation: "poll on the xenbus device", errno: errno)
      }
      if ready == 0 { return false }
      break
    }
    var buffer = [UInt8](
      repeating: 0, count: XenstoreMessage.headerLength + XenstoreMessage.payloadLimit)
    while true {
      let count = buffer.withUnsafeMutableBytes {
        Glibc.read(fileDescriptor, $0.baseAddress, $0.count)
      }
      if count < 0 {
        if errno == EINTR { continue }
        if errno == EAGAIN { return false }
        throw .system(operation: "read from the xenbus device", errno: errno)
      }
      if count == 0 { throw .malformedMessage("end of file") }
      pending.append(contentsOf: buffer[0..<count])
      return true
    }
  }

  /// The first whole message in ``pending``, removed from it.
  private mutating func nextMessage() throws(XenLinuxError) -> XenstoreMessage? {
    let parsed: (message: XenstoreMessage, length: Int)?
    do {
      parsed = try XenstoreMessage.parse(pending)
    } catch {
      throw .malformedMessage("\(error)")
    }
    guard let parsed else { return nil }
    pending.removeFirst(parsed.length)
    return parsed.message
  }
}
