import NetCore

/// Puts fragmented IPv6 packets back together (RFC 8200 §4.5), with bounded memory, a timeout
/// and no tolerance for overlaps (RFC 5722).
///
/// Fragments are keyed by (source, destination, identification). Each fragment's data is
/// copied and kept until its packet is complete; the unfragmentable part (the headers before
/// the fragment header) and the next header come from the offset-zero fragment only, as §4.5
/// says. Bounds: at most ``Configuration/maximumPackets`` packets in progress (the oldest is
/// evicted for a new one), ``Configuration/maximumFragments`` pieces each, and
/// ``Configuration/maximumBytes`` held in all (the oldest packets are evicted to make room; a
/// fragment that still does not fit is dropped). What is held is charged to the memory budget
/// (`MemoryBudget/Use/reassembly`); with no room there, the fragment is dropped.
///
/// Rules of §4.5 and RFC 5722:
/// - a fragment that is not the last and whose length is not a multiple of 8 is refused with
///   parameter problem code 0 pointing at the Payload Length field;
/// - a fragment whose offset plus length passes 65,535 is refused with parameter problem code 0
///   pointing at its Fragment Offset field;
/// - a fragment that overlaps another of its packet (an exact duplicate excepted, which is
///   ignored) discards the whole packet, and its fragments still to come until the timeout,
///   silently;
/// - a packet not complete ``Configuration/timeout`` (60 s) after its first fragment arrived is
///   discarded; if its offset-zero fragment had arrived, ``poll(now:)`` hands it back so that
///   the caller can send time exceeded code 1 to its source.
///
/// Atomic fragments (offset 0, no more fragments) never come here (RFC 6946): the layer
/// processes them on their own.
public struct IPv6Reassembler {
  public struct Configuration: Sendable {
    /// How long the fragments of one packet are kept (RFC 8200 §4.5: 60 seconds).
    public var timeout = Interval.seconds(60)
    /// Packets reassembled at the same time.
    public var maximumPackets = 64
    /// Pieces one packet may arrive in.
    public var maximumFragments = 256
    /// Bytes held for all packets together, fragment data and bookkeeping (Linux's
    /// `ip6frag_high_thresh`: 4 MiB).
    public var maximumBytes = 4 << 20

    public init() {}
  }

  /// What became of a fragment.
  public enum Outcome {
    /// Kept; the packet is not complete yet.
    case incomplete
    /// The packet is complete: the buffer holds it whole, fixed header first, its fragment
    /// header removed and its payload length set, as if it had arrived unfragmented.
    case complete(PacketBuffer)
    /// An exact duplicate of a fragment already held; ignored.
    case duplicate
    /// The fragment was dropped (and with it, for some reasons, the packet it belongs to).
    case dropped(DropReason)
    /// The fragment breaks a length rule of RFC 8200 §4.5: drop it and send parameter
    /// problem code 0 with this pointer to its source.
    case parameterProblem(pointer: Int)
  }

  /// Why a fragment was dropped.
  public enum DropReason: Equatable, Sendable {
    /// It overlapped another fragment of its packet: the packet is discarded.
    case overlap
    /// Its offset and length contradict the packet's end, or its packet has too many pieces:
    /// the packet is discarded.
    case badFragment
    /// Its packet was already discarded.
    case discarded
    /// No room: the byte bound or the memory budget.
    case memory
    /// The reassembled packet would be longer than 65,535 bytes of payload: discarded.
    case tooLarge
    /// A fragment with no data.
    case empty
  }

  /// A packet that timed out with its offset-zero fragment received.
  public struct Expired {
    /// The source to tell.
    public var source: IPv6Address
    /// That fragment as it arrived (fixed header first), cut to what an ICMPv6 error quotes.
    public var firstFragment: [UInt8]
  }

  struct Key: Hashable {
    var source: IPv6Address
    var destination: IPv6Address
    var identification: UInt32
  }

  struct Piece {
    var range: Range<Int>
    var data: [UInt8]
  }

