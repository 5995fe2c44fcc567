import NetCore

/// The parsed meaning of a DHCP message, and how to write one (RFC 2131 §2, RFC 2132).
///
/// Built from a checked ``DHCPPacket`` by ``init(_:)`` (which interprets the options, see
/// ``DHCPOptions``) or by the client and server; ``emit(into:)`` writes it with every option in
/// the options field (never overloaded), padded to the 300 bytes of a BOOTP message that
/// older relays and servers expect (RFC 1542 §2.1).
public struct DHCPMessage: Equatable, Sendable {
  public var operation: DHCPOperation
  public var hops: UInt8 = 0
  public var transactionID: UInt32
  public var secondsElapsed: UInt16 = 0
  /// The BROADCAST flag: answer with a broadcast (RFC 2131 §4.1).
  public var broadcast: Bool = false
  /// `ciaddr`.
  public var clientAddress: IPv4Address = .any
  /// `yiaddr`.
  public var yourAddress: IPv4Address = .any
  /// `siaddr`.
  public var serverAddress: IPv4Address = .any
  /// `giaddr`.
  public var relayAddress: IPv4Address = .any
  /// `chaddr` (Ethernet: six bytes, the rest zero).
  public var clientHardwareAddress: MACAddress
  /// `sname` up to its first zero byte (empty when it carried options).
  public var serverName: [UInt8] = []
  /// `file` up to its first zero byte (empty when it carried options).
  public var bootFileName: [UInt8] = []
  public var options = DHCPOptions()

  public init(
    operation: DHCPOperation, transactionID: UInt32, clientHardwareAddress: MACAddress,
    options: DHCPOptions = DHCPOptions()
  ) {
    self.operation = operation
    self.transactionID = transactionID
    self.clientHardwareAddress = clientHardwareAddress
    self.options = options
  }

  /// The meaning of a checked packet; throws `.badOption` for an option with a length or
  /// value its type does not allow.
  public init(_ packet: borrowing DHCPPacket) throws(WireError) {
    operation = packet.operation
    hops = packet.hops
    transactionID = packet.transactionID
    secondsElapsed = packet.secondsElapsed
    broadcast = packet.broadcastFlag
    clientAddress = packet.clientAddress
    yourAddress = packet.yourAddress
    serverAddress = packet.serverAddress
    relayAddress = packet.relayAddress
    clientHardwareAddress = packet.clientHardwareAddress
    serverName = DHCPMessage.untilZero(packet.serverName)
    bootFileName = DHCPMessage.untilZero(packet.bootFileName)
    options = try DHCPOptions(packet)
  }

  /// Checks `bytes` as a ``DHCPPacket`` and parses it.
  public init(parsing bytes: Span<UInt8>) throws(WireError) {
    let packet = try DHCPPacket(checking: bytes)
    try self.init(packet)
  }

  private static func untilZero(_ field: Span<UInt8>) -> [UInt8] {
    var result: [UInt8] = []
    for index in 0..<field.count {
      if field[index] == 0 { break }
      result.append(field[index])
    }
    return result
  }

  /// The message type (option 53), if present.
  public var messageType: DHCPMessageType? { options.messageType }

  /// Bytes ``emit(into:)`` writes: header, cookie, options, End, padding to 300.
  public var encodedLength: Int {
    max(DHCPMessage.minimumEncodedLength, DHCPPacket.minimumLength + options.encodedLength)
  }

  /// The BOOTP minimum message size (RFC 1542 §2.1).
  public static let minimumEncodedLength = 300

  /// Writes the message at the front of `bytes`, which has at least ``encodedLength`` bytes.
  /// `sname` and `file` are cut to their fields' 64 and 128 bytes (a name that fills its field
  /// has no terminating zero, as received).
  public func emit(into bytes: inout MutableSpan<UInt8>) {
    typealias Field = DHCPPacket.Field
    let length = encodedLength
    bytes.zero(from: 0, count: length)
    bytes[Field.operation] = operation.rawValue
    bytes[Field.hardwareType] = 1
    bytes[Field.hardwareLength] = 6
    bytes[Field.hops] = hops
    bytes.setUInt32(transactionID, at: Field.transactionID)
    bytes.setUInt16(secondsElapsed, at: Field.seconds)
    bytes.setUInt16(broadcast ? 0x8000 : 0, at: Field.flags)
    clientAddress.write(to: &bytes, at: Field.clientAddress)
    yourAddress.write(to: &bytes, at: Field.yourAddress)
    serverAddress.write(to: &bytes, at: Field.serverAddress)
    relayAddress.write(to: &bytes, at: Field.relayAddress)
    clientHardwareAddress.write(to: &bytes, at: Field.clientHardwareAddress)
    for index in 0..<min(serverName.count, DHCPPacket.serverNameLength) {
      bytes[Field.serverName + index] = serverName[index]
    }
    for index in 0..<min(bootFileName.count, DHCPPacket.bootFileNameLength) {
      bytes[Field.bootFileName + index] = bootFileName[index]
    }
    bytes.setUInt32(DHCPPacket.magicCookie, at: Field.magicCookie)
    _ = options.emit(into: &bytes, at: Field.options)
  }

  /// The message written into a new array.
  public var encoded: [UInt8] {
    var result = [UInt8](repeating: 0, count: encodedLength)
    var span = result.mutableSpan
    emit(into: &span)
    return result
  }
}

/// The UDP ports of DHCP (RFC 2131 §4.1).
public enum DHCPPort {
  /// Servers listen here.
  public static let server: UInt16 = 67
  /// Clients listen here.
  public static let client: UInt16 = 68
}
