/// A domain name (RFC 1035 §3.1) in its uncompressed wire form: length-prefixed labels ending
/// with the empty root label, at most 255 bytes, each label at most 63.
///
/// Names in messages are decoded by ``decode(_:at:)``, which follows compression pointers
/// (RFC 1035 §4.1.4) under three bounds, so that no message can make it loop or read far:
/// every pointer must point strictly before every byte of the name read so far (and after the
/// header), at most ``maximumPointers`` pointers are followed, and the name may not grow past
/// ``maximumLength`` bytes. `==` compares bytes; ``matches(_:)`` compares as DNS does, ignoring
/// the case of ASCII letters (RFC 4343 §3).
public struct DNSName: Hashable, Sendable {
  /// The labels, each preceded by its length, and the zero byte of the root.
  public let wire: [UInt8]

  /// The longest name in wire form, root byte included (RFC 1035 §2.3.4).
  public static let maximumLength = 255
  /// The longest label (RFC 1035 §2.3.4).
  public static let maximumLabelLength = 63
  /// The most compression pointers followed in one name. A compressor needs at most one per
  /// label of the name; real servers use one or two.
  public static let maximumPointers = 32

  /// The root name, `.`.
  public static let root = DNSName(checkedWire: [0])

  init(checkedWire: [UInt8]) { wire = checkedWire }

  /// A name from its labels (without length bytes).
  public init(labels: [[UInt8]]) throws(DNSMessageError) {
    var wire: [UInt8] = []
    for label in labels {
      guard !label.isEmpty else { throw .emptyLabel }
      guard label.count <= DNSName.maximumLabelLength else { throw .labelTooLong }
      wire.append(UInt8(label.count))
      wire.append(contentsOf: label)
    }
    wire.append(0)
    guard wire.count <= DNSName.maximumLength else { throw .nameTooLong }
    self.wire = wire
  }

  /// A name from dotted text, `www.example.com` or `www.example.com.`; `.` is the root. No
  /// escapes: every byte between dots is part of a label.
  public init(parsing text: String) throws(DNSMessageError) {
    var bytes = Array(text.utf8)
    if bytes == [UInt8(ascii: ".")] {
      self = .root
      return
    }
    if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
    var labels: [[UInt8]] = [[]]
    for byte in bytes {
      if byte == UInt8(ascii: ".") {
        labels.append([])
      } else {
        labels[labels.count - 1].append(byte)
      }
    }
    try self.init(labels: labels)
  }

  /// The labels, without their length bytes.
  public var labels: [[UInt8]] {
    var result: [[UInt8]] = []
    var offset = 0
    while offset < wire.count, wire[offset] != 0 {
      let length = Int(wire[offset])
      result.append(Array(wire[(offset + 1)..<(offset + 1 + length)]))
      offset += 1 + length
    }
    return result
  }

  /// Whether two names are the same name: equal bytes, ignoring ASCII case (RFC 4343 §3). The
  /// length bytes are compared too, and they are never letters.
  public func matches(_ other: DNSName) -> Bool {
    guard wire.count == other.wire.count else { return false }
    for index in 0..<wire.count
    where DNSName.lowercased(wire[index]) != DNSName.lowercased(other.wire[index]) {
      return false
    }
    return true
  }

  private static func lowercased(_ byte: UInt8) -> UInt8 {
    byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
  }

  /// Decodes the name at `offset` of `message`, following compression pointers within the
  /// bounds above; returns it and the offset just past it where it sits (past its first
  /// pointer, or past its root label).
  public static func decode(_ message: Span<UInt8>, at offset: Int) throws(DNSMessageError)
    -> (name: DNSName, end: Int)
  {
    var wire: [UInt8] = []
    var position = offset
    // The lowest offset read from so far: a pointer must go below it.
    var lowest = offset
    var end: Int? = nil
    var pointers = 0
    while true {
      guard position < message.count else { throw .truncatedName }
      let length = Int(message[position])
      switch length >> 6 {
      case 0:
        if length == 0 {
          wire.append(0)
          return (DNSName(checkedWire: wire), end ?? position + 1)
        }
        guard position + 1 + length <= message.count else { throw .truncatedName }
        // Room for this label and the root byte after it.
        guard wire.count + 1 + length + 1 <= maximumLength else { throw .nameTooLong }
        wire.append(UInt8(length))
        for index in (position + 1)..<(position + 1 + length) { wire.append(message[index]) }
        position += 1 + length
      case 3:
        guard position + 1 < message.count else { throw .truncatedName }
        let target = (length & 0x3F) << 8 | Int(message[position + 1])
        if end == nil { end = position + 2 }
        pointers += 1
        guard pointers <= maximumPointers else { throw .tooManyPointers }
        guard target < lowest, target >= DNSHeader.length else { throw .pointerNotBackwards }
        lowest = target
        position = target
      default:
        throw .unsupportedLabelType
      }
    }
  }
}

extension DNSName: CustomStringConvertible {
  /// Dotted text with a final dot (`www.example.com.`, `.` for the root); a dot, a backslash
  /// or a byte outside printable ASCII inside a label is written `\DDD` (RFC 1035 §5.1).
  public var description: String {
    if wire == [0] { return "." }
    var text: [UInt8] = []
    for label in labels {
      for byte in label {
        if byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: ".") && byte != UInt8(ascii: "\\") {
          text.append(byte)
        } else {
          text.append(UInt8(ascii: "\\"))
          text.append(UInt8(ascii: "0") + byte / 100)
          text.append(UInt8(ascii: "0") + byte / 10 % 10)
          text.append(UInt8(ascii: "0") + byte % 10)
        }
      }
      text.append(UInt8(ascii: "."))
    }
    return String(decoding: text, as: UTF8.self)
  }
}
