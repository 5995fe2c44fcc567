/// The state of one end of a split device, as each end writes it to its `state` key in
/// xenstore (`enum xenbus_state`, xen/io/xenbus.h). An open set: unknown numbers round-trip.
public struct XenbusState: RawRepresentable, Hashable, Sendable {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  /// `XenbusStateUnknown`.
  public static let unknown = XenbusState(rawValue: 0)
  /// `XenbusStateInitialising`: the end is setting itself up.
  public static let initialising = XenbusState(rawValue: 1)
  /// `XenbusStateInitWait`: early setup done, waiting for the peer (a back end waits here
  /// for the front end's ring references).
  public static let initWait = XenbusState(rawValue: 2)
  /// `XenbusStateInitialised`: waiting for a connection from the peer.
  public static let initialised = XenbusState(rawValue: 3)
  /// `XenbusStateConnected`.
  public static let connected = XenbusState(rawValue: 4)
  /// `XenbusStateClosing`: the device is going away (an error or an unplug).
  public static let closing = XenbusState(rawValue: 5)
  /// `XenbusStateClosed`.
  public static let closed = XenbusState(rawValue: 6)
  /// `XenbusStateReconfiguring`.
  public static let reconfiguring = XenbusState(rawValue: 7)
  /// `XenbusStateReconfigured`.
  public static let reconfigured = XenbusState(rawValue: 8)

  /// The state written in xenstore (decimal digits), or nil when the text is not a number.
  public init?(xenstoreValue: String) {
    guard let number = XenstoreValue.unsigned(xenstoreValue), number <= UInt64(UInt32.max) else {
      return nil
    }
    rawValue = UInt32(number)
  }

  /// The value to write in xenstore.
  public var xenstoreValue: String { XenstoreValue.decimal(UInt64(rawValue)) }
}

extension XenbusState: CustomStringConvertible {
  public var description: String {
    switch rawValue {
    case 0: "Unknown"
    case 1: "Initialising"
    case 2: "InitWait"
    case 3: "Initialised"
    case 4: "Connected"
    case 5: "Closing"
    case 6: "Closed"
    case 7: "Reconfiguring"
    case 8: "Reconfigured"
    default: "state \(rawValue)"
    }
  }
}

/// Xenstore values are text; these read and write the forms netif uses without `String`
/// comparison (which would pull Unicode tables into an embedded image).
public enum XenstoreValue {
  /// A decimal number without sign, spaces or a trailing newline; nil otherwise.
  public static func unsigned(_ text: String) -> UInt64? {
    var value: UInt64 = 0
    var digits = 0
    for byte in text.utf8 {
      guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
      let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
      guard !overflow1, !overflow2 else { return nil }
      value = sum
      digits += 1
    }
    return digits > 0 ? value : nil
  }

  /// A feature flag as back ends write them: true for a number other than 0 (Linux's
  /// `xenbus_read_unsigned(..., 0) != 0`); false when absent or not a number.
  public static func flag(_ text: String?) -> Bool {
    guard let text, let value = unsigned(text) else { return false }
    return value != 0
  }

  /// The decimal digits of `value`.
  public static func decimal(_ value: UInt64) -> String {
    if value == 0 { return "0" }
    var digits: [UInt8] = []
    var rest = value
    while rest > 0 {
      digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
      rest /= 10
    }
    digits.reverse()
    return String(decoding: digits, as: UTF8.self)
  }

  /// Whether `text` is exactly `expected` (byte for byte).
  public static func equals(_ text: String, _ expected: StaticString) -> Bool {
    let bytes = UnsafeBufferPointer(start: expected.utf8Start, count: expected.utf8CodeUnitCount)
    return text.utf8.elementsEqual(bytes)
  }
}
