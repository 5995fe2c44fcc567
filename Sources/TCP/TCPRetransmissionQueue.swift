import NetCore

/// Data sent and not yet cumulatively acknowledged, segment by segment: the sender's
/// scoreboard (RFC 6675 §3) kept the way Linux keeps it, one record per segment, so that
/// each segment knows whether it was SACKed, judged lost, and when it was last sent.
///
/// Loss is judged two ways:
/// - RFC 6675 `IsLost`: more than (DupThresh − 1) × SMSS bytes SACKed above a segment;
/// - RACK (RFC 8985 §6): a segment sent before one that has since been delivered, and
///   outstanding for longer than the latest RTT plus a reordering window.
///
/// RACK also catches lost retransmissions, which SACK alone cannot. Records are at most one
/// MSS long (a TSO send is recorded per MSS), and bounded by the send buffer.
public struct TCPRetransmissionQueue: Sendable {
  /// One segment's worth of sequence space.
  public struct Record: Equatable, Sendable {
    public var start: SequenceNumber
    public var end: SequenceNumber
    /// When it was last sent.
    public var sentAt: Instant
    /// How many times it has been sent.
    public var transmissions: Int
    /// Reported held by the receiver in a SACK block.
    public var sacked = false
    /// Judged lost and not yet sent again.
    public var lost = false
    /// It carries our FIN (its last sequence number).
    public var fin = false

    public var length: Int { end - start }
  }

  private var records: [Record] = []
  /// Index of the first live record (records before it have been acknowledged).
  private var head = 0

  /// Bytes outstanding (sent, not cumulatively acknowledged).
  public private(set) var outstandingBytes = 0
  /// Bytes SACKed.
  public private(set) var sackedBytes = 0
  /// Bytes judged lost and not yet retransmitted.
  public private(set) var lostBytes = 0
  /// Records sent more than once and neither SACKed nor acknowledged: the only ones RACK must
  /// look at out of sequence order.
  private var retransmittedOutstanding = 0

  // RACK state (RFC 8985 §6.1).
  /// When the most recently delivered segment (the latest by send time) was sent.
  public private(set) var rackSentAt: Instant?
  /// That segment's end, to break ties between segments sent at the same instant.
  private var rackEnd = SequenceNumber(0)
  /// The RTT of the most recently delivered segment.
  public private(set) var rackRoundTrip = Interval.zero
  /// The smallest RTT seen.
  public private(set) var minimumRoundTrip: Interval?

  public init() {}

  public var isEmpty: Bool { head == records.count }
  public var count: Int { records.count - head }

  /// RFC 6675 `pipe`: bytes believed to be in the network.
  public var pipe: Int { outstandingBytes - sackedBytes - lostBytes }

  /// The record at `offset` from the oldest.
  public subscript(offset: Int) -> Record { records[head + offset] }

  /// The newest record.
  public var last: Record? { isEmpty ? nil : records[records.count - 1] }

  /// Records a first transmission of `[start, end)`, cut into pieces of at most
  /// `segmentSize` bytes (the last piece may carry the FIN).
  public mutating func sent(
    start: SequenceNumber, end: SequenceNumber, fin: Bool, segmentSize: Int, at now: Instant
  ) {
    var position = start
    let dataEnd = fin ? end - 1 : end
    repeat {
      var pieceEnd = position + min(segmentSize, max(dataEnd - position, 0))
      let isLast = pieceEnd == dataEnd
      if isLast && fin { pieceEnd = end }
      records.append(
        Record(start: position, end: pieceEnd, sentAt: now, transmissions: 1, fin: isLast && fin))
      outstandingBytes += pieceEnd - position
      position = pieceEnd
    } while position < end
  }

  /// Records that the record at `offset` was sent again at `now` (no longer lost).
  public mutating func retransmitted(_ offset: Int, at now: Instant) {
    let index = head + offset
    if records[index].lost {
      records[index].lost = false
      lostBytes -= records[index].length
    }
    if records[index].transmissions == 1 && !records[index].sacked { retransmittedOutstanding += 1 }
    records[index].sentAt = now
    records[index].transmissions += 1
  }

