import NetCore

/// Puts fragmented datagrams back together (RFC 791 §3.2, RFC 815), with bounded memory, a
/// timeout, and no tolerance for overlaps.
///
/// Fragments are keyed by (source, destination, protocol, identification). Each datagram in
/// progress has one buffer big enough for the largest datagram; at most
/// `maximumDatagrams` are in progress (the oldest is evicted for a new one) and each may have
/// at most `maximumFragments` pieces. A fragment that overlaps another of the same datagram,
/// other than an exact duplicate, gets the whole datagram discarded, together with any of its
/// fragments still to come until the timeout (the caution of RFC 5722, as Linux applies it to
/// IPv4). A datagram not complete after `timeout` is dropped; if its first fragment had
/// arrived, ``poll(now:)`` hands back its start so that the caller can send ICMP time
/// exceeded (RFC 792, RFC 1122 §3.2.1.4). Each buffer is charged to the stack's memory budget
/// (`MemoryBudget/Use/reassembly`) while it is held; with no room in the budget, the
/// datagram is dropped.
public struct IPv4Reassembler {
  public struct Configuration: Sendable {
    /// How long fragments of one datagram are kept (Linux: 30 s).
    public var timeout = Interval.seconds(30)
    /// Datagrams reassembled at the same time; each holds a 64 KiB buffer.
    public var maximumDatagrams = 16
    /// Pieces one datagram may arrive in.
    public var maximumFragments = 256

    public init() {}
  }

  /// What became of a fragment.
  public enum Outcome {
    /// Kept; the datagram is not complete yet.
    case incomplete
    /// The datagram is complete: the buffer holds it whole, header first, as if it had
    /// arrived unfragmented.
    case complete(PacketBuffer)
    /// A duplicate of a fragment already held; ignored.
    case duplicate
    /// The fragment was dropped, and with it the datagram it belongs to.
    case dropped(DropReason)
  }

  /// Why a fragment was dropped.
  public enum DropReason: Equatable, Sendable {
    /// It overlapped another fragment of its datagram.
    case overlap
    /// Its offset and length are impossible (past 65535, not a multiple of 8, past the end).
    case badFragment
    /// Its datagram was already discarded.
    case discarded
    /// The memory budget had no room for another datagram.
    case memory
  }

  /// A datagram that timed out; `quote` is its header and first 8 payload bytes when the
  /// first fragment had arrived (for ICMP time exceeded).
  public struct Expired {
    /// The first fragment's header, when it had arrived.
    public var firstHeader: IPv4Header?
    /// That fragment's header bytes and up to 8 bytes of its payload, for the ICMP message.
    public var quote: [UInt8]
    /// The first payload byte (an ICMP type, if the datagram is ICMP), when there is one.
    public var firstPayloadByte: UInt8?
  }

  struct Key: Hashable {
    var source: IPv4Address
    var destination: IPv4Address
    var protocolNumber: IPProtocolNumber
    var identification: UInt16
  }

  struct Datagram {
    var key: Key
    var created: Instant
    var deadline: Instant
    /// Nil once the datagram has been discarded (its later fragments are swallowed).
    var buffer: PacketBuffer?
    /// Header length of the first fragment, once it has arrived.
    var headerLength: Int?
    /// The first fragment's header, once it has arrived.
    var firstHeader: IPv4Header?
    /// Payload length, once the last fragment has arrived.
    var payloadLength: Int?
    /// Payload ranges received, sorted by start, never overlapping.
    var pieces: [Range<Int>] = []
    var bytesReceived = 0
  }

  /// Where the payload starts in a reassembly buffer: room for the largest header before it.
  static let payloadStart = 60
  static let bufferCapacity = payloadStart + IPv4Header.maximumDatagramLength

  public let configuration: Configuration
  private var datagrams: [Datagram] = []
  /// Datagrams in progress evicted for newer ones.
  public private(set) var evictions: UInt64 = 0
  let budget: MemoryBudget

  public init(configuration: Configuration = Configuration(), budget: MemoryBudget = MemoryBudget())
  {
    precondition(configuration.maximumDatagrams > 0 && configuration.maximumFragments > 0)
    self.configuration = configuration
    self.budget = budget
  }

  /// Datagrams in progress (discarded ones waiting out their timeout included).
  public var count: Int { datagrams.count }

  /// Bytes of buffer held.
  public var bytesHeld: Int {
    datagrams.reduce(0) { $0 + ($1.buffer == nil ? 0 : IPv4Reassembler.bufferCapacity) }
  }