  struct Packet {
    var key: Key
    var created: Instant
    var deadline: Instant
    /// False once the packet has been discarded (its later fragments are swallowed).
    var isLive = true
    /// Data received, sorted by offset, never overlapping.
    var pieces: [Piece] = []
    /// The headers before the fragment header, from the offset-zero fragment, with the next
    /// header field that named the fragment header rewritten to the fragment's next header.
    var unfragmentablePart: [UInt8]?
    /// The offset-zero fragment as received, for time exceeded.
    var firstFragment: [UInt8]?
    /// Length of the fragmentable part, once the last fragment has arrived.
    var fragmentableLength: Int?
    var bytesReceived = 0
    /// Bytes charged for this packet.
    var charge = 0
  }

  /// What each piece costs besides its data (an array's header, the bookkeeping).
  static let pieceOverhead = 64
  /// The most of a first fragment kept for an ICMPv6 error: 1280 − 40 − 8 (RFC 4443 §2.4 c).
  static let quoteLimit = IPv6Header.minimumMTU - IPv6Header.length - ICMPv6Header.length

  public let configuration: Configuration
  private var packets: [Packet] = []
  /// Packets in progress evicted for newer ones or for room.
  public private(set) var evictions: UInt64 = 0
  /// Bytes held now (charged to the budget).
  public private(set) var bytesHeld = 0
  let budget: MemoryBudget

  public init(configuration: Configuration = Configuration(), budget: MemoryBudget = MemoryBudget())
  {
    precondition(
      configuration.maximumPackets > 0 && configuration.maximumFragments > 0
        && configuration.maximumBytes > 0)
    self.configuration = configuration
    self.budget = budget
  }

  /// Packets in progress (discarded ones waiting out their timeout included).
  public var count: Int { packets.count }

  /// Adds one fragment. `packet` is the whole received packet (fixed header first), whose
  /// fragment header `header` is at `fragmentHeaderOffset`, named by the Next Header field at
  /// `nextHeaderFieldOffset`.
  public mutating func add(
    _ packet: Span<UInt8>, header: IPv6FragmentHeader, fragmentHeaderOffset: Int,
    nextHeaderFieldOffset: Int, now: Instant
  ) -> Outcome {
    let dataStart = fragmentHeaderOffset + IPv6FragmentHeader.length
    precondition(dataStart <= packet.count && nextHeaderFieldOffset < fragmentHeaderOffset)
    let data = packet.extracting(dataStart..<packet.count)
    if header.moreFragments && data.count % 8 != 0 {
      return .parameterProblem(pointer: IPv6Packet.Field.payloadLength)
    }
    let range = header.fragmentOffset..<(header.fragmentOffset + data.count)
    if range.upperBound > IPv6Header.maximumPayloadLength {
      return .parameterProblem(
        pointer: fragmentHeaderOffset + IPv6FragmentHeader.Field.offsetAndFlags)
    }
    if range.isEmpty { return .dropped(.empty) }

    let key = Key(
      source: IPv6Address(packet, at: IPv6Packet.Field.source),
      destination: IPv6Address(packet, at: IPv6Packet.Field.destination),
      identification: header.identification)
    let position: Int
    if let existing = packets.firstIndex(where: { $0.key == key }) {
      position = existing
    } else {
      if packets.count >= configuration.maximumPackets { evictOldest() }
      packets.append(
        Packet(key: key, created: now, deadline: now + configuration.timeout))
      position = packets.count - 1
    }
    guard packets[position].isLive else { return .dropped(.discarded) }

    // Ends that contradict each other.
    let isLast = !header.moreFragments
    if isLast {
      if let known = packets[position].fragmentableLength, known != range.upperBound {
        return discard(position, .badFragment)
      }
      if let lastPiece = packets[position].pieces.last,
        lastPiece.range.upperBound > range.upperBound
      {
        return discard(position, .badFragment)
      }
    } else if let known = packets[position].fragmentableLength, range.upperBound > known {
      return discard(position, .badFragment)
    }

    // Overlaps: an exact duplicate is ignored, anything else discards the packet.
    var insertAt = packets[position].pieces.count
    for (index, piece) in packets[position].pieces.enumerated() {
      if piece.range == range { return .duplicate }
      if piece.range.overlaps(range) { return discard(position, .overlap) }
      if piece.range.lowerBound > range.lowerBound {
        insertAt = index
        break
      }
    }
    guard packets[position].pieces.count < configuration.maximumFragments else {
      return discard(position, .badFragment)
    }

    // Room for what this fragment adds.
    let isFirst = range.lowerBound == 0
    let quoteLength = min(packet.count, IPv6Reassembler.quoteLimit)
    let cost =
      data.count + IPv6Reassembler.pieceOverhead
      + (isFirst ? fragmentHeaderOffset + quoteLength : 0)
    guard makeRoom(cost, keeping: key), budget.reserve(cost, for: .reassembly) else {
      return .dropped(.memory)
    }
    // Evictions may have moved the packet.
    guard let index = packets.firstIndex(where: { $0.key == key }) else {
      budget.release(cost, for: .reassembly)
      return .dropped(.memory)
    }
    bytesHeld += cost
    packets[index].charge += cost
    if isLast { packets[index].fragmentableLength = range.upperBound }
    packets[index].pieces.insert(Piece(range: range, data: data.copyToArray()), at: insertAt)
    packets[index].bytesReceived += data.count
    if isFirst {
      var unfragmentable = packet.extracting(0..<fragmentHeaderOffset).copyToArray()
      unfragmentable[nextHeaderFieldOffset] = header.nextHeader.rawValue
      packets[index].unfragmentablePart = unfragmentable
      packets[index].firstFragment = packet.extracting(0..<quoteLength).copyToArray()
    }

    let current = packets[index]
    guard let unfragmentable = current.unfragmentablePart,
      let fragmentableLength = current.fragmentableLength
    else { return .incomplete }
    let payloadLength = unfragmentable.count - IPv6Header.length + fragmentableLength
    if payloadLength > IPv6Header.maximumPayloadLength {
      return discard(index, .tooLarge)
    }
    guard current.bytesReceived == fragmentableLength else { return .incomplete }

    // Complete: the unfragmentable part, then the pieces in order.
    packets.remove(at: index)
    release(current.charge)
    let whole = PacketBuffer(
      capacity: unfragmentable.count + fragmentableLength, headroom: 0)
    whole.append(copying: unfragmentable.span)
    for piece in current.pieces { whole.append(copying: piece.data.span) }
    whole.withMutableBytes { bytes in
      bytes.setUInt16(UInt16(payloadLength), at: IPv6Packet.Field.payloadLength)
    }
    return .complete(whole)
  }