  /// Splits the record at `offset` so that its first part is `length` bytes (a segment that no
  /// longer fits in one, because options grew).
  public mutating func split(_ offset: Int, at length: Int) {
    let index = head + offset
    var second = records[index]
    precondition(length > 0 && length < second.length)
    records[index].end = records[index].start + length
    records[index].fin = false
    second.start = records[index].end
    if second.transmissions > 1 && !second.sacked { retransmittedOutstanding += 1 }
    records.insert(second, at: index + 1)
  }

  /// Drops everything below `acknowledgment`; returns the delivered records' latest send time
  /// and whether any was ever retransmitted (for RACK, and Karn's rule).
  public mutating func acknowledge(upTo acknowledgment: SequenceNumber, now: Instant) {
    while head < records.count, records[head].end <= acknowledgment {
      let record = records[head]
      remove(record)
      if !record.sacked { delivered(record, now: now) }
      head += 1
    }
    if head < records.count, records[head].start < acknowledgment {
      // A partly acknowledged record (the peer cut a segment): keep the rest.
      let cut = acknowledgment - records[head].start
      outstandingBytes -= cut
      if records[head].sacked { sackedBytes -= cut }
      if records[head].lost { lostBytes -= cut }
      records[head].start = acknowledgment
    }
    if head > 64 && head * 2 > records.count {
      records.removeFirst(head)
      head = 0
    }
  }

  /// Marks the records the SACK blocks cover entirely (RFC 2018 §3).
  public mutating func sack(_ blocks: [SACKBlock], now: Instant) {
    guard !blocks.isEmpty else { return }
    for index in head..<records.count where !records[index].sacked {
      let record = records[index]
      guard blocks.contains(where: { $0.left <= record.start && record.end <= $0.right }) else {
        continue
      }
      records[index].sacked = true
      sackedBytes += record.length
      if record.transmissions > 1 { retransmittedOutstanding -= 1 }
      if record.lost {
        records[index].lost = false
        lostBytes -= record.length
      }
      delivered(record, now: now)
    }
  }

  /// Whether any record is SACKed.
  public var hasSACKed: Bool { sackedBytes > 0 }

  /// RACK's per-delivery update (RFC 8985 §6.2 step 2): remember the latest-sent delivered
  /// segment and its RTT. A retransmitted segment whose "RTT" is shorter than the minimum
  /// was delivered by its original transmission and says nothing about the retransmission.
  private mutating func delivered(_ record: Record, now: Instant) {
    let roundTrip = now - record.sentAt
    if record.transmissions > 1, let minimum = minimumRoundTrip, roundTrip < minimum { return }
    if record.transmissions == 1 {
      minimumRoundTrip = min(minimumRoundTrip ?? roundTrip, roundTrip)
    }
    if let latest = rackSentAt,
      record.sentAt < latest || (record.sentAt == latest && record.end <= rackEnd)
    {
      return
    }
    rackSentAt = record.sentAt
    rackEnd = record.end
    rackRoundTrip = roundTrip
  }

  /// RACK's reordering window: a quarter of the minimum RTT (RFC 8985 §6.2 step 4), at most
  /// the smoothed RTT.
  public func reorderingWindow(smoothed: Interval?) -> Interval {
    let window = (minimumRoundTrip ?? .zero) / 4 * Int64(reorderingMultiplier)
    guard let smoothed else { return window }
    return min(window, smoothed)
  }

  /// How many quarters of the minimum RTT the reordering window spans: grows each time a
  /// D-SACK shows a retransmission was spurious, back to 1 after 16 loss-free recoveries
  /// (RFC 8985 §6.2 step 4, `reo_wnd_mult` and `reo_wnd_persist`).
  public private(set) var reorderingMultiplier = 1
  private var reorderingPersistence = 0

  /// A D-SACK reported data that arrived twice: a retransmission was not needed.
  public mutating func spuriousRetransmissionReported() {
    reorderingMultiplier = min(reorderingMultiplier + 1, 16)
    reorderingPersistence = 16
  }

  /// A recovery episode ended; after enough of them the widened window shrinks back.
  public mutating func recoveryEnded() {
    guard reorderingPersistence > 0 else { return }
    reorderingPersistence -= 1
    if reorderingPersistence == 0 { reorderingMultiplier = 1 }
  }

