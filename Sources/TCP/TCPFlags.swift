/// The control bits of a TCP header (RFC 9293 §3.1; CWR and ECE from RFC 3168).
public struct TCPFlags: OptionSet, Hashable, Sendable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let fin = TCPFlags(rawValue: 0x01)
  public static let syn = TCPFlags(rawValue: 0x02)
  public static let rst = TCPFlags(rawValue: 0x04)
  public static let psh = TCPFlags(rawValue: 0x08)
  public static let ack = TCPFlags(rawValue: 0x10)
  public static let urg = TCPFlags(rawValue: 0x20)
  public static let ece = TCPFlags(rawValue: 0x40)
  public static let cwr = TCPFlags(rawValue: 0x80)
}

extension TCPFlags: CustomStringConvertible {
  /// `SYN|ACK`-style.
  public var description: String {
    var names: [String] = []
    if contains(.syn) { names.append("SYN") }
    if contains(.rst) { names.append("RST") }
    if contains(.fin) { names.append("FIN") }
    if contains(.psh) { names.append("PSH") }
    if contains(.ack) { names.append("ACK") }
    if contains(.urg) { names.append("URG") }
    if contains(.ece) { names.append("ECE") }
    if contains(.cwr) { names.append("CWR") }
    return names.isEmpty ? "none" : names.joined(separator: "|")
  }
}
