import NetCore

/// Bytes the application has written that are not yet acknowledged: from SND.UNA on
/// (RFC 9293 §3.3.1, the send sequence space), charged to the stack's `MemoryBudget`.
///
/// The bytes come in three ways, and each is copied once on its way to the wire, into the
/// segment (``copy(offset:length:into:at:)``):
/// - ``append(_:limit:)`` copies them into a `ByteRing` (a writer whose buffer is its own to
///   reuse);
/// - ``append(holding:limit:)`` keeps the application's array as it is (copy-on-write makes
///   holding it free: a chargen pattern or a file's bytes are never copied into the buffer);
/// - ``fill(upTo:limit:_:)`` lets the application write straight into the ring's free space
///   (a relay's `recv(2)` from a host socket).
///
/// The buffer is a queue of runs in stream order: so many bytes of the ring, or one held
/// array. It is read (for first transmission and for retransmissions) by offset from SND.UNA
/// and dropped from the front as it is acknowledged. How much the application may queue is
/// the connection's decision (`TCPConnection` sizes it from the congestion window and the
/// peer's window, as Linux's `tcp_sndbuf_expand` does); an idle connection holds no storage.
public struct TCPSendBuffer: ~Copyable {
  /// One stretch of the buffer, in stream order.
  enum Run {
    /// The next so many bytes of the ring.
    case copied(Int)
    /// An application's bytes, held as they are.
    case held(ArraySlice<UInt8>)

    var count: Int {
      switch self {
      case .copied(let count): count
      case .held(let bytes): bytes.count
      }
    }
  }

  private var ring: ByteRing
  /// The runs from ``firstRun`` on; those before it were acknowledged.
  private var runs: [Run] = []
  private var firstRun = 0
  /// Bytes held (unacknowledged, sent or not).
  public private(set) var count = 0
  /// What the held arrays are charged: their bytes, and an allocation's overhead each.
  private var heldCharge = 0

  /// The smallest array held rather than copied: a smaller write is copied into the ring, so
  /// that the runs stay few (at most two per ``minimumHeld`` bytes of the buffer).
  public static let minimumHeld = 16 * 1024

  public init(budget: MemoryBudget) {
    ring = ByteRing(budget: budget, use: .tcpSend)
  }

  deinit {
    if heldCharge > 0 { ring.budget.release(heldCharge, for: .tcpSend) }
  }

  public var isEmpty: Bool { count == 0 }
  /// Bytes of ring storage allocated.
  public var capacity: Int { ring.capacity }
  /// Bytes of memory charged for this buffer.
  public var charged: Int { ring.charged + heldCharge }
  /// Runs from the front (for tests: how the bytes are kept).
  var runCount: Int { runs.count - firstRun }

  /// Copies as much of `bytes` as keeps the buffer within `limit` bytes and the memory budget
  /// allows; returns how many were taken.
  public mutating func append(_ bytes: Span<UInt8>, limit: Int) -> Int {
    let room = limit - count
    guard room > 0, !bytes.isEmpty else { return 0 }
    let taken = ring.append(bytes.extracting(0..<min(room, bytes.count)))
    addCopied(taken)
    return taken
  }

  /// What became of bytes offered to ``append(holding:limit:)``.
  public enum HoldOutcome: Equatable {
    /// So many bytes kept as they are (the array shared, not copied).
    case held(Int)
    /// So many bytes copied into the ring: fewer than ``minimumHeld`` fitted, or the budget
    /// had no room for the array.
    case copied(Int)
    /// Nothing taken: there was room for fewer than ``minimumHeld`` bytes while at least that
    /// many wait for the peer, whose acknowledgment will make more room soon; offer the bytes
    /// again then (rather than copying them in small pieces).
    case deferred

    /// Bytes taken.
    public var taken: Int {
      switch self {
      case .held(let count), .copied(let count): count
      case .deferred: 0
      }
    }
  }

