import NetCore

/// A received DHCP message (the payload of a UDP datagram to port 67 or 68), viewed in place
/// (RFC 2131 §2, RFC 2132).
///
/// ``init(checking:)`` is the only way to get one. It requires the 236-byte BOOTP header and
/// the magic cookie (240 bytes), a BOOTREQUEST or BOOTREPLY operation, hardware type 1
/// (Ethernet) with address length 6, and walks every option: in the options field, and, when
/// an Option Overload option (52) says so, in the `file` and then the `sname` field
/// (RFC 2131 §4.1). Every option's length must stay inside its field; an area ends at the End
/// option (255) or at the end of its field. The meaning of the options is checked by
/// ``DHCPMessage/init(_:)``.
public struct DHCPPacket: ~Escapable {
  /// The whole message, options included (trailing bytes after the options are kept).
  public let bytes: Span<UInt8>
  /// Which of `file` and `sname` carry options (RFC 2132 §9.3): bit 0 `file`, bit 1 `sname`.
  public let overload: UInt8

  /// Offsets of the fixed fields.
  enum Field {
    static let operation = 0
    static let hardwareType = 1
    static let hardwareLength = 2
    static let hops = 3
    static let transactionID = 4
    static let seconds = 8
    static let flags = 10
    static let clientAddress = 12
    static let yourAddress = 16
    static let serverAddress = 20
    static let relayAddress = 24
    static let clientHardwareAddress = 28
    static let serverName = 44
    static let bootFileName = 108
    static let magicCookie = 236
    static let options = 240
  }

  /// Bytes of the `sname` field.
  public static let serverNameLength = 64
  /// Bytes of the `file` field.
  public static let bootFileNameLength = 128
  /// The fixed header and the magic cookie.
  public static let minimumLength = 240
  /// 99.130.83.99 (RFC 2131 §3).
  public static let magicCookie: UInt32 = 0x6382_5363

  @_lifetime(copy bytes)
  public init(checking bytes: Span<UInt8>) throws(WireError) {
    guard bytes.count >= DHCPPacket.minimumLength else { throw .truncated }
    let operation = bytes[Field.operation]
    guard operation == 1 || operation == 2, bytes[Field.hardwareType] == 1,
      bytes[Field.hardwareLength] == 6,
      bytes.uint32(at: Field.magicCookie) == DHCPPacket.magicCookie
    else { throw .unsupported }
    var overload: UInt8 = 0
    try DHCPPacket.walk(bytes.extracting(droppingFirst: Field.options)) {
      (code, data) throws(WireError) in
      if code == DHCPOptionCode.overload.rawValue {
        guard data.count == 1, (1...3).contains(data[0]) else { throw .badOption }
        overload = data[0]
      }
    }
    if overload & 1 != 0 {
      try DHCPPacket.walk(DHCPPacket.field(bytes, Field.bootFileName, 128), { _, _ in })
    }
    if overload & 2 != 0 {
      try DHCPPacket.walk(DHCPPacket.field(bytes, Field.serverName, 64), { _, _ in })
    }
    self.bytes = bytes
    self.overload = overload
  }

  @_lifetime(copy bytes)
  private static func field(_ bytes: Span<UInt8>, _ offset: Int, _ length: Int) -> Span<UInt8> {
    bytes.extracting(offset..<(offset + length))
  }

  /// Calls `body` with each option of one area (code, data), skipping Pad (0) and stopping at
  /// End (255) or the end of the area. Throws `.badOption` for a length byte missing or
  /// reaching past the area.
  static func walk(
    _ area: Span<UInt8>, _ body: (UInt8, Span<UInt8>) throws(WireError) -> Void
  ) throws(WireError) {
    var offset = 0
    while offset < area.count {
      let code = area[offset]
      if code == DHCPOptionCode.pad.rawValue {
        offset += 1
        continue
      }
      if code == DHCPOptionCode.end.rawValue { return }
      guard offset + 1 < area.count else { throw .badOption }
      let length = Int(area[offset + 1])
      guard offset + 2 + length <= area.count else { throw .badOption }
      try body(code, area.extracting((offset + 2)..<(offset + 2 + length)))
      offset += 2 + length
    }
  }

  public var operation: DHCPOperation { DHCPOperation(rawValue: bytes[Field.operation]) }
  public var hops: UInt8 { bytes[Field.hops] }
  public var transactionID: UInt32 { bytes.uint32(at: Field.transactionID) }
  public var secondsElapsed: UInt16 { bytes.uint16(at: Field.seconds) }
  /// The BROADCAST flag (RFC 2131 §2, figure 2): the client cannot receive unicast yet.
  public var broadcastFlag: Bool { bytes.uint16(at: Field.flags) & 0x8000 != 0 }
  /// `ciaddr`: the client's address, when it has one (BOUND, RENEWING, REBINDING).
  public var clientAddress: IPv4Address { IPv4Address(bytes, at: Field.clientAddress) }
  /// `yiaddr`: the address offered or assigned to the client.
  public var yourAddress: IPv4Address { IPv4Address(bytes, at: Field.yourAddress) }
  /// `siaddr`: the next server to use in bootstrap.
  public var serverAddress: IPv4Address { IPv4Address(bytes, at: Field.serverAddress) }
  /// `giaddr`: the relay agent's address.
  public var relayAddress: IPv4Address { IPv4Address(bytes, at: Field.relayAddress) }
  /// The first six bytes of `chaddr`.
  public var clientHardwareAddress: MACAddress {
    MACAddress(bytes, at: Field.clientHardwareAddress)
  }

  /// The `sname` field, unless it carries options.
  public var serverName: Span<UInt8> {
    @_lifetime(copy self)
    get {
      overload & 2 != 0
        ? bytes.extracting(0..<0) : DHCPPacket.field(bytes, Field.serverName, 64)
    }
  }

  /// The `file` field, unless it carries options.
  public var bootFileName: Span<UInt8> {
    @_lifetime(copy self)
    get {
      overload & 1 != 0
        ? bytes.extracting(0..<0) : DHCPPacket.field(bytes, Field.bootFileName, 128)
    }
  }

  /// Calls `body` with every option in the order RFC 2131 §4.1 gives: the options field, then
  /// `file`, then `sname` when overloaded. Pad and End are not reported; an option that
  /// appears more than once is reported each time (RFC 3396 concatenates them).
  public func forEachOption(_ body: (UInt8, Span<UInt8>) throws(WireError) -> Void)
    throws(WireError)
  {
    try DHCPPacket.walk(bytes.extracting(droppingFirst: Field.options), body)
    if overload & 1 != 0 {
      try DHCPPacket.walk(DHCPPacket.field(bytes, Field.bootFileName, 128), body)
    }
    if overload & 2 != 0 {
      try DHCPPacket.walk(DHCPPacket.field(bytes, Field.serverName, 64), body)
    }
  }
}

/// The BOOTP operation (`op`): BOOTREQUEST from a client, BOOTREPLY from a server.
public struct DHCPOperation: RawRepresentable, Hashable, Sendable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }
  public static let request = DHCPOperation(rawValue: 1)
  public static let reply = DHCPOperation(rawValue: 2)
}
