/// Frames waiting to be sent: a ``BoundedQueue`` of packet buffers whose storage is charged to
/// the stack's ``MemoryBudget`` (``MemoryBudget/Use/deviceQueue``) while they wait, so that a
/// device that does not keep up (a Unix-socket peer that reads slowly, a full TAP queue)
/// costs at most what the budget allows, besides the limit on the number of frames.
///
/// The queue a stack fills (`EthernetLink.transmitQueue`) and the one a runtime hands a device
/// are both of these; a device takes frames from the front with ``popFirst()``, which gives
/// their charge back.
public struct FrameQueue {
  @usableFromInline var frames: BoundedQueue<PacketBuffer>
  /// Where the frames are charged.
  public let budget: MemoryBudget
  /// Bytes of frame storage charged.
  public private(set) var bytes = 0
  /// Frames refused because the budget had no room for them.
  public private(set) var refusedForMemory: UInt64 = 0
  /// Whether frames taken off the front are kept until ``swapTakenFrames(_:)``: the stack's
  /// transmit queue keeps them, so that a buffer goes back to its pool once the device is done
  /// with it.
  public var keepsTakenFrames = false
  private var taken: [PacketBuffer] = []

  /// What a frame is charged: its storage and what the allocator adds.
  @inlinable
  public static func charge(_ frame: PacketBuffer) -> Int { frame.capacity + 64 }

  public init(limit: Int, budget: MemoryBudget = MemoryBudget()) {
    frames = BoundedQueue(limit: limit)
    self.budget = budget
  }

  @inlinable public var count: Int { frames.count }
  @inlinable public var isEmpty: Bool { frames.isEmpty }
  @inlinable public var isFull: Bool { frames.isFull }
  public var limit: Int { frames.limit }
  /// The oldest frame, if any.
  @inlinable public var first: PacketBuffer? { frames.first }

  /// Adds `frame` at the back, charging it; false (the frame is dropped) when the queue is full
  /// or the budget has no room.
  @discardableResult
  public mutating func append(_ frame: PacketBuffer) -> Bool {
    guard !frames.isFull else { return false }
    let charge = FrameQueue.charge(frame)
    guard budget.reserve(charge, for: .deviceQueue) else {
      refusedForMemory += 1
      return false
    }
    frames.append(frame)
    bytes += charge
    return true
  }

  /// Removes and returns the oldest frame, giving its charge back.
  public mutating func popFirst() -> PacketBuffer? {
    guard let frame = frames.popFirst() else { return nil }
    let charge = FrameQueue.charge(frame)
    bytes -= charge
    budget.release(charge, for: .deviceQueue)
    if keepsTakenFrames { taken.append(frame) }
    return frame
  }

  /// Exchanges the frames taken off the front since the last call (oldest first) for the
  /// contents of `frames`, which should be empty: the caller gets them without an allocation.
  public mutating func swapTakenFrames(_ frames: inout [PacketBuffer]) {
    swap(&taken, &frames)
  }

  /// Drops every frame.
  public mutating func removeAll() {
    while popFirst() != nil {}
  }
}
