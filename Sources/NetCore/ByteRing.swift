/// A first-in first-out queue of bytes in a ring whose storage is charged to a
/// ``MemoryBudget``: TCP's send and receive buffers, and the services' pending bytes.
///
/// The storage is a whole number of KiB (at least ``minimumCapacity``), grows by half again
/// (or to what is needed) when bytes are appended, and shrinks when at most a quarter of it is
/// used (``shrinkToFit()``, which gives it all back when the ring is empty), so that what is
/// charged stays close to what is held. When the ring empties, small storage (up to
/// ``keptWhenEmpty``) is given back at once: an idle connection holds nothing. Larger storage
/// is kept for the next bytes: a bulk transfer empties its ring again and again, and growing it
/// back from nothing each time cost a bulk sender two thirds of its speed in allocation,
/// zeroing and page faults; its owner gives it back with ``shrinkToFit()`` (TCP does under
/// memory pressure) or when the ring goes. Growing asks the budget first; when the budget
/// refuses, the ring grows only as far as the budget allows.
///
/// Not copyable: one ring owns its storage and its charge, which it gives back when it goes.
public struct ByteRing: ~Copyable {
  private var storage: [UInt8] = []
  private var head = 0
  /// Bytes held.
  public private(set) var count = 0
  /// Where the storage is charged.
  public let budget: MemoryBudget
  /// What the storage is charged as.
  public let use: MemoryBudget.Use

  /// The smallest storage allocated, and the unit storage grows in.
  public static let minimumCapacity = 1024
  /// What an allocation costs beyond its bytes (the array's header and the allocator's own).
  public static let allocationOverhead = 64
  /// The largest storage given back at once when the ring empties; larger storage is kept
  /// until ``shrinkToFit()``.
  public static let keptWhenEmpty = 64 * 1024

  public init(budget: MemoryBudget, use: MemoryBudget.Use) {
    self.budget = budget
    self.use = use
  }

  deinit {
    let charge = charged
    if charge > 0 { budget.release(charge, for: use) }
  }

  public var isEmpty: Bool { count == 0 }
  /// Bytes of storage allocated.
  public var capacity: Int { storage.count }
  /// Bytes charged to the budget for the storage.
  public var charged: Int { storage.isEmpty ? 0 : storage.count + ByteRing.allocationOverhead }

  /// Makes room for `needed` bytes in all, growing the storage if the budget allows; returns
  /// whether the room is there. When the budget refuses that much, the storage still grows
  /// as far as the budget allows.
  @discardableResult
  public mutating func reserve(_ needed: Int) -> Bool {
    guard needed > storage.count else { return true }
    var wanted = ByteRing.roundedUp(max(needed, storage.count + storage.count / 2))
    while true {
      if resize(to: wanted) { return wanted >= needed }
      // The budget refused that much: try half the growth, down to one unit.
      let growth = wanted - storage.count
      if growth <= ByteRing.minimumCapacity { return false }
      wanted = ByteRing.roundedUp(storage.count + growth / 2)
    }
  }

  /// `bytes` rounded up to a whole number of ``minimumCapacity`` units (at least one).
  static func roundedUp(_ bytes: Int) -> Int {
    let unit = ByteRing.minimumCapacity
    return max((bytes + unit - 1) / unit * unit, unit)
  }

  /// `index` brought back into the storage (it is less than twice the capacity).
  private func wrapped(_ index: Int) -> Int {
    index >= storage.count ? index - storage.count : index
  }

  /// Appends as much of `bytes` as the storage (grown if the budget allows) takes; returns
  /// how many bytes were appended.
  public mutating func append(_ bytes: Span<UInt8>) -> Int {
    guard !bytes.isEmpty else { return 0 }
    if count + bytes.count > storage.count { reserve(count + bytes.count) }
    let taken = min(bytes.count, storage.count - count)
    guard taken > 0 else { return 0 }
    let capacity = storage.count
    let tail = wrapped(head + count)
    let firstPart = min(taken, capacity - tail)
    storage.withUnsafeMutableBufferPointer { target in
      bytes.withUnsafeBufferPointer { source in
        (target.baseAddress! + tail).update(from: source.baseAddress!, count: firstPart)
        if taken > firstPart {
          target.baseAddress!.update(
            from: source.baseAddress! + firstPart, count: taken - firstPart)
        }
      }
    }
    count += taken
    return taken
  }

  /// Lets `body` write up to `maximum` bytes straight into the free space after the last byte
  /// (grown first if the budget allows), handed over in one contiguous piece (so it may be
  /// less than `maximum` where the ring wraps); `body` returns how many bytes it wrote, which
  /// are then appended. Returns that count: the bytes are written once, where they stay.
  public mutating func fill(upTo maximum: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int)
    -> Int
  {
    guard maximum > 0 else { return 0 }
    if count + maximum > storage.count { reserve(count + maximum) }
    if count == 0 { head = 0 }  // the whole storage in one piece
    let capacity = storage.count
    let tail = wrapped(head + count)
    let contiguous = tail >= head ? capacity - tail : head - tail
    let length = min(maximum, contiguous, capacity - count)
    guard length > 0 else { return 0 }
    let written = storage.withUnsafeMutableBytes { all in
      body(UnsafeMutableRawBufferPointer(rebasing: all[tail..<(tail + length)]))
    }
    precondition(written >= 0 && written <= length)
    count += written
    // Nothing written to an empty ring: small storage goes back, as when a ring empties.
    if count == 0 && storage.count <= ByteRing.keptWhenEmpty { resize(to: 0) }
    return written
  }

