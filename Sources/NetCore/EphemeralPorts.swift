/// The ports a stack hands out when an application does not choose one (RFC 6056 §3.3.1's
/// simple randomisation: start at a random port of the range and take the first free one).
public struct EphemeralPorts: Sendable {
  public let range: ClosedRange<UInt16>

  public init(_ range: ClosedRange<UInt16>) {
    self.range = range
  }

  /// A port of the range for which `isFree` holds, or nil when none does.
  public func pick(using random: inout PseudoRandomGenerator, isFree: (UInt16) -> Bool) -> UInt16? {
    let size = Int(range.upperBound) - Int(range.lowerBound) + 1
    let start = Int(random.next(below: UInt64(size)))
    for step in 0..<size {
      let port = UInt16(Int(range.lowerBound) + (start + step) % size)
      if isFree(port) { return port }
    }
    return nil
  }
}
