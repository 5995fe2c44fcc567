import NetCore

/// How badly a link should behave, for tests: the fault injector's settings (as smoltcp's
/// examples offer, since these kernels have no netem). Text form, as `netstackd --impair`
/// takes it: `loss=3%,reorder=5%,duplicate=1%,corrupt=0.5%,delay=2ms`.
public struct ImpairmentConfiguration: Equatable, Sendable {
  /// Chance that a frame is dropped, per million.
  public var lossPerMillion: UInt64 = 0
  /// Chance that a frame is held back so that later frames overtake it, per million.
  public var reorderPerMillion: UInt64 = 0
  /// Chance that a frame is delivered twice, per million.
  public var duplicatePerMillion: UInt64 = 0
  /// Chance that one byte of a frame is flipped, per million.
  public var corruptPerMillion: UInt64 = 0
  /// Added to every frame's delivery time.
  public var delay = Interval.zero

  /// Nothing impaired.
  public init() {}

  /// Whether the configuration changes anything.
  public var isActive: Bool {
    lossPerMillion > 0 || reorderPerMillion > 0 || duplicatePerMillion > 0
      || corruptPerMillion > 0 || delay > .zero
  }

  /// Parses `key=value` pairs separated by commas; percentages may have decimals
  /// (`0.5%`), the delay takes `ms` or `us`.
  public init(parsing text: String) throws(ImpairmentParseError) {
    for item in text.utf8.split(separator: UInt8(ascii: ",")) {
      let parts = item.split(
        separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
      guard parts.count == 2 else { throw .badItem(String(decoding: item, as: UTF8.self)) }
      let key = String(decoding: parts[0], as: UTF8.self)
      let value = Array(parts[1])
      switch Array(parts[0]) {
      case Array("loss".utf8): lossPerMillion = try Self.percentage(value, key)
      case Array("reorder".utf8): reorderPerMillion = try Self.percentage(value, key)
      case Array("duplicate".utf8): duplicatePerMillion = try Self.percentage(value, key)
      case Array("corrupt".utf8): corruptPerMillion = try Self.percentage(value, key)
      case Array("delay".utf8): delay = try Self.duration(value, key)
      default: throw .unknownKey(key)
      }
    }
  }

  /// `3%`, `0.5%`, `100%` as parts per million.
  static func percentage(_ text: [UInt8], _ key: String) throws(ImpairmentParseError) -> UInt64 {
    guard text.last == UInt8(ascii: "%"), let perMillion = decimal(text.dropLast(), scale: 10_000),
      perMillion <= 1_000_000
    else { throw .badValue(key, String(decoding: text, as: UTF8.self)) }
    return perMillion
  }

  /// `2ms`, `500us`, `1.5ms`.
  static func duration(_ text: [UInt8], _ key: String) throws(ImpairmentParseError) -> Interval {
    if text.count > 2, text.suffix(2).elementsEqual("ms".utf8),
      let nanoseconds = decimal(text.dropLast(2), scale: 1_000_000)
    {
      return .nanoseconds(Int64(nanoseconds))
    }
    if text.count > 2, text.suffix(2).elementsEqual("us".utf8),
      let nanoseconds = decimal(text.dropLast(2), scale: 1_000)
    {
      return .nanoseconds(Int64(nanoseconds))
    }
    throw .badValue(key, String(decoding: text, as: UTF8.self))
  }

  /// A non-negative decimal number times `scale` (up to six fraction digits), or nil.
  static func decimal(_ text: ArraySlice<UInt8>, scale: UInt64) -> UInt64? {
    var whole: UInt64 = 0
    var fraction: UInt64 = 0
    var fractionScale: UInt64 = 1
    var seenPoint = false
    var digits = 0
    for byte in text {
      if byte == UInt8(ascii: ".") {
        guard !seenPoint else { return nil }
        seenPoint = true
        continue
      }
      guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 12 else { return nil }
      digits += 1
      let digit = UInt64(byte - UInt8(ascii: "0"))
      if seenPoint {
        guard fractionScale < 1_000_000 else { continue }
        fraction = fraction * 10 + digit
        fractionScale *= 10
      } else {
        whole = whole * 10 + digit
      }
    }
    guard digits > 0 else { return nil }
    return whole * scale + fraction * scale / fractionScale
  }
}

/// Why an impairment specification could not be parsed.
public enum ImpairmentParseError: Error, Equatable, Sendable {
  /// An item that is not `key=value`.
  case badItem(String)
  /// A key other than loss, reorder, duplicate, corrupt and delay.
  case unknownKey(String)
  /// A value its key does not take: the key, then the value.
  case badValue(String, String)
}

extension ImpairmentParseError: CustomStringConvertible {
  public var description: String {
    switch self {
    case .badItem(let item): "'\(item)' is not key=value"
    case .unknownKey(let key):
      "unknown impairment '\(key)' (expected loss, reorder, duplicate, corrupt, delay)"
    case .badValue(let key, let value):
      "'\(value)' is not a valid value for \(key) (percentages like 3% or 0.5%, delays like 2ms)"
    }
  }
}
