import NetCore
import NetSimulation
import NetStack

/// The deterministic throughput matrix of `netstack-sim matrix` (and `scripts/bench`): the
/// goodput of one TCP transfer between two Swift stacks over a rate-limited simulated link,
/// for each loss rate × round-trip time. Virtual time and seeded randomness, so the same code
/// prints the same table on any machine; the table is kept in `bench/throughput-matrix.txt`
/// so that a change that makes it worse shows in review.
struct ThroughputMatrix {
  /// Loss per direction, in parts per million: 0, 0.1, 1 and 5 %.
  var lossesPerMillion: [UInt64] = [0, 1_000, 10_000, 50_000]
  /// Round-trip times (the link's delay is half of it each way, plus serialization).
  var roundTrips: [Interval] = [.milliseconds(1), .milliseconds(10), .milliseconds(100)]
  /// The line rate of each direction.
  var bitsPerSecond: UInt64 = 1_000_000_000
  /// Bytes sent left to right in each cell.
  var bytes = 32 << 20
  var seed: UInt64 = 1

  /// One cell's outcome.
  struct Cell {
    var goodputMegabitsPerSecond: Double
    var retransmitted: UInt64
    var timeouts: UInt64
    var queueDrops: UInt64
    var failure: String?
  }

  /// The drop-tail queue of each direction for a round-trip time: one bandwidth-delay
  /// product (the classic rule of thumb), at least 64 full frames.
  func queueLimit(roundTrip: Interval) -> Int {
    let bandwidthDelay = Int(bitsPerSecond / 8) * Int(roundTrip.microseconds) / 1_000_000
    return max(bandwidthDelay, 64 * 1514)
  }

  func run(loss: UInt64, roundTrip: Interval) -> Cell {
    var impairment = ImpairmentConfiguration()
    impairment.lossPerMillion = loss
    impairment.delay = roundTrip / 2
    var network = SimulationCommand.network(
      impairment: impairment, seed: seed,
      rateLimit: LinkRateLimiter(
        bitsPerSecond: bitsPerSecond, queueLimit: queueLimit(roundTrip: roundTrip)))
    let result = TCPTransfer.run(
      network: &network, leftBytes: bytes, rightBytes: 0, seed: seed, timeLimit: .seconds(3600))
    var failure = result.failure
    if failure == nil && !(result.bytesIntact && result.closedCleanly) {
      failure = "did not close cleanly"
    }
    let seconds = Double(result.duration.nanoseconds) / 1e9
    return Cell(
      goodputMegabitsPerSecond: seconds > 0 ? Double(bytes) * 8 / seconds / 1e6 : 0,
      retransmitted: result.leftCounters.segmentsRetransmitted,
      timeouts: result.leftCounters.retransmissionTimeouts,
      queueDrops: network.queueDrops, failure: failure)
  }

  /// Runs every cell and prints the tables; returns false if a transfer failed.
  func printTable() -> Bool {
    let megabytes = Double(bytes) / Double(1 << 20)
    print("netstack-sim matrix: goodput of one TCP transfer between two netstack stacks")
    print(
      "(simulated link, virtual time: the same on every machine; regenerate with netstack-sim matrix)"
    )
    print(
      "transfer \(format(megabytes, decimals: 0)) MiB left to right, MTU 1500, seed \(seed); link \(format(Double(bitsPerSecond) / 1e9, decimals: 1)) Gbit/s each way"
    )
    print(
      "behind a drop-tail queue of one bandwidth-delay product (at least 64 frames); loss on both"
    )
    print("directions (data and ACKs); goodput = bytes / time from connect to both sides closed")
    var cells: [[Cell]] = []
    for loss in lossesPerMillion {
      cells.append(roundTrips.map { run(loss: loss, roundTrip: $0) })
    }
    var header = pad("loss \\ RTT", 10)
    for roundTrip in roundTrips {
      header += pad("\(roundTrip.milliseconds) ms", 24, right: true)
    }
    print()
    print("goodput, Mbit/s")
    print(header)
    for (row, loss) in lossesPerMillion.enumerated() {
      var line = pad(percent(loss), 10)
      for cell in cells[row] {
        line += pad(
          cell.failure == nil ? format(cell.goodputMegabitsPerSecond, decimals: 1) : "FAILED", 24,
          right: true)
      }
      print(line)
    }
    print()
    print(
      "sender's retransmitted segments / retransmission timeouts / frames dropped by the queues")
    print(header)
    for (row, loss) in lossesPerMillion.enumerated() {
      var line = pad(percent(loss), 10)
      for cell in cells[row] {
        line += pad(
          "\(cell.retransmitted) / \(cell.timeouts) / \(cell.queueDrops)", 24, right: true)
      }
      print(line)
    }
    var allPassed = true
    for (row, loss) in lossesPerMillion.enumerated() {
      for (column, roundTrip) in roundTrips.enumerated() {
        if let failure = cells[row][column].failure {
          allPassed = false
          print("FAILED: loss \(percent(loss)), RTT \(roundTrip.milliseconds) ms: \(failure)")
        }
      }
    }
    return allPassed
  }

  func percent(_ perMillion: UInt64) -> String {
    "\(format(Double(perMillion) / 10_000, decimals: perMillion % 10_000 == 0 ? 0 : 1)) %"
  }

  /// A number with a fixed count of decimals, without Foundation.
  func format(_ value: Double, decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int64((value * scale).rounded())
    let whole = scaled / Int64(scale)
    let fraction = scaled % Int64(scale)
    guard decimals > 0 else { return "\(whole)" }
    var digits = "\(fraction)"
    while digits.count < decimals { digits = "0" + digits }
    return "\(whole).\(digits)"
  }

  func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return right ? padding + text : text + padding
  }
}
