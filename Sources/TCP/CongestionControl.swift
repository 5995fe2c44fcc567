import NetCore

/// A congestion-control algorithm: how the congestion window grows with acknowledgments and
/// shrinks on loss (RFC 5681 §3). The connection decides *when* loss happened (duplicate
/// acknowledgments, SACK scoreboard, timeout) and tells the algorithm; the algorithm decides
/// *how much* to send.
public protocol CongestionControl: Sendable {
  /// cwnd, in bytes.
  var congestionWindow: Int { get }
  /// ssthresh, in bytes.
  var slowStartThreshold: Int { get }

  /// `bytes` of new data were acknowledged outside loss recovery. `rtt` is the current
  /// smoothed round-trip time, when known.
  mutating func acknowledged(bytes: Int, maximumSegmentSize: Int, rtt: Interval?, now: Instant)

  /// Loss was detected by duplicate acknowledgments or SACK: recovery starts (RFC 5681 §3.2
  /// step 2, RFC 6675 §5 step 4.2). `flightSize` is the data outstanding.
  mutating func lossDetected(flightSize: Int, maximumSegmentSize: Int, now: Instant)

  /// Loss recovery ended: every segment outstanding when it began is acknowledged.
  mutating func recoveryEnded(maximumSegmentSize: Int, now: Instant)

  /// The retransmission timer expired (RFC 5681 §3.1, equation 4; cwnd becomes one segment).
  mutating func timedOut(flightSize: Int, maximumSegmentSize: Int, now: Instant)
}

/// The congestion-control algorithms the stack has.
public enum CongestionAlgorithm: Equatable, Sendable {
  /// RFC 5681 with RFC 6582's NewReno recovery.
  case newReno
  /// RFC 9438, the default (as in Linux).
  case cubic
}

/// The initial window of RFC 6928: `min(10 × MSS, max(2 × MSS, 14600))`.
public func initialCongestionWindow(maximumSegmentSize mss: Int) -> Int {
  min(10 * mss, max(2 * mss, 14600))
}

/// One of the stack's algorithms, chosen per connection at run time (an enum rather than an
/// existential, so that it works in Embedded Swift and costs a switch, not an indirect call).
public enum CongestionController: CongestionControl {
  case newReno(NewReno)
  case cubic(CUBIC)

  /// A fresh controller for a connection whose MSS is `maximumSegmentSize`.
  public init(_ algorithm: CongestionAlgorithm, maximumSegmentSize: Int) {
    switch algorithm {
    case .newReno: self = .newReno(NewReno(maximumSegmentSize: maximumSegmentSize))
    case .cubic: self = .cubic(CUBIC(maximumSegmentSize: maximumSegmentSize))
    }
  }

  public var congestionWindow: Int {
    switch self {
    case .newReno(let algorithm): algorithm.congestionWindow
    case .cubic(let algorithm): algorithm.congestionWindow
    }
  }

  public var slowStartThreshold: Int {
    switch self {
    case .newReno(let algorithm): algorithm.slowStartThreshold
    case .cubic(let algorithm): algorithm.slowStartThreshold
    }
  }

  public mutating func acknowledged(
    bytes: Int, maximumSegmentSize: Int, rtt: Interval?, now: Instant
  ) {
    switch self {
    case .newReno(var algorithm):
      algorithm.acknowledged(
        bytes: bytes, maximumSegmentSize: maximumSegmentSize, rtt: rtt, now: now)
      self = .newReno(algorithm)
    case .cubic(var algorithm):
      algorithm.acknowledged(
        bytes: bytes, maximumSegmentSize: maximumSegmentSize, rtt: rtt, now: now)
      self = .cubic(algorithm)
    }
  }

  public mutating func lossDetected(flightSize: Int, maximumSegmentSize: Int, now: Instant) {
    switch self {
    case .newReno(var algorithm):
      algorithm.lossDetected(
        flightSize: flightSize, maximumSegmentSize: maximumSegmentSize, now: now)
      self = .newReno(algorithm)
    case .cubic(var algorithm):
      algorithm.lossDetected(
        flightSize: flightSize, maximumSegmentSize: maximumSegmentSize, now: now)
      self = .cubic(algorithm)
    }
  }

  public mutating func recoveryEnded(maximumSegmentSize: Int, now: Instant) {
    switch self {
    case .newReno(var algorithm):
      algorithm.recoveryEnded(maximumSegmentSize: maximumSegmentSize, now: now)
      self = .newReno(algorithm)
    case .cubic(var algorithm):
      algorithm.recoveryEnded(maximumSegmentSize: maximumSegmentSize, now: now)
      self = .cubic(algorithm)
    }
  }

  public mutating func timedOut(flightSize: Int, maximumSegmentSize: Int, now: Instant) {
    switch self {
    case .newReno(var algorithm):
      algorithm.timedOut(flightSize: flightSize, maximumSegmentSize: maximumSegmentSize, now: now)
      self = .newReno(algorithm)
    case .cubic(var algorithm):
      algorithm.timedOut(flightSize: flightSize, maximumSegmentSize: maximumSegmentSize, now: now)
      self = .cubic(algorithm)
    }
  }
}
