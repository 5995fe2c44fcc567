/// Buffers for packets to send, taken back once the device has written them, so that the send
/// path does not allocate two blocks (the object and its storage) for every segment.
///
/// Two sizes are pooled: ``smallCapacity`` holds any frame of a 1500-byte link with its
/// headroom (every ACK, every MSS-sized segment), ``largeCapacity`` a TSO segment or a frame of
/// a 64 KiB link. A request for more is allocated as before and never pooled. The free lists
/// are bounded (by default 256 small and 64 large buffers: 0.5 MiB and 4.2 MiB, the large ones
/// a 4 MiB send window of TSO segments, what one turn of a bulk sender writes: with 32, half
/// of a bulk transfer's segments were allocated afresh, and freeing them let the C library
/// give the pages back and fault them in again on the next copy into a segment). A buffer
/// comes back only when nothing else holds it (a capture, a fault injector, a queue waiting
/// for ARP keep theirs), so a buffer in use is never handed out twice.
public struct PacketBufferPool: CounterGroup {
  public static let groupName: StaticString = "tx_buffers"

  /// The capacity of a small buffer: headroom and a 1500-byte packet, rounded up.
  public static let smallCapacity = 2048
  /// The capacity of a large buffer: headroom and 64 KiB, rounded up.
  public static let largeCapacity = 66 * 1024

  /// The most buffers each free list keeps.
  public let smallLimit: Int
  public let largeLimit: Int
  private var small: [PacketBuffer] = []
  private var large: [PacketBuffer] = []

  /// Buffers handed out again instead of allocated.
  public private(set) var reused: UInt64 = 0
  /// Buffers allocated (the pool was empty, or the request was too large to pool).
  public private(set) var allocated: UInt64 = 0

  public init(smallLimit: Int = 256, largeLimit: Int = 64) {
    precondition(smallLimit >= 0 && largeLimit >= 0)
    self.smallLimit = smallLimit
    self.largeLimit = largeLimit
  }

  /// Buffers waiting in the free lists.
  public var count: Int { small.count + large.count }

  /// An empty buffer of at least `capacity` bytes whose data starts `headroom` bytes in.
  public mutating func take(capacity: Int, headroom: Int = PacketBuffer.defaultHeadroom)
    -> PacketBuffer
  {
    precondition(capacity >= 0 && headroom >= 0 && headroom <= capacity)
    let pooledCapacity: Int
    if capacity <= Self.smallCapacity {
      pooledCapacity = Self.smallCapacity
      if let buffer = small.popLast() { return reuse(buffer, headroom: headroom) }
    } else if capacity <= Self.largeCapacity {
      pooledCapacity = Self.largeCapacity
      if let buffer = large.popLast() { return reuse(buffer, headroom: headroom) }
    } else {
      pooledCapacity = capacity
    }
    allocated += 1
    return PacketBuffer(capacity: pooledCapacity, headroom: headroom)
  }

  /// Takes back a buffer the device has written: kept for reuse when it is one of the pooled
  /// sizes, nothing else holds it, and its free list has room; otherwise left to be freed.
  public mutating func recycle(_ buffer: inout PacketBuffer) {
    guard isKnownUniquelyReferenced(&buffer) else { return }
    if buffer.capacity == Self.smallCapacity && small.count < smallLimit {
      small.append(buffer)
    } else if buffer.capacity == Self.largeCapacity && large.count < largeLimit {
      large.append(buffer)
    }
  }

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("reused", reused)
    body("allocated", allocated)
    body("free", UInt64(count))
  }

  private mutating func reuse(_ buffer: PacketBuffer, headroom: Int) -> PacketBuffer {
    reused += 1
    buffer.reset(headroom: headroom)
    return buffer
  }
}
