/// Why bytes could not be read as a DNS message (RFC 1035 §4.1), or a stream as DNS messages
/// (RFC 1035 §4.2.2).
///
/// ``DNSMessage/init(checking:)`` throws one of these for every malformed input instead of
/// trapping; the forwarder counts the drop (or answers FORMERR) and goes on.
public enum DNSMessageError: Error, Equatable, Sendable {
  /// Fewer than the 12 bytes of the header.
  case truncatedHeader
  /// The header's counts promise more questions and records than the bytes can hold (a
  /// question takes at least 5 bytes, a record at least 11).
  case countsExceedMessage
  /// A name runs past the end of the message.
  case truncatedName
  /// A question's type and class run past the end of the message.
  case truncatedQuestion
  /// A record's fixed fields or its data run past the end of the message.
  case truncatedRecord
  /// A label longer than 63 bytes (RFC 1035 §2.3.4); cannot happen with the two top bits
  /// clear, kept for names built from text.
  case labelTooLong
  /// A name longer than 255 bytes in its uncompressed wire form (RFC 1035 §2.3.4).
  case nameTooLong
  /// A label length byte with the top bits 01 or 10 (extended label types, RFC 6891 §5).
  case unsupportedLabelType
  /// A compression pointer (RFC 1035 §4.1.4) that does not point strictly before every byte
  /// of the name read so far (forwards, at itself, into a loop), or points into the header.
  case pointerNotBackwards
  /// More compression pointers in one name than ``DNSName/maximumPointers``.
  case tooManyPointers
  /// An OPT pseudo-record (RFC 6891 §6.1.1) outside the additional section, with a name other
  /// than the root, or more than one of them.
  case badOPTRecord
  /// A name given as text with an empty label (`a..b`, `.a`).
  case emptyLabel
  /// A stream message with a length prefix of zero (RFC 1035 §4.2.2).
  case emptyStreamMessage
  /// A message longer than the limit of where it came from.
  case messageTooLong
}

extension DNSMessageError: CustomStringConvertible {
  public var description: String {
    switch self {
    case .truncatedHeader: "truncated header"
    case .countsExceedMessage: "counts exceed the message"
    case .truncatedName: "truncated name"
    case .truncatedQuestion: "truncated question"
    case .truncatedRecord: "truncated record"
    case .labelTooLong: "label too long"
    case .nameTooLong: "name too long"
    case .unsupportedLabelType: "unsupported label type"
    case .pointerNotBackwards: "compression pointer not backwards"
    case .tooManyPointers: "too many compression pointers"
    case .badOPTRecord: "bad OPT record"
    case .emptyLabel: "empty label"
    case .emptyStreamMessage: "empty stream message"
    case .messageTooLong: "message too long"
    }
  }
}
