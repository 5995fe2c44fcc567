import Glibc
import IPv4
import NetCore
import NetSimulation
import NetStack
import TCP

/// `netstack-sim`: runs the deterministic simulation from the command line, for debugging a
/// seed and for the throughput matrix.
///
///     netstack-sim transfer [--impair LIST] [--seed N] [--seeds N] [--bytes N] [--trace]
///     netstack-sim matrix [--bytes N] [--seed N]
///
/// `matrix` prints the goodput table of ``ThroughputMatrix`` (loss × round-trip time on a
/// rate-limited link) and exits with status 1 if a transfer in it failed.
@main
struct SimulationCommand {
  static func main() {
    var arguments = Array(CommandLine.arguments.dropFirst())
    guard !arguments.isEmpty else {
      print(
        "usage: netstack-sim transfer [--impair LIST] [--seed N] [--seeds N] [--bytes N] [--trace]\n"
          + "       netstack-sim matrix [--bytes N] [--seed N]")
      return
    }
    let command = arguments.removeFirst()
    var impairment = ImpairmentConfiguration()
    var seed: UInt64 = 1
    var seeds: UInt64 = 1
    var bytes: Int? = nil
    var trace = false
    while !arguments.isEmpty {
      let option = arguments.removeFirst()
      func value() -> String { arguments.isEmpty ? "" : arguments.removeFirst() }
      switch option {
      case "--impair": impairment = (try? ImpairmentConfiguration(parsing: value())) ?? impairment
      case "--seed": seed = UInt64(value()) ?? 1
      case "--seeds": seeds = UInt64(value()) ?? 1
      case "--bytes": bytes = Int(value()) ?? bytes
      case "--trace": trace = true
      default: print("unknown option \(option)")
      }
    }
    switch command {
    case "transfer":
      var failures = 0
      for run in seed..<(seed + seeds) {
        if !transfer(impairment: impairment, seed: run, bytes: bytes ?? 1 << 20, trace: trace) {
          failures += 1
        }
      }
      print("\(seeds - UInt64(failures))/\(seeds) seeds passed")
    case "matrix":
      var matrix = ThroughputMatrix()
      matrix.seed = seed
      if let bytes { matrix.bytes = bytes }
      if !matrix.printTable() { exit(1) }
    default:
      print("unknown command \(command)")
    }
  }

  static func network(
    impairment: ImpairmentConfiguration, seed: UInt64, rateLimit: LinkRateLimiter? = nil
  ) -> SimulatedNetwork {
    SimulatedNetwork(
      left: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 1),
        address: IPv4CIDR(address: IPv4Address(10, 0, 0, 1), prefixLength: 24), seed: seed),
      right: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 2),
        address: IPv4CIDR(address: IPv4Address(10, 0, 0, 2), prefixLength: 24), seed: seed &+ 7),
      impairment: impairment, seed: seed, rateLimit: rateLimit)
  }

  static func transfer(impairment: ImpairmentConfiguration, seed: UInt64, bytes: Int, trace: Bool)
    -> Bool
  {
    var network = network(impairment: impairment, seed: seed)
    if trace {
      network.trace = { side, frame, now in
        print(describe(frame, side: side, now: now))
      }
    }
    let result = TCPTransfer.run(
      network: &network, leftBytes: bytes, rightBytes: bytes / 2, seed: seed)
    let left = result.leftCounters
    let right = result.rightCounters
    print(
      "seed \(seed): \(result.bytesIntact && result.closedCleanly ? "ok" : "FAILED") in \(result.duration); retransmitted \(left.segmentsRetransmitted)/\(right.segmentsRetransmitted), timeouts \(left.retransmissionTimeouts)/\(right.retransmissionTimeouts), fast retransmits \(left.fastRetransmits)/\(right.fastRetransmits)\(result.failure.map { "; \($0)" } ?? "")"
    )
    return result.bytesIntact && result.closedCleanly
  }

  /// One line per TCP segment: time, direction, flags, numbers, SACK blocks.
  static func describe(_ frame: Span<UInt8>, side: SimulatedNetwork.Side, now: Instant) -> String {
    let direction = side == .left ? "L>" : "<R"
    guard frame.count > 14,
      let packet = try? IPv4Packet(checking: frame.extracting(droppingFirst: 14))
    else {
      return "\(now.nanoseconds / 1000)us \(direction) non-IPv4 frame"
    }
    guard packet.protocolNumber == .tcp, let segment = try? TCPSegment(checking: packet.payload)
    else {
      return
        "\(now.nanoseconds / 1000)us \(direction) IPv4 protocol \(packet.protocolNumber.rawValue)"
    }
    let sack = segment.options.sackBlocks.map { "\($0.left)-\($0.right)" }.joined(separator: ",")
    return
      "\(now.nanoseconds / 1000)us \(direction) \(segment.flags) seq=\(segment.sequenceNumber) ack=\(segment.acknowledgmentNumber) len=\(segment.payload.count) win=\(segment.window)\(sack.isEmpty ? "" : " sack=\(sack)")"
  }
}