  /// Copies `length` bytes from `offset` bytes after the front into `destination` at
  /// `position`.
  public func copy(
    offset: Int, length: Int, into destination: inout MutableSpan<UInt8>, at position: Int
  ) {
    precondition(offset >= 0 && length >= 0 && offset + length <= count)
    guard length > 0 else { return }
    let capacity = storage.count
    let start = wrapped(head + offset)
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

  /// Copies up to `destination.count` bytes from the front out and drops them; returns how
  /// many.
  public mutating func read(into destination: UnsafeMutableRawBufferPointer) -> Int {
    let length = min(destination.count, count)
    guard length > 0 else { return 0 }
    let capacity = storage.count
    let firstPart = min(length, capacity - head)
    storage.withUnsafeBufferPointer { source in
      destination.baseAddress!.copyMemory(from: source.baseAddress! + head, byteCount: firstPart)
      if length > firstPart {
        (destination.baseAddress! + firstPart).copyMemory(
          from: source.baseAddress!, byteCount: length - firstPart)
      }
    }
    removeFirst(length)
    return length
  }

  /// Calls `body` with the bytes from the front, in at most two contiguous pieces (the ring
  /// may wrap), until it takes fewer than it was given; drops what it took and returns how
  /// many bytes that was. The bytes are read in place: no copy.
  public mutating func consume(upTo limit: Int = .max, _ body: (Span<UInt8>) -> Int) -> Int {
    var taken = 0
    while taken < limit && count > 0 {
      let capacity = storage.count
      let length = min(count, capacity - head, limit - taken)
      let used = storage.withUnsafeBufferPointer { all in
        let piece = UnsafeBufferPointer(rebasing: all[head..<(head + length)])
        return body(Span(_unsafeElements: piece))
      }
      precondition(used >= 0 && used <= length)
      removeFirst(used)
      taken += used
      if used < length { break }
    }
    return taken
  }

  /// Drops `length` bytes from the front. When the ring empties, storage of up to
  /// ``keptWhenEmpty`` bytes is given back; larger storage is kept for the next bytes.
  public mutating func removeFirst(_ length: Int) {
    precondition(length >= 0 && length <= count)
    guard length > 0 else { return }
    count -= length
    if count > 0 {
      head = wrapped(head + length)
    } else if storage.count <= ByteRing.keptWhenEmpty {
      resize(to: 0)
    } else {
      head = 0
    }
  }

  /// When at most a quarter of the storage is used, shrinks it to twice what is held (not
  /// below ``minimumCapacity``), and gives it all back when the ring is empty: after a burst,
  /// a ring that holds little gives its memory back.
  public mutating func shrinkToFit() {
    guard count <= storage.count / 4 else { return }
    let newCapacity = count == 0 ? 0 : ByteRing.roundedUp(2 * count)
    if newCapacity < storage.count { resize(to: newCapacity) }
  }

  /// Gives the storage back, dropping every byte.
  public mutating func removeAll() {
    count = 0
    resize(to: 0)
  }

  /// Moves the bytes into storage of `newCapacity` (0: none), charging or releasing the
  /// difference; false if the budget refused to grow it.
  @discardableResult
  private mutating func resize(to newCapacity: Int) -> Bool {
    precondition(newCapacity >= count)
    let oldCharge = charged
    let newCharge = newCapacity == 0 ? 0 : newCapacity + ByteRing.allocationOverhead
    if newCharge > oldCharge {
      guard budget.reserve(newCharge - oldCharge, for: use) else { return false }
    }
    if newCapacity == 0 {
      storage = []
    } else {
      // Only the bytes held are copied; the rest of the new storage is written before it is
      // read (append), so it is not zeroed first (a zeroed multi-megabyte ring is a page fault
      // per 4 KiB before the first byte goes in).
      let held = count
      let start = head
      storage = storage.withUnsafeBufferPointer { source in
        [UInt8](unsafeUninitializedCapacity: newCapacity) { target, initialized in
          if held > 0 {
            let firstPart = min(held, source.count - start)
            target.baseAddress!.initialize(from: source.baseAddress! + start, count: firstPart)
            if held > firstPart {
              (target.baseAddress! + firstPart).initialize(
                from: source.baseAddress!, count: held - firstPart)
            }
          }
          initialized = newCapacity
        }
      }
    }
    head = 0
    if newCharge < oldCharge { budget.release(oldCharge - newCharge, for: use) }
    return true
  }
}
