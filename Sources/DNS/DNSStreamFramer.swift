/// Splits a TCP stream into DNS messages: each is preceded by its length as two bytes, most
/// significant first (RFC 1035 §4.2.2, RFC 7766 §8).
///
/// It holds at most one incomplete message (2 + `maximumMessageLength` bytes): the caller
/// hands it what arrived, and it takes only as much as the next message needs, so a peer
/// that sends many messages at once costs no more memory than one. A zero length, or one
/// above `maximumMessageLength`, is an error after which the stream cannot be trusted (the
/// caller closes it).
public struct DNSStreamFramer: Sendable {
  /// The longest message taken; a longer length prefix is ``DNSMessageError/messageTooLong``.
  public let maximumMessageLength: Int
  private var buffer: [UInt8] = []
  /// The current message's length, once its two length bytes are in.
  private var expected: Int? = nil

  public init(maximumMessageLength: Int = 65535) {
    self.maximumMessageLength = min(max(maximumMessageLength, 1), 65535)
  }

  /// Bytes of an incomplete message held (its length prefix included).
  public var bufferedCount: Int { buffer.count + (expected == nil ? 0 : 2) }

  /// Takes bytes from `input` at `offset` until one message is whole and returns it (without
  /// its length), or nil once `input` is used up; `offset` moves past what was taken.
  public mutating func nextMessage(from input: Span<UInt8>, offset: inout Int)
    throws(DNSMessageError) -> [UInt8]?
  {
    while offset < input.count {
      guard let length = expected else {
        buffer.append(input[offset])
        offset += 1
        if buffer.count == 2 {
          let length = Int(buffer[0]) << 8 | Int(buffer[1])
          buffer.removeAll(keepingCapacity: true)
          guard length > 0 else { throw .emptyStreamMessage }
          guard length <= maximumMessageLength else { throw .messageTooLong }
          expected = length
          buffer.reserveCapacity(length)
        }
        continue
      }
      let take = min(length - buffer.count, input.count - offset)
      for index in offset..<(offset + take) { buffer.append(input[index]) }
      offset += take
      if buffer.count == length {
        let message = buffer
        buffer = []
        expected = nil
        return message
      }
    }
    return nil
  }

  /// A message with its two-byte length in front, as it goes on a stream; nil if it is
  /// empty or longer than 65,535 bytes.
  public static func framed(_ message: [UInt8]) -> [UInt8]? {
    guard !message.isEmpty, message.count <= 65535 else { return nil }
    return [UInt8(message.count >> 8), UInt8(truncatingIfNeeded: message.count)] + message
  }
}
