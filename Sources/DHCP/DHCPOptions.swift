import NetCore

/// A DHCP option code (RFC 2132); an open set, so that unknown codes round-trip.
public struct DHCPOptionCode: RawRepresentable, Hashable, Sendable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let pad = DHCPOptionCode(rawValue: 0)
  public static let subnetMask = DHCPOptionCode(rawValue: 1)
  public static let router = DHCPOptionCode(rawValue: 3)
  public static let domainNameServer = DHCPOptionCode(rawValue: 6)
  public static let hostName = DHCPOptionCode(rawValue: 12)
  public static let domainName = DHCPOptionCode(rawValue: 15)
  public static let interfaceMTU = DHCPOptionCode(rawValue: 26)
  public static let broadcastAddress = DHCPOptionCode(rawValue: 28)
  public static let requestedAddress = DHCPOptionCode(rawValue: 50)
  public static let leaseTime = DHCPOptionCode(rawValue: 51)
  public static let overload = DHCPOptionCode(rawValue: 52)
  public static let messageType = DHCPOptionCode(rawValue: 53)
  public static let serverIdentifier = DHCPOptionCode(rawValue: 54)
  public static let parameterRequestList = DHCPOptionCode(rawValue: 55)
  public static let message = DHCPOptionCode(rawValue: 56)
  public static let maximumMessageSize = DHCPOptionCode(rawValue: 57)
  public static let renewalTime = DHCPOptionCode(rawValue: 58)
  public static let rebindingTime = DHCPOptionCode(rawValue: 59)
  public static let clientIdentifier = DHCPOptionCode(rawValue: 61)
  public static let end = DHCPOptionCode(rawValue: 255)
}

/// The DHCP message type (option 53, RFC 2132 §9.6); an open set.
public struct DHCPMessageType: RawRepresentable, Hashable, Sendable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let discover = DHCPMessageType(rawValue: 1)
  public static let offer = DHCPMessageType(rawValue: 2)
  public static let request = DHCPMessageType(rawValue: 3)
  public static let decline = DHCPMessageType(rawValue: 4)
  public static let ack = DHCPMessageType(rawValue: 5)
  public static let nak = DHCPMessageType(rawValue: 6)
  public static let release = DHCPMessageType(rawValue: 7)
  public static let inform = DHCPMessageType(rawValue: 8)
}

extension DHCPMessageType: CustomStringConvertible {
  public var description: String {
    switch rawValue {
    case 1: "DHCPDISCOVER"
    case 2: "DHCPOFFER"
    case 3: "DHCPREQUEST"
    case 4: "DHCPDECLINE"
    case 5: "DHCPACK"
    case 6: "DHCPNAK"
    case 7: "DHCPRELEASE"
    case 8: "DHCPINFORM"
    default: "DHCP type \(rawValue)"
    }
  }
}

/// An option this stack does not interpret, kept as it came so that it round-trips.
public struct DHCPRawOption: Equatable, Sendable {
  public var code: UInt8
  public var data: [UInt8]

  public init(code: UInt8, data: [UInt8]) {
    self.code = code
    self.data = data
  }
}

/// The options of a DHCP message, parsed (RFC 2132, RFC 2131 §3.5).
///
/// Each known option has a field; everything else is kept in ``other`` in the order received.
/// Parsing is strict: a known option whose length is wrong for its type (a 3-byte subnet
/// mask, a router list that is not a multiple of 4, an empty host name) makes the message
/// malformed (`WireError.badOption`). An option that appears more than once is concatenated
/// first (RFC 3396). Options are written in a fixed order, message type first.
public struct DHCPOptions: Equatable, Sendable {
  public var messageType: DHCPMessageType?
  public var subnetMask: IPv4Address?
  public var routers: [IPv4Address] = []
  public var domainNameServers: [IPv4Address] = []
  public var hostName: [UInt8]?
  public var domainName: [UInt8]?
  public var interfaceMTU: UInt16?
  public var broadcastAddress: IPv4Address?
  public var requestedAddress: IPv4Address?
  /// Seconds; 0xFFFF_FFFF means infinite (RFC 2131 §3.3).
  public var leaseTime: UInt32?
  /// T1, seconds.
  public var renewalTime: UInt32?
  /// T2, seconds.
  public var rebindingTime: UInt32?
  public var serverIdentifier: IPv4Address?
  public var parameterRequestList: [UInt8]?
  /// Text from the server, with a DHCPNAK for instance (RFC 2132 §9.9).
  public var message: [UInt8]?
  public var maximumMessageSize: UInt16?
  /// Type byte and identifier (RFC 2132 §9.14): 1 and the MAC for Ethernet.
  public var clientIdentifier: [UInt8]?
  /// Every other option, in order.
  public var other: [DHCPRawOption] = []

  public init() {}

  /// Parses the options of a checked packet.
  public init(_ packet: borrowing DHCPPacket) throws(WireError) {
    // Gather (RFC 3396: split options are concatenated in order), then interpret.
    var gathered: [DHCPRawOption] = []
    try packet.forEachOption { (code, data) throws(WireError) in
      if code == DHCPOptionCode.overload.rawValue { return }
      if let index = gathered.firstIndex(where: { $0.code == code }) {
        gathered[index].data += data.copyToArray()
      } else {
        gathered.append(DHCPRawOption(code: code, data: data.copyToArray()))
      }
    }
    for option in gathered { try interpret(option) }
  }