  /// Keeps as much of `bytes` as fits within `limit` bytes and the memory budget without
  /// copying it (the slice shares the application's storage). With room for fewer than
  /// ``minimumHeld`` bytes, it copies them instead, or, while ``minimumHeld`` bytes are queued
  /// already and `bytes` has at least as many, waits for more room (``HoldOutcome/deferred``).
  public mutating func append(holding bytes: ArraySlice<UInt8>, limit: Int) -> HoldOutcome {
    let room = limit - count
    guard room > 0, !bytes.isEmpty else { return .copied(0) }
    let length = min(room, bytes.count)
    let minimum = TCPSendBuffer.minimumHeld
    if length < minimum && count >= minimum && bytes.count >= minimum { return .deferred }
    let kept = bytes.prefix(length)
    let charge = length + ByteRing.allocationOverhead
    guard length >= minimum, ring.budget.reserve(charge, for: .tcpSend) else {
      return .copied(append(kept.span, limit: limit))
    }
    heldCharge += charge
    runs.append(.held(kept))
    count += length
    return .held(length)
  }

  /// Lets `body` write up to `maximum` bytes (within `limit` bytes in all and what the memory
  /// budget allows) straight into the ring's free space, which it is handed in one contiguous
  /// piece; `body` returns how many it wrote, and those bytes join the buffer. Returns that
  /// count.
  public mutating func fill(
    upTo maximum: Int, limit: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int
  ) -> Int {
    let room = min(limit - count, maximum)
    guard room > 0 else { return 0 }
    let written = ring.fill(upTo: room, body)
    addCopied(written)
    return written
  }

  private mutating func addCopied(_ length: Int) {
    guard length > 0 else { return }
    count += length
    if firstRun < runs.count, case .copied(let last) = runs[runs.count - 1] {
      runs[runs.count - 1] = .copied(last + length)
    } else {
      runs.append(.copied(length))
    }
  }

  /// Drops `length` acknowledged bytes from the front.
  public mutating func removeFirst(_ length: Int) {
    precondition(length >= 0 && length <= count)
    var left = length
    while left > 0 {
      let run = runs[firstRun]
      let dropped = min(left, run.count)
      switch run {
      case .copied(let held):
        ring.removeFirst(dropped)
        runs[firstRun] = .copied(held - dropped)
      case .held(let bytes):
        runs[firstRun] = .held(bytes.dropFirst(dropped))
        ring.budget.release(dropped, for: .tcpSend)
        heldCharge -= dropped
      }
      left -= dropped
      count -= dropped
      if dropped == run.count {
        if case .held = run {
          ring.budget.release(ByteRing.allocationOverhead, for: .tcpSend)
          heldCharge -= ByteRing.allocationOverhead
        }
        firstRun += 1
      }
    }
    if firstRun == runs.count {
      runs.removeAll(keepingCapacity: runs.count <= 64)
      firstRun = 0
    } else if firstRun >= 64 && firstRun * 2 >= runs.count {
      runs.removeFirst(firstRun)
      firstRun = 0
    }
  }

  /// Copies `length` bytes starting `offset` bytes after the front into `destination` at
  /// `position`: the one copy each byte makes on its way into a segment.
  public func copy(
    offset: Int, length: Int, into destination: inout MutableSpan<UInt8>, at position: Int
  ) {
    precondition(offset >= 0 && length >= 0 && offset + length <= count)
    var runStart = 0
    var ringOffset = 0
    var done = 0
    var index = firstRun
    while done < length {
      let run = runs[index]
      let wanted = offset + done
      let runEnd = runStart + run.count
      if wanted < runEnd {
        let within = wanted - runStart
        let piece = min(length - done, runEnd - wanted)
        switch run {
        case .copied:
          ring.copy(
            offset: ringOffset + within, length: piece, into: &destination, at: position + done)
        case .held(let bytes):
          bytes.withUnsafeBufferPointer { source in
            destination.withUnsafeMutableBufferPointer { target in
              (target.baseAddress! + position + done).update(
                from: source.baseAddress! + within, count: piece)
            }
          }
        }
        done += piece
      }
      if case .copied(let held) = run { ringOffset += held }
      runStart = runEnd
      index += 1
    }
  }

  /// Gives back ring storage the bytes held no longer need.
  public mutating func shrinkToFit() {
    ring.shrinkToFit()
  }
}
