import DHCP
import NetCore
import Testing

/// The message view and repr against dnsmasq's, udhcpc's and dhclient's bytes, and every
/// malformed length.
struct DHCPMessageTests {
  typealias C = DnsmasqCaptures
  static let client = MACAddress(0x02, 0, 0, 0, 0, 0x02)
  static let server = IPv4Address(10, 0, 0, 1)
  static let offered = IPv4Address(10, 0, 0, 135)

  static func parse(_ bytes: [UInt8]) throws(WireError) -> DHCPMessage {
    try DHCPMessage(parsing: bytes.span)
  }

  @Test func dnsmasqOffer() throws {
    let offer = try Self.parse(C.offer)
    #expect(offer.operation == .reply)
    #expect(offer.transactionID == 0x40af_267f)
    #expect(offer.secondsElapsed == 3)
    #expect(!offer.broadcast)
    #expect(offer.clientAddress == .any)
    #expect(offer.yourAddress == Self.offered)
    #expect(offer.serverAddress == Self.server)
    #expect(offer.relayAddress == .any)
    #expect(offer.clientHardwareAddress == Self.client)
    #expect(offer.serverName.isEmpty && offer.bootFileName.isEmpty)
    let options = offer.options
    #expect(options.messageType == .offer)
    #expect(options.serverIdentifier == Self.server)
    #expect(options.leaseTime == 120)
    #expect(options.renewalTime == 60)
    #expect(options.rebindingTime == 105)
    #expect(options.subnetMask == IPv4Address(255, 255, 255, 0))
    #expect(options.broadcastAddress == IPv4Address(10, 0, 0, 255))
    #expect(options.routers == [Self.server])
    #expect(options.domainNameServers == [Self.server])
    #expect(options.domainName == Array("netstack.test".utf8))
    #expect(options.other.isEmpty)
  }

  @Test func dnsmasqAckMakesALease() throws {
    let ack = try Self.parse(C.ack)
    #expect(ack.messageType == .ack)
    #expect(ack.options.hostName == Array("capture".utf8))
    let requested = Instant(nanoseconds: 5_000_000_000)
    let lease = try #require(DHCPLease(ack: ack, requestedAt: requested))
    #expect(lease.address == IPv4CIDR(address: Self.offered, prefixLength: 24))
    #expect(lease.router == Self.server)
    #expect(lease.domainNameServers == [Self.server])
    #expect(lease.server == Self.server)
    #expect(lease.mtu == nil)
    #expect(lease.renewAt == requested + .seconds(60))
    #expect(lease.rebindAt == requested + .seconds(105))
    #expect(lease.expiresAt == requested + .seconds(120))
  }

  @Test func udhcpcDiscoverKeepsUnknownOptions() throws {
    let discover = try Self.parse(C.udhcpcDiscover)
    #expect(discover.operation == .request)
    #expect(discover.messageType == .discover)
    #expect(discover.options.maximumMessageSize == 576)
    #expect(discover.options.parameterRequestList == [1, 3, 6, 12, 15, 28, 42])
    #expect(discover.options.hostName == Array("capture".utf8))
    #expect(discover.options.clientIdentifier == [1, 2, 0, 0, 0, 0, 2])
    // Option 60 (vendor class) is not interpreted: kept as it came.
    #expect(discover.options.other == [DHCPRawOption(code: 60, data: Array("udhcp 1.35.0".utf8))])
  }

  @Test func udhcpcRequestAndDhclient() throws {
    let request = try Self.parse(C.udhcpcRequest)
    #expect(request.messageType == .request)
    #expect(request.options.requestedAddress == Self.offered)
    #expect(request.options.serverIdentifier == Self.server)
    let discover = try Self.parse(C.dhclientDiscover)
    #expect(discover.options.hostName == Array("capture-dhclient".utf8))
    #expect(discover.options.clientIdentifier == nil)
    #expect(discover.options.parameterRequestList == [1, 28, 3, 15, 6, 26, 51, 58, 59])
    let ack = try Self.parse(C.dhclientAck)
    #expect(ack.yourAddress == Self.offered && ack.messageType == .ack)
  }

  @Test(arguments: [
    DnsmasqCaptures.udhcpcDiscover, DnsmasqCaptures.offer, DnsmasqCaptures.udhcpcRequest,
    DnsmasqCaptures.ack, DnsmasqCaptures.dhclientDiscover, DnsmasqCaptures.dhclientAck,
  ])
  func reEmittedMessagesParseTheSame(_ bytes: [UInt8]) throws {
    let message = try Self.parse(bytes)
    let written = message.encoded
    #expect(written.count == message.encodedLength)
    #expect(written.count >= 300)
    #expect(try Self.parse(written) == message)
    // The fixed header (up to the options) is written byte for byte as it came.
    #expect(Array(written[0..<240]) == Array(bytes[0..<240]))
  }

