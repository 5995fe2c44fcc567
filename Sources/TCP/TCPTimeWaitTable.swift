import NetCore

/// Connections in TIME-WAIT (RFC 9293 §3.10.7.4), kept as small records instead of whole
/// connections, bounded in number, expiring after 2 × MSL.
///
/// A new SYN for a 4-tuple held here is accepted when it is clearly newer than the old
/// connection: by timestamp when both used them, else by sequence number (RFC 6191, RFC 1122
/// §4.2.2.13), so that clients reusing ports never stall.
public struct TCPTimeWaitTable {
  /// What is remembered of a connection in TIME-WAIT.
  public struct Entry: Sendable {
    public var tuple: TCPFourTuple
    /// SND.NXT and RCV.NXT at the end.
    public var sendNext: SequenceNumber
    public var receiveNext: SequenceNumber
    /// TS.Recent, when timestamps were in use.
    public var timestampRecent: UInt32?
    public var timestampOffset: UInt32
    public var receiveWindowShift: UInt8
    public var expires: Instant
  }

  public let limit: Int
  private var entries: [TCPFourTuple: Entry] = [:]
  /// Tuples in the order they entered (each entry lasts the same time, so this is the
  /// expiry order); stale tuples (re-entered or removed) are skipped.
  private var order = BoundedQueue<(TCPFourTuple, Instant)>(limit: 1 << 20)
  /// Entries forgotten early because the table was full.
  public private(set) var overflows: UInt64 = 0

  public init(limit: Int) {
    precondition(limit > 0)
    self.limit = limit
  }

  public var count: Int { entries.count }

  public func entry(for tuple: TCPFourTuple) -> Entry? { entries[tuple] }

  /// Adds (or renews) an entry; the oldest is forgotten when the table is full.
  public mutating func insert(_ entry: Entry) {
    if entries[entry.tuple] == nil && entries.count >= limit {
      while let (oldest, expires) = order.popFirst() {
        if let held = entries[oldest], held.expires == expires {
          entries[oldest] = nil
          overflows += 1
          break
        }
      }
    }
    entries[entry.tuple] = entry
    // Records of entries that were removed early (a reused port) stay in the order until
    // they expire: rebuild it when they outnumber the live ones, so that it stays about the
    // table's size (amortised: at least `entries.count + 1024` inserts between rebuilds).
    if order.count > 2 * entries.count + 1024 || !order.append((entry.tuple, entry.expires)) {
      compactOrder()
    }
  }

  public mutating func remove(_ tuple: TCPFourTuple) { entries[tuple] = nil }

  /// Forgets the entries whose time is up.
  public mutating func expire(now: Instant) {
    while let (tuple, expires) = order.first, expires <= now {
      _ = order.popFirst()
      if let held = entries[tuple], held.expires <= now { entries[tuple] = nil }
    }
  }

  /// When the oldest entry expires.
  public var nextDeadline: Instant? {
    order.first?.1
  }

  /// Whether a SYN with this sequence number and timestamp may open a new connection on the
  /// tuple of `entry` (RFC 6191 §2).
  public static func acceptsNewSYN(
    _ entry: Entry, sequence: SequenceNumber, timestamp: TCPTimestampOption?
  ) -> Bool {
    if let recent = entry.timestampRecent, let timestamp {
      return Int32(bitPattern: timestamp.value &- recent) > 0
    }
    return entry.receiveNext < sequence
  }

  /// Rebuilds the expiry order from the live entries (when stale records fill it up).
  private mutating func compactOrder() {
    var live = Array(entries.values)
    live.sort { $0.expires < $1.expires }
    order.removeAll()
    for entry in live { order.append((entry.tuple, entry.expires)) }
  }
}
