import NetCore

/// Guests' SYNs to foreign destinations that a relay has not yet answered (a listener's
/// LISTEN processing, RFC 9293 §3.10.7.2, deferred until the host side knows whether the real
/// destination accepts, as slirp4netns and passt do). Each entry keeps what the SYN said (its
/// sequence number, window and options: MSS, window scale, SACK permitted, timestamps), so the
/// handshake can be completed later exactly as a listener would have; a retransmitted SYN of a
/// pending open is absorbed, its fields replacing the recorded ones. Bounded: at ``limit`` a new SYN is dropped and counted (the guest
/// retransmits it).
public struct TCPPendingOpenTable: Sendable {
  /// One pending open: the SYN's 4-tuple (the local address is the foreign destination) and
  /// what it carried.
  public struct Entry: Sendable, Equatable {
    /// Never reused: an answer for an open that went away finds nothing.
    public let id: UInt64
    public let tuple: TCPFourTuple
    public let synSequence: SequenceNumber
    public let synWindow: UInt16
    public let synOptions: TCPOptions
    public let received: Instant
  }

  /// What ``record(tuple:sequence:window:options:now:)`` did with a SYN.
  public enum Outcome: Sendable, Equatable {
    /// A new pending open, to be handed to the host side.
    case recorded(Entry)
    /// A retransmission of a pending open's SYN: nothing to do.
    case absorbed
    /// The table is full: the SYN is dropped.
    case full
  }

  /// Pending opens at most.
  public let limit: Int
  private var entries: [TCPFourTuple: Entry] = [:]
  private var tupleByID: [UInt64: TCPFourTuple] = [:]
  /// Recorded since the host side last took them (``takeRecorded()``).
  private var recorded: [UInt64] = []
  private var nextID: UInt64 = 1
  /// SYNs recorded as new pending opens.
  public private(set) var opens: UInt64 = 0
  /// Retransmitted SYNs of pending opens, absorbed.
  public private(set) var retransmissionsAbsorbed: UInt64 = 0
  /// SYNs dropped because the table was full.
  public private(set) var overflows: UInt64 = 0
  /// Pending opens the guest gave up (its RST).
  public private(set) var cancelled: UInt64 = 0

  /// A table of at most `limit` (at least 1) pending opens.
  public init(limit: Int) {
    self.limit = max(1, limit)
  }

  /// Pending opens now.
  public var count: Int { entries.count }

  /// The pending open of `tuple`, if any.
  public func entry(for tuple: TCPFourTuple) -> Entry? { entries[tuple] }

  /// Records a SYN (without ACK) for `tuple`.
  public mutating func record(
    tuple: TCPFourTuple, sequence: SequenceNumber, window: UInt16, options: TCPOptions,
    now: Instant
  ) -> Outcome {
    if let pending = entries[tuple] {
      // A retransmission, or the guest's new attempt on the same tuple with a new ISN: the
      // host side's connect stands, and the handshake is completed from this latest SYN, so
      // that the sequence number acknowledged and the timestamp echoed (RFC 7323 §4.3) are
      // the ones the guest now expects.
      entries[tuple] = Entry(
        id: pending.id, tuple: tuple, synSequence: sequence, synWindow: window,
        synOptions: options, received: pending.received)
      retransmissionsAbsorbed += 1
      return .absorbed
    }
    guard entries.count < limit else {
      overflows += 1
      return .full
    }
    let entry = Entry(
      id: nextID, tuple: tuple, synSequence: sequence, synWindow: window, synOptions: options,
      received: now)
    nextID += 1
    entries[tuple] = entry
    tupleByID[entry.id] = tuple
    recorded.append(entry.id)
    opens += 1
    return .recorded(entry)
  }

  /// The pending opens recorded since the last call that are still pending, oldest first.
  public mutating func takeRecorded() -> [Entry] {
    defer { recorded.removeAll(keepingCapacity: true) }
    return recorded.compactMap { id in tupleByID[id].flatMap { entries[$0] } }
  }

  /// Removes and returns pending open `id` (it is being answered).
  public mutating func remove(_ id: UInt64) -> Entry? {
    guard let tuple = tupleByID.removeValue(forKey: id) else { return nil }
    return entries.removeValue(forKey: tuple)
  }

  /// Removes the pending open of `tuple` because its guest reset it; true if there was one.
  public mutating func cancel(_ tuple: TCPFourTuple) -> Bool {
    guard let entry = entries.removeValue(forKey: tuple) else { return false }
    tupleByID[entry.id] = nil
    cancelled += 1
    return true
  }
}