  @Test func emitWritesTheFieldsAndPads() throws {
    var message = DHCPMessage(
      operation: .request, transactionID: 0x1234_5678, clientHardwareAddress: Self.client)
    message.broadcast = true
    message.secondsElapsed = 7
    message.options.messageType = .discover
    let bytes = message.encoded
    #expect(bytes.count == 300)
    #expect(Array(bytes[0..<12]) == [1, 1, 6, 0, 0x12, 0x34, 0x56, 0x78, 0, 7, 0x80, 0])
    #expect(Array(bytes[28..<34]) == [2, 0, 0, 0, 0, 2])
    #expect(Array(bytes[236..<244]) == [99, 130, 83, 99, 53, 1, 1, 255])
    #expect(bytes[244...].allSatisfy { $0 == 0 })
  }

  @Test func longOptionsAreSplitAndConcatenated() throws {
    var message = DHCPMessage(
      operation: .reply, transactionID: 1, clientHardwareAddress: Self.client)
    message.options.messageType = .ack
    message.options.domainName = Array(repeating: UInt8(ascii: "a"), count: 300)
    let bytes = message.encoded
    // RFC 3396: 255 bytes, then 45 in a second option 15.
    #expect(Array(bytes[243..<245]) == [15, 255])
    #expect(Array(bytes[500..<502]) == [15, 45])
    #expect(try Self.parse(bytes) == message)
  }

  // MARK: Malformed

  /// A valid BOOTREPLY with `options` after the cookie (no End unless given).
  static func reply(options: [UInt8], length: Int? = nil) -> [UInt8] {
    var bytes = Array(C.offer[0..<240]) + options
    if let length, bytes.count < length {
      bytes += Array(repeating: 0, count: length - bytes.count)
    }
    return bytes
  }

  @Test func shortMessagesAreTruncated() {
    for length in [0, 1, 100, 236, 239] {
      #expect(throws: WireError.truncated) { try Self.parse(Array(C.offer[0..<length])) }
    }
  }

  @Test func unsupportedHeaders() {
    var badCookie = C.offer
    badCookie[239] = 0x64
    var badOperation = C.offer
    badOperation[0] = 3
    var tokenRing = C.offer
    tokenRing[1] = 6
    var longAddress = C.offer
    longAddress[2] = 16
    for bytes in [badCookie, badOperation, tokenRing, longAddress] {
      #expect(throws: WireError.unsupported) { try Self.parse(bytes) }
    }
  }

  @Test(
    arguments: [
      [53, 1, 2, 1],  // length past the end
      [53],  // no length byte
      [53, 1, 2, 12, 200, 0x61],  // the second option's length past the end
      [52, 1, 4, 255],  // overload value 4
      [52, 2, 1, 1, 255],  // overload of length 2
    ] as [[UInt8]])
  func optionsPastTheirFieldAreBad(_ options: [UInt8]) {
    #expect(throws: WireError.badOption) { try Self.parse(Self.reply(options: options)) }
  }