  /// Drops the packets whose time is up; returns those whose offset-zero fragment had
  /// arrived, for time exceeded.
  public mutating func poll(now: Instant) -> [Expired] {
    var expired: [Expired] = []
    var released = 0
    packets.removeAll { packet in
      guard packet.deadline <= now else { return false }
      released += packet.charge
      if packet.isLive, let first = packet.firstFragment {
        expired.append(Expired(source: packet.key.source, firstFragment: first))
      }
      return true
    }
    release(released)
    return expired
  }

  /// When the oldest packet times out.
  public var nextDeadline: Instant? {
    packets.reduce(nil) { Instant.earliest($0, $1.deadline) }
  }

  /// Evicts the oldest packets other than `key`'s until `cost` more bytes fit under the
  /// bound; false if they cannot.
  private mutating func makeRoom(_ cost: Int, keeping key: Key) -> Bool {
    guard cost <= configuration.maximumBytes else { return false }
    while bytesHeld + cost > configuration.maximumBytes {
      guard
        let oldest = packets.indices.filter({ packets[$0].key != key && packets[$0].charge > 0 })
          .min(by: { packets[$0].created < packets[$1].created })
      else { return false }
      release(packets[oldest].charge)
      packets.remove(at: oldest)
      evictions += 1
    }
    return true
  }

  /// Evicts the packet that started longest ago.
  private mutating func evictOldest() {
    guard let oldest = packets.indices.min(by: { packets[$0].created < packets[$1].created })
    else { return }
    release(packets[oldest].charge)
    packets.remove(at: oldest)
    evictions += 1
  }

  /// Frees the packet's data but keeps its key until the timeout, so that its remaining
  /// fragments are dropped too (RFC 5722).
  private mutating func discard(_ position: Int, _ reason: DropReason) -> Outcome {
    release(packets[position].charge)
    packets[position].charge = 0
    packets[position].isLive = false
    packets[position].pieces = []
    packets[position].unfragmentablePart = nil
    packets[position].firstFragment = nil
    return .dropped(reason)
  }

  private mutating func release(_ bytes: Int) {
    guard bytes > 0 else { return }
    bytesHeld -= bytes
    budget.release(bytes, for: .reassembly)
  }
}