  private mutating func interpret(_ option: DHCPRawOption) throws(WireError) {
    let data = option.data
    func address() throws(WireError) -> IPv4Address {
      guard data.count == 4 else { throw .badOption }
      return DHCPOptions.address(data, 0)
    }
    func addresses() throws(WireError) -> [IPv4Address] {
      guard !data.isEmpty, data.count % 4 == 0 else { throw .badOption }
      var result: [IPv4Address] = []
      var offset = 0
      while offset < data.count {
        result.append(DHCPOptions.address(data, offset))
        offset += 4
      }
      return result
    }
    func seconds() throws(WireError) -> UInt32 {
      guard data.count == 4 else { throw .badOption }
      return DHCPOptions.address(data, 0).rawValue
    }
    func uint16() throws(WireError) -> UInt16 {
      guard data.count == 2 else { throw .badOption }
      return UInt16(data[0]) << 8 | UInt16(data[1])
    }
    func text() throws(WireError) -> [UInt8] {
      guard !data.isEmpty else { throw .badOption }
      return data
    }
    switch DHCPOptionCode(rawValue: option.code) {
    case .messageType:
      guard data.count == 1 else { throw .badOption }
      messageType = DHCPMessageType(rawValue: data[0])
    case .subnetMask: subnetMask = try address()
    case .router: routers = try addresses()
    case .domainNameServer: domainNameServers = try addresses()
    case .hostName: hostName = try text()
    case .domainName: domainName = try text()
    case .interfaceMTU:
      let mtu = try uint16()
      guard mtu >= 68 else { throw .badOption }
      interfaceMTU = mtu
    case .broadcastAddress: broadcastAddress = try address()
    case .requestedAddress: requestedAddress = try address()
    case .leaseTime: leaseTime = try seconds()
    case .renewalTime: renewalTime = try seconds()
    case .rebindingTime: rebindingTime = try seconds()
    case .serverIdentifier: serverIdentifier = try address()
    case .parameterRequestList: parameterRequestList = try text()
    case .message: message = try text()
    case .maximumMessageSize:
      let size = try uint16()
      guard size >= 576 else { throw .badOption }
      maximumMessageSize = size
    case .clientIdentifier:
      guard data.count >= 2 else { throw .badOption }
      clientIdentifier = data
    default:
      other.append(option)
    }
  }

  private static func address(_ data: [UInt8], _ offset: Int) -> IPv4Address {
    IPv4Address(data[offset], data[offset + 1], data[offset + 2], data[offset + 3])
  }

  /// Every option to write, as code and data, in the order they are written.
  func encoded() -> [DHCPRawOption] {
    var result: [DHCPRawOption] = []
    func add(_ code: DHCPOptionCode, _ data: [UInt8]) {
      result.append(DHCPRawOption(code: code.rawValue, data: data))
    }
    func bytes(_ addresses: [IPv4Address]) -> [UInt8] {
      var data: [UInt8] = []
      for address in addresses {
        for index in 0..<4 { data.append(address.octet(index)) }
      }
      return data
    }
    func bytes(_ value: UInt32) -> [UInt8] { bytes([IPv4Address(rawValue: value)]) }
    func bytes(_ value: UInt16) -> [UInt8] {
      [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }
    if let messageType { add(.messageType, [messageType.rawValue]) }
    if let serverIdentifier { add(.serverIdentifier, bytes([serverIdentifier])) }
    if let clientIdentifier { add(.clientIdentifier, clientIdentifier) }
    if let requestedAddress { add(.requestedAddress, bytes([requestedAddress])) }
    if let leaseTime { add(.leaseTime, bytes(leaseTime)) }
    if let renewalTime { add(.renewalTime, bytes(renewalTime)) }
    if let rebindingTime { add(.rebindingTime, bytes(rebindingTime)) }
    if let subnetMask { add(.subnetMask, bytes([subnetMask])) }
    if !routers.isEmpty { add(.router, bytes(routers)) }
    if !domainNameServers.isEmpty { add(.domainNameServer, bytes(domainNameServers)) }
    if let domainName { add(.domainName, domainName) }
    if let broadcastAddress { add(.broadcastAddress, bytes([broadcastAddress])) }
    if let interfaceMTU { add(.interfaceMTU, bytes(interfaceMTU)) }
    if let hostName { add(.hostName, hostName) }
    if let parameterRequestList { add(.parameterRequestList, parameterRequestList) }
    if let maximumMessageSize { add(.maximumMessageSize, bytes(maximumMessageSize)) }
    if let message { add(.message, message) }
    result += other
    return result
  }

  /// Bytes the options take when written, End included (long options are split into pieces
  /// of 255 bytes, RFC 3396).
  public var encodedLength: Int {
    var length = 1
    for option in encoded() { length += DHCPOptions.encodedLength(of: option) }
    return length
  }

  static func encodedLength(of option: DHCPRawOption) -> Int {
    let pieces = max(1, (option.data.count + 254) / 255)
    return option.data.count + 2 * pieces
  }

  /// Writes the options and End at `offset`; returns the offset after End.
  func emit(into bytes: inout MutableSpan<UInt8>, at offset: Int) -> Int {
    var position = offset
    for option in encoded() {
      var start = 0
      repeat {
        let length = min(255, option.data.count - start)
        bytes[position] = option.code
        bytes[position + 1] = UInt8(length)
        for index in 0..<length { bytes[position + 2 + index] = option.data[start + index] }
        position += 2 + length
        start += length
      } while start < option.data.count
    }
    bytes[position] = DHCPOptionCode.end.rawValue
    return position + 1
  }
}
