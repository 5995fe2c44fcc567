import NetCore

/// Connections in TIME-WAIT (RFC 9293 §3.10.7.4), kept as small records instead of whole
/// connections, bounded in number, expiring after 2 × MSL.
///
/// A new SYN for a 4-tuple held here is accepted when it is clearly newer than the old
/// connection: by timestamp when both used them, else by sequence number (RFC 6191, RFC 1122
/// §4.2.2.13), so that clients reusing ports never stall.
///
/// Every operation does bounded work: the records are linked in the order they entered, which
/// is their expiry order (each lasts the same time), so that removing or renewing one unlinks
/// it at once (nothing stale is left to skip or compact), and one ``expire(now:)`` forgets at
/// most ``expiriesPerPass`` records (the rest stay due: ``nextDeadline`` is in the past, and
/// the caller polls again at once).
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

  /// An entry and its neighbours in the expiry order (indices into ``records``; -1 for none).
  /// A free record keeps no entry and links only to the next free one.
  private struct Record {
    var entry: Entry?
    var older: Int
    var newer: Int
  }

  /// The most records one ``expire(now:)`` forgets, so that a poll never holds the event
  /// loop for long when many expire together (a burst of closes 2 MSL ago, or a daemon that
  /// did not run for a while).
  public static let expiriesPerPass = 256

  public let limit: Int
  /// Where each tuple's record is in ``records``.
  private var recordByTuple: [TCPFourTuple: Int] = [:]
  /// The records; freed ones are reused, so there are never more than ``limit``.
  private var records: [Record] = []
  /// Ends of the expiry order, and the first free record; -1 for none.
  private var oldest = -1
  private var newest = -1
  private var firstFree = -1
  /// Entries forgotten early because the table was full.
  public private(set) var overflows: UInt64 = 0

  public init(limit: Int) {
    precondition(limit > 0)
    self.limit = limit
  }

  public var count: Int { recordByTuple.count }

  public func entry(for tuple: TCPFourTuple) -> Entry? {
    guard let index = recordByTuple[tuple] else { return nil }
    return records[index].entry
  }

  /// Adds (or renews) an entry, as the newest; the oldest is forgotten when the table is
  /// full.
  public mutating func insert(_ entry: Entry) {
    if let index = recordByTuple[entry.tuple] {
      unlink(index)
      records[index].entry = entry
      linkAsNewest(index)
      return
    }
    if recordByTuple.count >= limit {
      forget(oldest)
      overflows += 1
    }
    let index = allocate(entry)
    recordByTuple[entry.tuple] = index
    linkAsNewest(index)
  }

  public mutating func remove(_ tuple: TCPFourTuple) {
    guard let index = recordByTuple[tuple] else { return }
    forget(index)
  }

  /// Forgets the entries whose time is up, at most ``expiriesPerPass`` of them; returns how
  /// many it forgot.
  @discardableResult
  public mutating func expire(now: Instant) -> Int {
    var forgotten = 0
    while forgotten < Self.expiriesPerPass, oldest >= 0, let entry = records[oldest].entry,
      entry.expires <= now
    {
      forget(oldest)
      forgotten += 1
    }
    return forgotten
  }

  /// When the oldest entry expires (in the past when ``expire(now:)`` left due ones).
  public var nextDeadline: Instant? {
    oldest >= 0 ? records[oldest].entry?.expires : nil
  }

  /// Records in use or free: never more than ``limit``.
  var recordCapacity: Int { records.count }

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

  // MARK: The linked records

  /// A record holding `entry`, unlinked: a free one, else a new one.
  private mutating func allocate(_ entry: Entry) -> Int {
    if firstFree >= 0 {
      let index = firstFree
      firstFree = records[index].newer
      records[index] = Record(entry: entry, older: -1, newer: -1)
      return index
    }
    records.append(Record(entry: entry, older: -1, newer: -1))
    return records.count - 1
  }

  /// Removes the record at `index` from the table and frees it.
  private mutating func forget(_ index: Int) {
    if let entry = records[index].entry { recordByTuple[entry.tuple] = nil }
    unlink(index)
    records[index] = Record(entry: nil, older: -1, newer: firstFree)
    firstFree = index
  }

  private mutating func unlink(_ index: Int) {
    let older = records[index].older
    let newer = records[index].newer
    if older >= 0 { records[older].newer = newer } else { oldest = newer }
    if newer >= 0 { records[newer].older = older } else { newest = older }
    records[index].older = -1
    records[index].newer = -1
  }

  private mutating func linkAsNewest(_ index: Int) {
    records[index].older = newest
    records[index].newer = -1
    if newest >= 0 { records[newest].newer = index } else { oldest = index }
    newest = index
  }
}
