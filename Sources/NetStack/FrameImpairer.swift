import NetCore

/// A fault injector for one direction of a link: drops, duplicates, corrupts, delays and
/// reorders frames according to an ``ImpairmentConfiguration``, from a seeded random source
/// so that a run can be replayed exactly.
///
/// Frames go in with ``submit(_:now:)-(Span<UInt8>,_)`` (or a `PacketBuffer`) and come out,
/// when due, from ``release(now:_:)``. Held frames are bounded; past the bound new frames are
/// dropped (and counted).
public struct FrameImpairer {
  /// What is done to frames.
  public let configuration: ImpairmentConfiguration
  private var random: PseudoRandomGenerator
  /// Frames in flight, ordered by delivery time (frames due at the same time stay in
  /// submission order).
  private var inFlight: [(due: Instant, frame: PacketBuffer)] = []
  /// The most frames held at once.
  public let limit: Int

  public private(set) var framesDropped: UInt64 = 0
  public private(set) var framesDuplicated: UInt64 = 0
  public private(set) var framesCorrupted: UInt64 = 0
  public private(set) var framesReordered: UInt64 = 0
  public private(set) var framesOverflowed: UInt64 = 0

  /// An impairer doing what `configuration` says, its random choices seeded by `seed`, holding
  /// at most `limit` frames (held for delay or reordering) at once.
  public init(configuration: ImpairmentConfiguration, seed: UInt64, limit: Int = 65536) {
    self.configuration = configuration
    random = PseudoRandomGenerator(seed: seed)
    self.limit = limit
  }

  /// How long a reordered frame is held back beyond the normal delay: long enough for a few
  /// following frames to overtake it.
  private var reorderHold: Interval {
    max(configuration.delay, .microseconds(500)) * 2
  }

  /// Takes a frame into the impaired link (a copy of it: the bytes are only borrowed).
  public mutating func submit(_ frame: Span<UInt8>, now: Instant) {
    submit(PacketBuffer(copying: frame, headroom: 0), now: now)
  }

  /// Delays a frame (more, if it is to be reordered) and queues it by its due time.
  private mutating func hold(_ buffer: PacketBuffer, now: Instant) {
    var due = now + configuration.delay
    if random.chance(perMillion: configuration.reorderPerMillion) {
      due += reorderHold
      framesReordered += 1
    }
    guard inFlight.count < limit else {
      framesOverflowed += 1
      return
    }
    // Usually the latest: insert from the back, after every frame due no later.
    var position = inFlight.count
    while position > 0 && inFlight[position - 1].due > due { position -= 1 }
    inFlight.insert((due, buffer), at: position)
  }

  /// Takes a frame the stack sends into the impaired link, keeping its offload request: a
  /// frame that is not corrupted is held as it is (no copy); one that is gets its offloaded
  /// checksum completed first, so that the damage shows at the other end instead of being
  /// covered by a checksum computed afterwards.
  public mutating func submit(_ packet: PacketBuffer, now: Instant) {
    if random.chance(perMillion: configuration.lossPerMillion) {
      framesDropped += 1
      return
    }
    var copies = 1
    if random.chance(perMillion: configuration.duplicatePerMillion) {
      copies = 2
      framesDuplicated += 1
    }
    for _ in 0..<copies {
      var held = packet
      if random.chance(perMillion: configuration.corruptPerMillion), packet.count > 0 {
        // A copy with the same headroom keeps the offload's storage positions valid.
        held = packet.withBytes { PacketBuffer(copying: $0, headroom: packet.headroom) }
        held.offload = packet.offload
        held.completeOffloadedChecksum()
        held.offload = .none
        let position = Int(random.next(below: UInt64(held.count)))
        let flip = UInt8(truncatingIfNeeded: random.next(below: 255) + 1)
        held.withMutableBytes { $0[position] ^= flip }
        framesCorrupted += 1
      }
      hold(held, now: now)
    }
  }

  /// Hands every frame due by `now` to `deliver`, earliest first (ties in submission order).
  public mutating func release(now: Instant, _ deliver: (PacketBuffer) -> Void) {
    var released = 0
    while released < inFlight.count, inFlight[released].due <= now {
      deliver(inFlight[released].frame)
      released += 1
    }
    if released > 0 { inFlight.removeFirst(released) }
  }

  /// When the next held frame is due.
  public var nextDeadline: Instant? { inFlight.first?.due }

  /// Frames held now.
  public var count: Int { inFlight.count }
}
