/// A xenstore wire message (`struct xsd_sockmsg` and its payload, xen/io/xs_wire.h), as both
/// transports carry it: Linux's `/dev/xen/xenbus` and the shared ring page
/// (`struct xenstore_domain_interface`) of a bare-metal guest.
///
/// The header is four 32-bit fields in the guest's byte order (little-endian on every
/// architecture Xen runs guests on): `type`, `req_id`, `tx_id`, `len`; the payload follows,
/// at most `XENSTORE_PAYLOAD_MAX` bytes. Requests put NUL after each path (and token);
/// `XS_WRITE`'s value is not terminated; `XS_ERROR` replies carry an errno name such as
/// `ENOENT`; watch events (`XS_WATCH_EVENT`) carry `path\0token\0`.
public struct XenstoreMessage: Equatable, Sendable {
  /// `sizeof(struct xsd_sockmsg)`.
  public static let headerLength = 16
  /// `XENSTORE_PAYLOAD_MAX`.
  public static let payloadLimit = 4096

  public var type: XenstoreMessageType
  public var requestID: UInt32
  public var transactionID: UInt32
  public var payload: [UInt8]

  public init(
    type: XenstoreMessageType, requestID: UInt32, transactionID: UInt32 = 0, payload: [UInt8]
  ) {
    self.type = type
    self.requestID = requestID
    self.transactionID = transactionID
    self.payload = payload
  }

  /// The header and payload as sent.
  public var encoded: [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(XenstoreMessage.headerLength + payload.count)
    for field in [type.rawValue, requestID, transactionID, UInt32(payload.count)] {
      for shift in stride(from: 0, to: 32, by: 8) {
        bytes.append(UInt8(truncatingIfNeeded: field >> UInt32(shift)))
      }
    }
    bytes.append(contentsOf: payload)
    return bytes
  }

  /// The first whole message at the start of `bytes` and the bytes it takes; nil when the
  /// message is not all there yet. A payload longer than `XENSTORE_PAYLOAD_MAX` is an error.
  public static func parse(_ bytes: [UInt8]) throws(XenstoreWireError) -> (
    message: XenstoreMessage, length: Int
  )? {
    guard bytes.count >= headerLength else { return nil }
    func field(_ index: Int) -> UInt32 {
      var value: UInt32 = 0
      for offset in 0..<4 { value |= UInt32(bytes[index * 4 + offset]) << UInt32(8 * offset) }
      return value
    }
    let length = Int(field(3))
    guard length <= payloadLimit else { throw .payloadTooLong(length) }
    guard bytes.count >= headerLength + length else { return nil }
    let message = XenstoreMessage(
      type: XenstoreMessageType(rawValue: field(0)), requestID: field(1), transactionID: field(2),
      payload: Array(bytes[headerLength..<(headerLength + length)]))
    return (message, headerLength + length)
  }

  // MARK: Requests

  /// `XS_READ`: payload `path\0`.
  public static func read(_ path: String, id: UInt32) -> XenstoreMessage {
    XenstoreMessage(type: .read, requestID: id, payload: Array(path.utf8) + [0])
  }

  /// `XS_WRITE`: payload `path\0value`.
  public static func write(_ path: String, _ value: String, id: UInt32) -> XenstoreMessage {
    XenstoreMessage(
      type: .write, requestID: id, payload: Array(path.utf8) + [0] + Array(value.utf8))
  }

  /// `XS_WATCH` (or `XS_UNWATCH`): payload `path\0token\0`.
  public static func watch(_ path: String, token: String, id: UInt32, remove: Bool = false)
    -> XenstoreMessage
  {
    XenstoreMessage(
      type: remove ? .unwatch : .watch, requestID: id,
      payload: Array(path.utf8) + [0] + Array(token.utf8) + [0])
  }

  // MARK: Replies

  /// For `XS_ERROR`: the errno name (`ENOENT`, `EACCES`, ...).
  public var errorName: String? {
    guard type == .error else { return nil }
    return String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self)
  }

  /// Whether this is the `XS_ERROR` reply `ENOENT` (no such key).
  public var isNoSuchKey: Bool {
    guard type == .error else { return false }
    let name = payload.prefix { $0 != 0 }
    return name.elementsEqual("ENOENT".utf8)
  }

  /// For `XS_WATCH_EVENT`: the token (the second NUL-terminated field).
  public var watchToken: String? {
    guard type == .watchEvent else { return nil }
    let parts = payload.split(separator: 0, omittingEmptySubsequences: false)
    guard parts.count >= 2 else { return nil }
    return String(decoding: parts[1], as: UTF8.self)
  }
}

/// `enum xsd_sockmsg_type`; an open set.
public struct XenstoreMessageType: RawRepresentable, Hashable, Sendable {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  /// `XS_READ`.
  public static let read = XenstoreMessageType(rawValue: 2)
  /// `XS_WATCH`.
  public static let watch = XenstoreMessageType(rawValue: 4)
  /// `XS_UNWATCH`.
  public static let unwatch = XenstoreMessageType(rawValue: 5)
  /// `XS_WRITE`.
  public static let write = XenstoreMessageType(rawValue: 11)
  /// `XS_WATCH_EVENT`.
  public static let watchEvent = XenstoreMessageType(rawValue: 15)
  /// `XS_ERROR`.
  public static let error = XenstoreMessageType(rawValue: 16)
}

/// A malformed xenstore message.
public enum XenstoreWireError: Error, Equatable, Sendable {
  /// `len` is larger than `XENSTORE_PAYLOAD_MAX`.
  case payloadTooLong(Int)
}
