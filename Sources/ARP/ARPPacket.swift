import Ethernet
import NetCore

/// A received ARP packet for IPv4 over Ethernet, viewed in place (RFC 826).
///
/// ``init(checking:)`` accepts only hardware type 1 (Ethernet), protocol type 0x0800 (IPv4),
/// address lengths 6 and 4, and at least the 28 bytes those imply; anything else throws.
public struct ARPPacket: ~Escapable {
  public let bytes: Span<UInt8>

  /// Offsets of the fields in an Ethernet/IPv4 ARP packet.
  enum Field {
    static let hardwareType = 0
    static let protocolType = 2
    static let hardwareLength = 4
    static let protocolLength = 5
    static let operation = 6
    static let senderHardwareAddress = 8
    static let senderProtocolAddress = 14
    static let targetHardwareAddress = 18
    static let targetProtocolAddress = 24
  }

  /// Bytes in an Ethernet/IPv4 ARP packet.
  public static let length = 28

  @_lifetime(copy bytes)
  public init(checking bytes: Span<UInt8>) throws(WireError) {
    guard bytes.count >= ARPPacket.length else { throw .truncated }
    guard bytes.uint16(at: Field.hardwareType) == 1,
      bytes.uint16(at: Field.protocolType) == EtherType.ipv4.rawValue,
      bytes[Field.hardwareLength] == 6, bytes[Field.protocolLength] == 4
    else { throw .unsupported }
    self.bytes = bytes
  }

  public var operation: ARPOperation { ARPOperation(rawValue: bytes.uint16(at: Field.operation)) }
  public var senderHardwareAddress: MACAddress {
    MACAddress(bytes, at: Field.senderHardwareAddress)
  }
  public var senderProtocolAddress: IPv4Address {
    IPv4Address(bytes, at: Field.senderProtocolAddress)
  }
  public var targetHardwareAddress: MACAddress {
    MACAddress(bytes, at: Field.targetHardwareAddress)
  }
  public var targetProtocolAddress: IPv4Address {
    IPv4Address(bytes, at: Field.targetProtocolAddress)
  }

  /// The parsed message.
  public var message: ARPMessage {
    ARPMessage(
      operation: operation, senderHardwareAddress: senderHardwareAddress,
      senderProtocolAddress: senderProtocolAddress, targetHardwareAddress: targetHardwareAddress,
      targetProtocolAddress: targetProtocolAddress)
  }
}

/// The ARP opcode (RFC 826 `ar$op`); an open set.
public struct ARPOperation: RawRepresentable, Hashable, Sendable {
  public let rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }
  public static let request = ARPOperation(rawValue: 1)
  public static let reply = ARPOperation(rawValue: 2)
}

/// The parsed meaning of an ARP packet for IPv4 over Ethernet, and how to write one.
public struct ARPMessage: Equatable, Sendable {
  public var operation: ARPOperation
  public var senderHardwareAddress: MACAddress
  public var senderProtocolAddress: IPv4Address
  public var targetHardwareAddress: MACAddress
  public var targetProtocolAddress: IPv4Address

  public init(
    operation: ARPOperation, senderHardwareAddress: MACAddress, senderProtocolAddress: IPv4Address,
    targetHardwareAddress: MACAddress, targetProtocolAddress: IPv4Address
  ) {
    self.operation = operation
    self.senderHardwareAddress = senderHardwareAddress
    self.senderProtocolAddress = senderProtocolAddress
    self.targetHardwareAddress = targetHardwareAddress
    self.targetProtocolAddress = targetProtocolAddress
  }

  /// Writes the 28-byte packet at the front of `bytes`.
  public func emit(into bytes: inout MutableSpan<UInt8>) {
    bytes.setUInt16(1, at: ARPPacket.Field.hardwareType)
    bytes.setUInt16(EtherType.ipv4.rawValue, at: ARPPacket.Field.protocolType)
    bytes[ARPPacket.Field.hardwareLength] = 6
    bytes[ARPPacket.Field.protocolLength] = 4
    bytes.setUInt16(operation.rawValue, at: ARPPacket.Field.operation)
    senderHardwareAddress.write(to: &bytes, at: ARPPacket.Field.senderHardwareAddress)
    senderProtocolAddress.write(to: &bytes, at: ARPPacket.Field.senderProtocolAddress)
    targetHardwareAddress.write(to: &bytes, at: ARPPacket.Field.targetHardwareAddress)
    targetProtocolAddress.write(to: &bytes, at: ARPPacket.Field.targetProtocolAddress)
  }
}
