import NetCore

/// Bytes the application has written that are not yet acknowledged: from SND.UNA on
/// (RFC 9293 §3.3.1, the send sequence space), as a ring that grows on demand up to a limit.
///
/// Data is copied in once by ``append(_:)``, read (for first transmission and for
/// retransmissions) by offset from SND.UNA, and dropped from the front as it is acknowledged.
/// An idle connection holds no storage: it is released when the buffer empties.
public struct TCPSendBuffer: Sendable {
  private var storage: [UInt8] = []
  private var head = 0
  /// Bytes held (unacknowledged, sent or not).
  public private(set) var count = 0
  /// The most bytes held.
  public var limit: Int

  public init(limit: Int) {
    precondition(limit > 0)
    self.limit = limit
  }

  public var isEmpty: Bool { count == 0 }
  /// Room for more bytes from the application.
  public var freeSpace: Int { limit - count }
  /// Bytes of storage allocated.
  public var capacity: Int { storage.count }

  /// Copies as much of `bytes` as fits; returns how many were taken.
  public mutating func append(_ bytes: Span<UInt8>) -> Int {
    let taken = min(bytes.count, freeSpace)
    guard taken > 0 else { return 0 }
    reserve(count + taken)
    let capacity = storage.count
    let tail = (head + count) & (capacity - 1)
    let firstPart = min(taken, capacity - tail)
    storage.withUnsafeMutableBufferPointer { destination in
      bytes.withUnsafeBufferPointer { source in
        (destination.baseAddress! + tail).update(from: source.baseAddress!, count: firstPart)
        if taken > firstPart {
          destination.baseAddress!.update(
            from: source.baseAddress! + firstPart, count: taken - firstPart)
        }
      }
    }
    count += taken
    return taken
  }

  /// Drops `length` acknowledged bytes from the front.
  public mutating func removeFirst(_ length: Int) {
    precondition(length >= 0 && length <= count)
    count -= length
    if count == 0 && storage.count <= 16384 {
      // Idle connections hold no memory; a busy one keeps its large ring.
      storage = []
      head = 0
    } else {
      head = (head + length) & (storage.count - 1)
    }
  }

  /// Copies `length` bytes starting `offset` bytes after the front into `destination` at
  /// `position`.
  public func copy(
    offset: Int, length: Int, into destination: inout MutableSpan<UInt8>, at position: Int
  ) {
    precondition(offset >= 0 && length >= 0 && offset + length <= count)
    guard length > 0 else { return }
    let capacity = storage.count
    let start = (head + offset) & (capacity - 1)
    let firstPart = min(length, capacity - start)
    storage.withUnsafeBufferPointer { source in
      destination.withUnsafeMutableBufferPointer { target in
        (target.baseAddress! + position).update(from: source.baseAddress! + start, count: firstPart)
        if length > firstPart {
          (target.baseAddress! + position + firstPart).update(
            from: source.baseAddress!, count: length - firstPart)
        }
      }
    }
  }

  /// Grows the ring (a power of two, at least 4 KiB) to hold `needed` bytes.
  private mutating func reserve(_ needed: Int) {
    guard needed > storage.count else { return }
    var capacity = max(4096, storage.count)
    while capacity < needed { capacity *= 2 }
    var grown = [UInt8](repeating: 0, count: capacity)
    if count > 0 {
      let old = storage.count
      let firstPart = min(count, old - head)
      grown.withUnsafeMutableBufferPointer { target in
        storage.withUnsafeBufferPointer { source in
          target.baseAddress!.update(from: source.baseAddress! + head, count: firstPart)
          if count > firstPart {
            (target.baseAddress! + firstPart).update(
              from: source.baseAddress!, count: count - firstPart)
          }
        }
      }
    }
    storage = grown
    head = 0
  }
}
