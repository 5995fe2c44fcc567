/// Splits a byte stream into frames, each preceded by its length as a 32-bit big-endian
/// integer: the framing of QEMU's `-netdev stream` and `-netdev socket` (QEMU `net/net.c`,
/// `net_fill_rstate`), which passt speaks too. There is no RFC; a length of 0 or above
/// ``maximumFrameLength`` is no Ethernet frame, and the stream cannot be trusted after one.
///
/// The decoder owns its receive buffer, so that the bytes read from the socket are handed out
/// in place: ``reserveSpace()`` gives the free space to read into, ``commit(_:)`` says how much
/// was read, and ``nextFrame(_:)`` hands out each whole frame once. It holds at most
/// ``capacity`` bytes; when every whole frame has been taken, at least one whole frame of the
/// largest size fits (the partial one is moved to the front when that is needed).
///
/// Standard library only, so that it can be fuzzed and unit-tested without a socket.
public struct StreamFrameDecoder: ~Copyable {
  /// The bytes of the length in front of each frame.
  public static let prefixLength = 4

  /// The largest frame accepted; a longer announced length is ``StreamFramingError/badLength(_:)``.
  public let maximumFrameLength: Int
  /// The size of the receive buffer.
  public let capacity: Int
  private let storage: UnsafeMutableRawBufferPointer
  /// The first byte not handed out yet.
  private var start = 0
  /// The end of the bytes received.
  private var end = 0

  /// A decoder for frames of 1 to `maximumFrameLength` bytes; the buffer holds `capacity`
  /// bytes (at least one largest frame with its length; by default four).
  public init(maximumFrameLength: Int, capacity: Int? = nil) {
    precondition(maximumFrameLength > 0)
    let smallest = maximumFrameLength + StreamFrameDecoder.prefixLength
    self.maximumFrameLength = maximumFrameLength
    self.capacity = max(capacity ?? 4 * smallest, smallest)
    storage = .allocate(byteCount: self.capacity, alignment: 16)
  }

  deinit { storage.deallocate() }

  /// Bytes received and not handed out as frames yet.
  public var bufferedCount: Int { end - start }

  /// The free space at the end of the buffer, for the next read. Once every whole frame has
  /// been taken (``nextFrame(_:)`` returned false) it is never empty.
  public mutating func reserveSpace() -> UnsafeMutableRawBufferPointer {
    if start == end {
      start = 0
      end = 0
    } else if capacity - end < maximumFrameLength + StreamFrameDecoder.prefixLength, start > 0 {
      // Not room for a largest frame after the partial one: move it to the front.
      storage.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: end - start)
      end -= start
      start = 0
    }
    return UnsafeMutableRawBufferPointer(rebasing: storage[end...])
  }

  /// Takes `count` bytes written at the start of the space ``reserveSpace()`` gave.
  public mutating func commit(_ count: Int) {
    precondition(count >= 0 && count <= capacity - end, "committed more than the reserved space")
    end += count
  }

  /// Hands the next whole frame to `body` and consumes it; returns false when no whole frame
  /// is buffered. Throws when the next length is 0 or above ``maximumFrameLength`` (and keeps
  /// throwing until ``reset()``).
  public mutating func nextFrame(_ body: (Span<UInt8>) -> Void) throws(StreamFramingError) -> Bool {
    let available = end - start
    guard available >= StreamFrameDecoder.prefixLength else { return false }
    let bytes = UnsafeRawBufferPointer(storage)
    var length = 0
    for offset in 0..<StreamFrameDecoder.prefixLength {
      length = length << 8 | Int(bytes[start + offset])
    }
    guard length > 0, length <= maximumFrameLength else { throw .badLength(length) }
    guard available - StreamFrameDecoder.prefixLength >= length else { return false }
    let frameStart = start + StreamFrameDecoder.prefixLength
    let frame = UnsafeBufferPointer(
      start: (storage.baseAddress! + frameStart).assumingMemoryBound(to: UInt8.self),
      count: length)
    body(Span(_unsafeElements: frame))
    start = frameStart + length
    return true
  }

  /// Forgets everything buffered (the peer went away; the next one starts afresh).
  public mutating func reset() {
    start = 0
    end = 0
  }
}

/// Why a frame stream cannot be decoded further.
public enum StreamFramingError: Error, Equatable, Sendable {
  /// A length prefix of 0 or above the decoder's maximum.
  case badLength(Int)
}
