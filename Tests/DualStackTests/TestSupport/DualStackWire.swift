import IPv4
import IPv6
import NetCore
import NetStack
import TCP

/// Two dual-stack hosts on one in-memory wire, driven by a virtual clock: the IPv6 (and IPv4)
/// counterpart of NetSimulation's `SimulatedNetwork`. Each direction has a seeded
/// `FrameImpairer` (loss, duplication, reordering, corruption, delay), so a failing seed
/// replays exactly.
///
/// Host A is 10.0.0.1 and fd00:1::1, host B 10.0.0.2 and fd00:1::2; both have their
/// link-local addresses too. ``init(impairment:seed:)`` runs the clock until duplicate
/// address detection has made every address usable.
struct DualStackWire {
  static let ipv4A = IPv4Address(10, 0, 0, 1)
  static let ipv4B = IPv4Address(10, 0, 0, 2)
  static let ipv6A = IPv6Address(0xfd00, 1, 0, 0, 0, 0, 0, 1)
  static let ipv6B = IPv6Address(0xfd00, 1, 0, 0, 0, 0, 0, 2)
  static let macA = MACAddress(0x02, 0, 0, 0, 0, 0x0A)
  static let macB = MACAddress(0x02, 0, 0, 0, 0, 0x0B)

  var a: DualStackHost
  var b: DualStackHost
  private var aToB: FrameImpairer
  private var bToA: FrameImpairer
  private(set) var now = Instant.zero
  /// Whether ``framesFromA`` and ``framesFromB`` keep what each host puts on the wire.
  var recording = false
  private(set) var framesFromA: [[UInt8]] = []
  private(set) var framesFromB: [[UInt8]] = []
  /// A path MTU between the hosts: IP packets from A larger than this are dropped on the way,
  /// as a router with a smaller link drops them (it would also send a packet too big, which a
  /// test injects with ``inject(toA:version:)``).
  var pathMTUFromA: Int?
  /// Packets from A dropped for ``pathMTUFromA``.
  private(set) var droppedTooBig = 0

  init(
    impairment: ImpairmentConfiguration = ImpairmentConfiguration(), seed: UInt64 = 1,
    tcp: TCPConfiguration = TCPConfiguration()
  ) {
    a = DualStackHost(
      ipv4: IPv4CIDR(address: Self.ipv4A, prefixLength: 24),
      ipv6: IPv6CIDR(address: Self.ipv6A, prefixLength: 64), mac: Self.macA, peer: Self.macB,
      seed: seed &* 2 &+ 1, tcp: tcp)
    b = DualStackHost(
      ipv4: IPv4CIDR(address: Self.ipv4B, prefixLength: 24),
      ipv6: IPv6CIDR(address: Self.ipv6B, prefixLength: 64), mac: Self.macB, peer: Self.macA,
      seed: seed &* 2 &+ 2, tcp: tcp)
    // Detection runs on a clean wire: the impairments start once the hosts are up.
    aToB = FrameImpairer(configuration: ImpairmentConfiguration(), seed: 0)
    bToA = FrameImpairer(configuration: ImpairmentConfiguration(), seed: 0)
    run(until: .zero + .seconds(5))
    aToB = FrameImpairer(configuration: impairment, seed: seed &* 2 &+ 1)
    bToA = FrameImpairer(configuration: impairment, seed: seed &* 2 &+ 2)
  }

  /// Runs until `deadline`, or until `turn` returns false. `turn` runs once per step, after
  /// due frames were delivered and timers run: where a test's applications act. Time jumps to
  /// the next frame due or host deadline.
  mutating func run(until deadline: Instant, _ turn: (inout DualStackWire) -> Bool = { _ in true })
  {
    var stepsAtThisInstant = 0
    while now <= deadline {
      step()
      guard turn(&self) else { break }
      a.poll(now: now)
      b.poll(now: now)
      carry()
      let next = [aToB.nextDeadline, bToA.nextDeadline, a.nextDeadline, b.nextDeadline]
        .compactMap { $0 }.min()
      guard let next, next <= deadline else {
        now = deadline
        break
      }
      if next <= now {
        stepsAtThisInstant += 1
        precondition(stepsAtThisInstant < 100_000, "wire stuck at \(now)")
      } else {
        stepsAtThisInstant = 0
        now = next
      }
    }
  }

  /// Hands `packet` to host B as a frame from the wire (a captured packet, as if A sent it).
  mutating func inject(toB packet: [UInt8], version: UInt8) {
    let frame = [version, 0] + packet
    b.receive(frame.span, now: now)
  }

  /// Hands `packet` to host A as a frame from the wire.
  mutating func inject(toA packet: [UInt8], version: UInt8) {
    let frame = [version, 0] + packet
    a.receive(frame.span, now: now)
  }

  /// Delivers what is due, runs the timers and carries what was sent.
  private mutating func step() {
    carry()
    let time = now
    var toB: [PacketBuffer] = []
    var toA: [PacketBuffer] = []
    aToB.release(now: time) { toB.append($0) }
    bToA.release(now: time) { toA.append($0) }
    for frame in toB { frame.withBytes { b.receive($0, now: time) } }
    for frame in toA { frame.withBytes { a.receive($0, now: time) } }
    a.poll(now: now)
    b.poll(now: now)
    carry()
  }

  /// Puts what each host sent on the wire.
  private mutating func carry() {
    let time = now
    for frame in a.takeSent() {
      if recording { framesFromA.append(frame.withBytes { $0.copyToArray() }) }
      if let pathMTUFromA, frame.count - WireHeader.length > pathMTUFromA {
        droppedTooBig += 1
        continue
      }
      aToB.submit(frame, now: time)
    }
    for frame in b.takeSent() {
      if recording { framesFromB.append(frame.withBytes { $0.copyToArray() }) }
      bToA.submit(frame, now: time)
    }
  }
}