  /// Adds one fragment.
  public mutating func add(_ fragment: borrowing IPv4Packet, now: Instant) -> Outcome {
    let key = Key(
      source: fragment.source, destination: fragment.destination,
      protocolNumber: fragment.protocolNumber, identification: fragment.identification)
    let payload = fragment.payload
    let range = fragment.fragmentOffset..<(fragment.fragmentOffset + payload.count)
    let isLast = !fragment.moreFragments
    guard
      let position = datagrams.firstIndex(where: { $0.key == key }) ?? startDatagram(key, now: now)
    else { return .dropped(.memory) }
    guard let buffer = datagrams[position].buffer else { return .dropped(.discarded) }

    // Offsets and lengths that no real sender produces.
    let largestPayload = IPv4Header.maximumDatagramLength - fragment.headerLength
    if range.isEmpty || range.upperBound > largestPayload || (!isLast && range.count % 8 != 0) {
      return discard(position, .badFragment)
    }
    if isLast {
      if let known = datagrams[position].payloadLength, known != range.upperBound {
        return discard(position, .badFragment)
      }
      if let lastPiece = datagrams[position].pieces.last, lastPiece.upperBound > range.upperBound {
        return discard(position, .badFragment)
      }
      datagrams[position].payloadLength = range.upperBound
    } else if let known = datagrams[position].payloadLength, range.upperBound > known {
      return discard(position, .badFragment)
    }

    // Overlaps: an exact duplicate is ignored, anything else poisons the datagram.
    var insertAt = datagrams[position].pieces.count
    for (index, piece) in datagrams[position].pieces.enumerated() {
      if piece == range { return .duplicate }
      if piece.overlaps(range) { return discard(position, .overlap) }
      if piece.lowerBound > range.lowerBound {
        insertAt = index
        break
      }
    }
    guard datagrams[position].pieces.count < configuration.maximumFragments else {
      return discard(position, .badFragment)
    }
    datagrams[position].pieces.insert(range, at: insertAt)
    datagrams[position].bytesReceived += range.count

    let payloadStart = IPv4Reassembler.payloadStart
    buffer.withUnsafeStorage { storage, _ in
      payload.withUnsafeBufferPointer { source in
        guard let from = source.baseAddress else { return }
        storage.baseAddress!.advanced(by: payloadStart + range.lowerBound)
          .copyMemory(from: from, byteCount: source.count)
      }
    }
    if range.lowerBound == 0 {
      let headerLength = fragment.headerLength
      datagrams[position].headerLength = headerLength
      datagrams[position].firstHeader = fragment.header
      let header = fragment.bytes.extracting(0..<headerLength)
      buffer.withUnsafeStorage { storage, _ in
        header.withUnsafeBufferPointer { source in
          storage.baseAddress!.advanced(by: payloadStart - headerLength)
            .copyMemory(from: source.baseAddress!, byteCount: headerLength)
        }
      }
    }

    let datagram = datagrams[position]
    // The first fragment's options count against the 65535 bytes too: a last fragment checked
    // against its own 20-byte header can still end too far for a first header with options.
    if let headerLength = datagram.headerLength, let payloadLength = datagram.payloadLength,
      headerLength + payloadLength > IPv4Header.maximumDatagramLength
    {
      return discard(position, .badFragment)
    }
    guard let headerLength = datagram.headerLength, let payloadLength = datagram.payloadLength,
      datagram.bytesReceived == payloadLength
    else { return .incomplete }
    datagrams.remove(at: position)
    budget.release(IPv4Reassembler.bufferCharge, for: .reassembly)
    buffer.setRange((payloadStart - headerLength)..<(payloadStart + payloadLength))
    buffer.withMutableBytes { bytes in
      typealias Field = IPv4Packet.Field
      bytes.setUInt16(UInt16(headerLength + payloadLength), at: Field.totalLength)
      bytes.setUInt16(0, at: Field.flagsAndFragmentOffset)
      bytes.setUInt16(0, at: Field.checksum)
      let checksum = InternetChecksum.compute(bytes.span.extracting(0..<headerLength))
      bytes.setUInt16(checksum, at: Field.checksum)
    }
    return .complete(buffer)
  }

  /// Drops datagrams whose time is up.
  public mutating func poll(now: Instant) -> [Expired] {
    var expired: [Expired] = []
    let budget = self.budget
    datagrams.removeAll { datagram in
      guard datagram.deadline <= now else { return false }
      if let buffer = datagram.buffer {
        budget.release(IPv4Reassembler.bufferCharge, for: .reassembly)
        var quote: [UInt8] = []
        var firstPayloadByte: UInt8? = nil
        if let headerLength = datagram.headerLength {
          let payloadStart = IPv4Reassembler.payloadStart
          let quoted = min(8, datagram.pieces.first?.count ?? 0)
          buffer.withUnsafeStorage { storage, _ in
            quote = Array(storage[(payloadStart - headerLength)..<(payloadStart + quoted)])
            if quoted > 0 { firstPayloadByte = storage[payloadStart] }
          }
        }
        expired.append(
          Expired(
            firstHeader: datagram.firstHeader, quote: quote, firstPayloadByte: firstPayloadByte))
      }
      return true
    }
    return expired
  }

  /// When the oldest datagram times out.
  public var nextDeadline: Instant? {
    datagrams.reduce(nil) { Instant.earliest($0, $1.deadline) }
  }

  /// What a datagram's buffer is charged.
  static let bufferCharge = bufferCapacity + 64

  /// A new datagram in progress, its buffer charged; nil if the budget has no room.
  private mutating func startDatagram(_ key: Key, now: Instant) -> Int? {
    if datagrams.count >= configuration.maximumDatagrams,
      let oldest = datagrams.indices.min(by: { datagrams[$0].created < datagrams[$1].created })
    {
      let evicted = datagrams.remove(at: oldest)
      if evicted.buffer != nil { budget.release(IPv4Reassembler.bufferCharge, for: .reassembly) }
      evictions += 1
    }
    guard budget.reserve(IPv4Reassembler.bufferCharge, for: .reassembly) else { return nil }
    datagrams.append(
      Datagram(
        key: key, created: now, deadline: now + configuration.timeout,
        buffer: PacketBuffer(capacity: IPv4Reassembler.bufferCapacity, headroom: 0)))
    return datagrams.count - 1
  }

  /// Frees the datagram's buffer but keeps its key until the timeout, so that its remaining
  /// fragments are dropped too.
  private mutating func discard(_ position: Int, _ reason: DropReason) -> Outcome {
    if datagrams[position].buffer != nil {
      budget.release(IPv4Reassembler.bufferCharge, for: .reassembly)
    }
    datagrams[position].buffer = nil
    datagrams[position].pieces = []
    return .dropped(reason)
  }
}