  @Test(
    arguments: [
      [53, 2, 2, 2],  // message type of 2 bytes
      [1, 3, 255, 255, 255],  // subnet mask of 3 bytes
      [3, 5, 10, 0, 0, 1, 1],  // router list not a multiple of 4
      [6, 0],  // empty DNS list
      [51, 2, 0, 120],  // lease time of 2 bytes
      [58, 3, 0, 0, 60],  // T1 of 3 bytes
      [54, 0],  // empty server identifier
      [12, 0],  // empty host name
      [26, 2, 0, 67],  // MTU below 68
      [57, 2, 1, 0],  // maximum message size below 576
      [61, 1, 1],  // client identifier without an identifier
      [55, 0],  // empty parameter request list
    ] as [[UInt8]])
  func knownOptionsWithBadLengthsAreBad(_ option: [UInt8]) {
    #expect(throws: WireError.badOption) {
      try Self.parse(Self.reply(options: option + [255], length: 300))
    }
  }

  @Test func padIsSkippedAndEndIsOptional() throws {
    let withPad = try Self.parse(Self.reply(options: [0, 0, 53, 1, 5, 0, 51, 4, 0, 0, 0, 60]))
    #expect(withPad.messageType == .ack)
    #expect(withPad.options.leaseTime == 60)
    // Bytes after End are not options.
    let afterEnd = try Self.parse(Self.reply(options: [53, 1, 6, 255, 51, 9]))
    #expect(afterEnd.messageType == .nak)
    #expect(afterEnd.options.leaseTime == nil)
  }

  @Test func unknownOptionsRoundTrip() throws {
    let message = try Self.parse(
      Self.reply(options: [53, 1, 2, 224, 3, 1, 2, 3, 43, 0, 255], length: 300))
    #expect(
      message.options.other == [
        DHCPRawOption(code: 224, data: [1, 2, 3]), DHCPRawOption(code: 43, data: []),
      ])
    #expect(try Self.parse(message.encoded) == message)
  }

  @Test func splitOptionsAreConcatenated() throws {
    // RFC 3396: two router options make one list; a split domain name one name.
    let message = try Self.parse(
      Self.reply(options: [
        53, 1, 5, 3, 4, 10, 0, 0, 1, 15, 3, 0x61, 0x62, 0x63, 3, 4, 10, 0, 0, 2, 15, 2, 0x64, 0x65,
        255,
      ]))
    #expect(message.options.routers == [IPv4Address(10, 0, 0, 1), IPv4Address(10, 0, 0, 2)])
    #expect(message.options.domainName == Array("abcde".utf8))
  }

  @Test func overloadedFileAndServerNameCarryOptions() throws {
    var bytes = Array(C.offer[0..<240])
    bytes += [52, 1, 3, 53, 1, 5, 255]
    // `file` (108..<236): the lease time; `sname` (44..<108): the server identifier.
    for index in 44..<236 { bytes[index] = 0 }
    bytes.replaceSubrange(108..<115, with: [51, 4, 0, 0, 0x0e, 0x10, 255])
    bytes.replaceSubrange(44..<51, with: [54, 4, 10, 0, 0, 9, 255])
    let message = try Self.parse(bytes)
    #expect(message.options.leaseTime == 3600)
    #expect(message.options.serverIdentifier == IPv4Address(10, 0, 0, 9))
    #expect(message.serverName.isEmpty && message.bootFileName.isEmpty)
    // Written back without overload, it means the same.
    #expect(try Self.parse(message.encoded) == message)

    // An option running past the end of `sname` is bad, even though bytes follow.
    bytes.replaceSubrange(44..<108, with: Array(repeating: 0, count: 62) + [12, 5])
    #expect(throws: WireError.badOption) { try Self.parse(bytes) }
  }

  @Test func withoutOverloadFileAndServerNameAreText() throws {
    var bytes = C.offer
    bytes.replaceSubrange(44..<48, with: Array("boot".utf8))
    bytes.replaceSubrange(108..<117, with: Array("pxelinux0".utf8))
    let message = try Self.parse(bytes)
    #expect(message.serverName == Array("boot".utf8))
    #expect(message.bootFileName == Array("pxelinux0".utf8))
    #expect(try Self.parse(message.encoded) == message)
  }

  /// Found by the fuzzer: a name that fills `sname` (or `file`) has no terminating zero, and
  /// must be written back whole.
  @Test func namesThatFillTheirFieldsRoundTrip() throws {
    var bytes = C.offer
    bytes.replaceSubrange(44..<108, with: Array(repeating: UInt8(ascii: "s"), count: 64))
    bytes.replaceSubrange(108..<236, with: Array(repeating: UInt8(ascii: "f"), count: 128))
    let message = try Self.parse(bytes)
    #expect(message.serverName.count == 64 && message.bootFileName.count == 128)
    #expect(try Self.parse(message.encoded) == message)
    #expect(Array(message.encoded[44..<236]) == Array(bytes[44..<236]))
  }

  @Test func leaseDefaultsAndOddTimes() throws {
    var ack = try Self.parse(C.ack)
    let start = Instant.zero
    // No T1/T2: half and seven eighths.
    ack.options.renewalTime = nil
    ack.options.rebindingTime = nil
    var lease = try #require(DHCPLease(ack: ack, requestedAt: start))
    #expect(lease.renewalTime == .seconds(60))
    #expect(lease.rebindingTime == .seconds(105))
    // T1 after T2: both defaults.
    ack.options.renewalTime = 110
    ack.options.rebindingTime = 100
    lease = try #require(DHCPLease(ack: ack, requestedAt: start))
    #expect(lease.renewalTime == .seconds(60) && lease.rebindingTime == .seconds(105))
    // Infinite: no timers.
    ack.options.leaseTime = .max
    lease = try #require(DHCPLease(ack: ack, requestedAt: start))
    #expect(lease.duration == nil && lease.renewAt == nil && lease.expiresAt == nil)
    // No mask: the class's (10/8); a router outside the subnet is not used.
    ack.options.subnetMask = nil
    ack.options.routers = [IPv4Address(192, 0, 2, 1)]
    lease = try #require(DHCPLease(ack: ack, requestedAt: start))
    #expect(lease.address.prefixLength == 8)
    #expect(lease.router == nil)
    // No lease time, or no server identifier: no lease.
    ack.options.leaseTime = nil
    #expect(DHCPLease(ack: ack, requestedAt: start) == nil)
    ack.options.leaseTime = 60
    ack.options.serverIdentifier = nil
    #expect(DHCPLease(ack: ack, requestedAt: start) == nil)
  }
}
