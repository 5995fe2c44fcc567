import NetCore

/// One resource record of a message (RFC 1035 §4.1.3): owner name, type, class, TTL, and
/// where its data lies in the message.
///
/// The data is not interpreted (names inside it may be compressed; the forwarder passes it
/// on as it is); ``DNSMessage/data(of:)`` gives its bytes.
public struct DNSResourceRecord: Hashable, Sendable {
  public var section: DNSSection
  public var name: DNSName
  public var type: DNSRecordType
  /// The class; for OPT, the requestor's UDP payload size (RFC 6891 §6.1.2).
  public var recordClass: DNSClass
  /// The TTL; for OPT, the extended RCODE, version and flags (RFC 6891 §6.1.3).
  public var ttl: UInt32
  /// Where the data lies in the message.
  public var dataRange: Range<Int>

  /// Reads the record at `offset` of `message`; returns it and the offset past it.
  public static func decode(_ message: Span<UInt8>, at offset: Int, section: DNSSection)
    throws(DNSMessageError) -> (record: DNSResourceRecord, end: Int)
  {
    let (name, nameEnd) = try DNSName.decode(message, at: offset)
    guard nameEnd + 10 <= message.count else { throw .truncatedRecord }
    let length = Int(message.uint16(at: nameEnd + 8))
    let dataStart = nameEnd + 10
    guard dataStart + length <= message.count else { throw .truncatedRecord }
    let record = DNSResourceRecord(
      section: section, name: name, type: DNSRecordType(rawValue: message.uint16(at: nameEnd)),
      recordClass: DNSClass(rawValue: message.uint16(at: nameEnd + 2)),
      ttl: message.uint32(at: nameEnd + 4), dataRange: dataStart..<(dataStart + length))
    return (record, dataStart + length)
  }
}

/// The sections of a message that hold records (RFC 1035 §4.1).
public enum DNSSection: Hashable, Sendable {
  case answer
  case authority
  case additional
}