  /// Marks lost what RACK and RFC 6675's IsLost judge lost. Returns when the next record
  /// would become lost by RACK if nothing is delivered meanwhile (for the reordering timer),
  /// and whether anything was newly marked.
  public mutating func detectLosses(
    now: Instant, reorderingWindow: Interval, maximumSegmentSize: Int, useSACK: Bool
  ) -> (newlyLost: Bool, reorderDeadline: Instant?) {
    var newlyLost = false
    var deadline: Instant? = nil
    // RFC 6675 IsLost: scan from the newest, summing SACKed bytes above each record.
    if useSACK && sackedBytes > 0 {
      var sackedAbove = 0
      var rangesAbove = 0
      var previousSacked = false
      for index in stride(from: records.count - 1, through: head, by: -1) {
        let record = records[index]
        if record.sacked {
          sackedAbove += record.length
          if !previousSacked { rangesAbove += 1 }
          previousSacked = true
          continue
        }
        previousSacked = false
        // Only first transmissions: a retransmission is judged by RACK's clock (the role of
        // RFC 6675's HighRxt, which keeps NextSeg from sending a hole twice).
        if !record.lost && record.transmissions == 1
          && (sackedAbove > 2 * maximumSegmentSize || rangesAbove >= 3)
        {
          markLost(index)
          newlyLost = true
        }
      }
    }
    // RACK: a segment sent before the latest delivered one, outstanding for more than the
    // RTT plus the reordering window, is lost (RFC 8985 §6.2 step 5).
    if let latest = rackSentAt {
      // First transmissions are in time order; once one is newer than the latest delivered
      // segment, only retransmissions further on can still be older.
      var originalsDone = false
      for index in head..<records.count where !records[index].sacked && !records[index].lost {
        let record = records[index]
        if originalsDone && (record.transmissions == 1 || retransmittedOutstanding == 0) {
          if retransmittedOutstanding == 0 { break }
          continue
        }
        guard record.sentAt < latest || (record.sentAt == latest && record.end <= rackEnd) else {
          if record.transmissions == 1 { originalsDone = true }
          continue
        }
        let due = record.sentAt + rackRoundTrip + reorderingWindow
        if due <= now {
          markLost(index)
          newlyLost = true
        } else {
          deadline = Instant.earliest(deadline, due)
        }
      }
    }
    return (newlyLost, deadline)
  }

  /// Marks the oldest outstanding record lost (the DupThresh rule without SACK, and NewReno's
  /// partial acknowledgment).
  public mutating func markFirstLost() {
    for index in head..<records.count where !records[index].sacked {
      if !records[index].lost { markLost(index) }
      return
    }
  }

  /// Marks everything not SACKed lost (a retransmission timeout, RFC 8985 §6.3).
  public mutating func markAllLost() {
    for index in head..<records.count where !records[index].sacked && !records[index].lost {
      markLost(index)
    }
  }

  /// Marks lost every outstanding record longer than `length` bytes that is not SACKed: the
  /// segments a smaller path MTU no longer carries (RFC 8201 §5.2, RFC 1191 §6.4).
  public mutating func markLost(longerThan length: Int) {
    for index in head..<records.count
    where !records[index].sacked && !records[index].lost && records[index].length > length {
      markLost(index)
    }
  }

  /// Forgets SACK information (RFC 2018 §8: the receiver may renege; after a timeout).
  public mutating func clearSACKs() {
    for index in head..<records.count where records[index].sacked {
      records[index].sacked = false
      sackedBytes -= records[index].length
      if records[index].transmissions > 1 { retransmittedOutstanding += 1 }
    }
  }

  /// The oldest record judged lost, as an offset.
  public var firstLost: Int? {
    guard lostBytes > 0 else { return nil }
    for index in head..<records.count where records[index].lost { return index - head }
    return nil
  }

  private mutating func markLost(_ index: Int) {
    records[index].lost = true
    lostBytes += records[index].length
  }

  private mutating func remove(_ record: Record) {
    if record.transmissions > 1 && !record.sacked { retransmittedOutstanding -= 1 }
    outstandingBytes -= record.length
    if record.sacked { sackedBytes -= record.length }
    if record.lost { lostBytes -= record.length }
  }
}
