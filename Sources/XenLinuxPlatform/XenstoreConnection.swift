import Glibc
import Netfront

/// A xenstore client on a descriptor that speaks xs_wire (xen/io/xs_wire.h): Linux's
/// `/dev/xen/xenbus`, which passes each message to xenstored, or a socket in tests.
///
/// Each request is one message, a 16-byte header (`type`, `req_id`, `tx_id`, `len`, native
/// byte order) and `len` bytes of payload, written with one `write(2)`; the reply carries the
/// same `req_id`. Watch events (`XS_WATCH_EVENT`, payload `path\0token\0`) arrive on the same
/// descriptor at any time, also between a request and its reply: they are noted and reported
/// by ``takeWatchEvent(_:)``.
struct XenstoreConnection {
  /// Message types (`enum xsd_sockmsg_type`).
  enum MessageType {
    static let read: UInt32 = 2
    static let watch: UInt32 = 4
    static let unwatch: UInt32 = 5
    static let write: UInt32 = 11
    static let watchEvent: UInt32 = 15
    static let error: UInt32 = 16
  }
  /// `sizeof(struct xsd_sockmsg)`.
  static let headerLength = 16
  /// `XENSTORE_PAYLOAD_MAX`.
  static let payloadLimit = 4096

  let fileDescriptor: Int32
  private var nextRequest: UInt32 = 1
  /// Bytes read but not yet parsed into messages.
  private var pending: [UInt8] = []
  /// Tokens whose watch fired and has not been reported yet.
  private var firedTokens: Set<String> = []

  init(fileDescriptor: Int32) {
    self.fileDescriptor = fileDescriptor
  }

  /// A message as read.
  struct Message {
    var type: UInt32
    var requestID: UInt32
    var payload: [UInt8]
  }

  // MARK: Requests

  /// `XS_READ`: the value, or nil for `ENOENT`.
  mutating func read(_ path: String) throws(XenLinuxError) -> String? {
    let reply = try request(
      MessageType.read, Array(path.utf8) + [0], operation: "read", path: path, allowMissing: true)
    guard let reply else { return nil }
    return String(decoding: reply, as: UTF8.self)
  }

  /// `XS_WRITE`: payload `path\0value` (no terminating NUL on the value).
  mutating func write(_ path: String, _ value: String) throws(XenLinuxError) {
    _ = try request(
      MessageType.write, Array(path.utf8) + [0] + Array(value.utf8), operation: "write", path: path)
  }

  /// `XS_WATCH`: payload `path\0token\0`.
  mutating func watch(_ path: String, token: String) throws(XenLinuxError) {
    _ = try request(
      MessageType.watch, Array(path.utf8) + [0] + Array(token.utf8) + [0], operation: "watch",
      path: path)
  }

  /// `XS_UNWATCH`: payload `path\0token\0`.
  mutating func unwatch(_ path: String, token: String) throws(XenLinuxError) {
    _ = try request(
      MessageType.unwatch, Array(path.utf8) + [0] + Array(token.utf8) + [0], operation: "unwatch",
      path: path)
  }

  /// Whether the watch with `token` fired since it was last asked; reads whatever the
  /// descriptor has without blocking.
  mutating func takeWatchEvent(_ token: String) throws(XenLinuxError) -> Bool {
    while try readAvailable(blocking: false) {}
    try collectWatchEvents()
    return firedTokens.remove(token) != nil
  }

  /// Sends a request and waits for its reply, noting watch events meanwhile. Returns the
  /// reply's payload, or nil for `ENOENT` when `allowMissing`.
  private mutating func request(
    _ type: UInt32, _ payload: [UInt8], operation: String, path: String, allowMissing: Bool = false
  ) throws(XenLinuxError) -> [UInt8]? {
    guard payload.count <= XenstoreConnection.payloadLimit else {
      throw .xenstore(operation: operation, path: path, error: "E2BIG")
    }
    let id = nextRequest
    nextRequest = nextRequest == UInt32.max ? 1 : nextRequest + 1
    var message: [UInt8] = []
    message.reserveCapacity(XenstoreConnection.headerLength + payload.count)
    for field in [type, id, 0, UInt32(payload.count)] {
      withUnsafeBytes(of: field) { message.append(contentsOf: $0) }
    }
    message.append(contentsOf: payload)
    try send(message)
    while true {
      if let reply = try nextMessage() {
        if reply.type == MessageType.watchEvent {
          noteWatchEvent(reply.payload)
          continue
        }
        guard reply.requestID == id else { continue }  // a stale reply: not ours
        if reply.type == MessageType.error {
          let error = String(decoding: reply.payload.prefix { $0 != 0 }, as: UTF8.self)
          if allowMissing && error == "ENOENT" { return nil }
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
      repeating: 0, count: XenstoreConnection.headerLength + XenstoreConnection.payloadLimit)
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
  private mutating func nextMessage() throws(XenLinuxError) -> Message? {
    guard pending.count >= XenstoreConnection.headerLength else { return nil }
    func field(_ index: Int) -> UInt32 {
      var value: UInt32 = 0
      withUnsafeMutableBytes(of: &value) { bytes in
        for offset in 0..<4 { bytes[offset] = pending[index * 4 + offset] }
      }
      return value
    }
    let length = Int(field(3))
    guard length <= XenstoreConnection.payloadLimit else {
      throw .malformedMessage("payload of \(length) bytes")
    }
    guard pending.count >= XenstoreConnection.headerLength + length else { return nil }
    let message = Message(
      type: field(0), requestID: field(1),
      payload: Array(
        pending[XenstoreConnection.headerLength..<(XenstoreConnection.headerLength + length)]))
    pending.removeFirst(XenstoreConnection.headerLength + length)
    return message
  }

  /// Takes the watch events among the messages read so far (replies cannot be waiting: a
  /// request reads until its own).
  private mutating func collectWatchEvents() throws(XenLinuxError) {
    while let message = try nextMessage() {
      if message.type == MessageType.watchEvent { noteWatchEvent(message.payload) }
    }
  }

  /// Payload `path\0token\0`.
  private mutating func noteWatchEvent(_ payload: [UInt8]) {
    let parts = payload.split(separator: 0, omittingEmptySubsequences: false)
    guard parts.count >= 2 else { return }
    firedTokens.insert(String(decoding: parts[1], as: UTF8.self))
  }
}
