import NetCore

/// An MLDv2 report (RFC 3810 §5.2): the groups this node listens to, one record each. The
/// stack reports only any-source listening (no sources), so a record is its type and group.
public struct MLDv2ReportMessage: Equatable, Sendable {
  /// One multicast address record (RFC 3810 §5.2.4).
  public struct Record: Equatable, Sendable {
    public var type: RecordType
    public var multicastAddress: IPv6Address
    /// Source addresses (none for what the stack sends).
    public var sources: [IPv6Address]

    public init(type: RecordType, multicastAddress: IPv6Address, sources: [IPv6Address] = []) {
      self.type = type
      self.multicastAddress = multicastAddress
      self.sources = sources
    }
  }

  /// The record types of RFC 3810 §5.2.12.
  public enum RecordType: UInt8, Equatable, Sendable {
    case modeIsInclude = 1
    /// "Listening to all sources": the current state, in answer to a query.
    case modeIsExclude = 2
    /// A group left (to include no source).
    case changeToIncludeMode = 3
    /// A group joined (to exclude no source).
    case changeToExcludeMode = 4
    case allowNewSources = 5
    case blockOldSources = 6
  }

  public var records: [Record]

  public init(records: [Record]) { self.records = records }

  /// Parses a report (type 143): the record count, then each record with its sources and
  /// auxiliary data inside the message.
  public init(parsing message: borrowing ICMPv6Packet) throws(MLDValidationError) {
    guard message.code == 0 else { throw .code }
    let count = Int(UInt16(truncatingIfNeeded: message.restOfHeader))
    let body = message.body
    var offset = 0
    records = []
    for _ in 0..<count {
      guard offset + 20 <= body.count else { throw .length }
      let sourceCount = Int(body.uint16(at: offset + 2))
      let end = offset + 20 + 16 * sourceCount + 4 * Int(body[offset + 1])
      guard end <= body.count else { throw .length }
      guard let type = RecordType(rawValue: body[offset]) else {
        offset = end  // RFC 3810 §5.2.12: unknown record types are ignored
        continue
      }
      let sources = (0..<sourceCount).map { IPv6Address(body, at: offset + 20 + 16 * $0) }
      records.append(
        Record(type: type, multicastAddress: IPv6Address(body, at: offset + 4), sources: sources))
      offset = end
    }
  }

  public var icmpHeader: ICMPv6Header {
    ICMPv6Header(
      type: .multicastListenerReportV2, code: 0, restOfHeader: UInt32(records.count))
  }

  /// The message after its 8-byte header: the records.
  public var body: [UInt8] {
    var bytes: [UInt8] = []
    for record in records {
      bytes += [
        record.type.rawValue, 0, UInt8(record.sources.count >> 8),
        UInt8(truncatingIfNeeded: record.sources.count),
      ]
      bytes += record.multicastAddress.octets
      for source in record.sources { bytes += source.octets }
    }
    return bytes
  }
}
