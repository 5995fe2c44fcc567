import NetCore

/// One entry of a message's question section (RFC 1035 §4.1.2): a name, a type and a class.
///
/// The forwarder matches an answer to its query by the question (RFC 5452 §9.1) with
/// ``matches(_:)``: same type and class, same name ignoring ASCII case.
public struct DNSQuestion: Hashable, Sendable {
  public var name: DNSName
  public var type: DNSRecordType
  public var recordClass: DNSClass

  public init(name: DNSName, type: DNSRecordType, recordClass: DNSClass = .internet) {
    self.name = name
    self.type = type
    self.recordClass = recordClass
  }

  /// Reads the question at `offset` of `message`; returns it and the offset past it.
  public static func decode(_ message: Span<UInt8>, at offset: Int) throws(DNSMessageError)
    -> (question: DNSQuestion, end: Int)
  {
    let (name, nameEnd) = try DNSName.decode(message, at: offset)
    guard nameEnd + 4 <= message.count else { throw .truncatedQuestion }
    let question = DNSQuestion(
      name: name, type: DNSRecordType(rawValue: message.uint16(at: nameEnd)),
      recordClass: DNSClass(rawValue: message.uint16(at: nameEnd + 2)))
    return (question, nameEnd + 4)
  }

  /// Whether `other` asks the same: equal type and class, the same name (RFC 4343 §3).
  public func matches(_ other: DNSQuestion) -> Bool {
    type == other.type && recordClass == other.recordClass && name.matches(other.name)
  }

  /// Bytes ``emit(into:at:)`` writes: the name uncompressed, type and class.
  public var encodedLength: Int { name.wire.count + 4 }

  /// Writes the question at `offset` of `bytes` (name uncompressed); returns the offset past it.
  public func emit(into bytes: inout MutableSpan<UInt8>, at offset: Int) -> Int {
    var position = offset
    for byte in name.wire {
      bytes[position] = byte
      position += 1
    }
    bytes.setUInt16(type.rawValue, at: position)
    bytes.setUInt16(recordClass.rawValue, at: position + 2)
    return position + 4
  }
}

/// A record type, QTYPE included (RFC 1035 §3.2.2, §3.2.3; RFC 6895 §3.1). An open set.
public struct DNSRecordType: RawRepresentable, Hashable, Sendable {
  public let rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }
  public static let a = DNSRecordType(rawValue: 1)
  public static let ns = DNSRecordType(rawValue: 2)
  public static let cname = DNSRecordType(rawValue: 5)
  public static let soa = DNSRecordType(rawValue: 6)
  public static let ptr = DNSRecordType(rawValue: 12)
  public static let mx = DNSRecordType(rawValue: 15)
  public static let txt = DNSRecordType(rawValue: 16)
  public static let aaaa = DNSRecordType(rawValue: 28)
  /// The EDNS(0) pseudo-record (RFC 6891 §6.1).
  public static let opt = DNSRecordType(rawValue: 41)
  /// Incremental zone transfer (RFC 1995).
  public static let ixfr = DNSRecordType(rawValue: 251)
  /// Zone transfer (RFC 5936).
  public static let axfr = DNSRecordType(rawValue: 252)
  public static let any = DNSRecordType(rawValue: 255)
}

/// A record class (RFC 1035 §3.2.4). An open set.
public struct DNSClass: RawRepresentable, Hashable, Sendable {
  public let rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }
  public static let internet = DNSClass(rawValue: 1)
  public static let chaos = DNSClass(rawValue: 3)
}
