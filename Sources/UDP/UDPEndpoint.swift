import NetCore

/// One bound UDP port: where datagrams for it wait until the application reads them.
///
/// The queue is bounded in datagrams and in bytes, and charged to the stack's memory budget; a
/// datagram that does not fit is dropped and counted (as a full socket buffer drops in Linux).
public struct UDPEndpoint {
  /// The local address it is bound to; nil for any of ours, of either family.
  public let localAddress: IPAddress?
  /// A second address it is bound to as well, of the other family (one service at an IPv4
  /// and an IPv6 address: the relay's DNS at 10.0.2.3 and fd00::3); nil for none.
  public let otherFamilyAddress: IPAddress?
  public let localPort: UInt16
  /// Whether it takes datagrams addressed to a unicast address that is not ours, which the
  /// IPv4 layer delivers only while the interface has no address and asks for them
  /// (`IPv4Delivery.isForOtherAddress`): a DHCP client's port, for the replies a server
  /// unicasts to the address it offers (RFC 2131 §4.1).
  public let acceptsOtherAddresses: Bool
  /// Whether it takes only the datagrams its owner chooses for it by their four numbers
  /// (``UDPLayer/input(_:datagram:to:)``), none by its port: a published port's flow that
  /// sends from its client's address (`DirectStack+ChosenSourceUDP.swift`) owns its port only
  /// to have one, and its peer never sends to an address of ours.
  public let takesFlowOnly: Bool
  public private(set) var queue: BoundedQueue<UDPReceivedDatagram>
  /// Payload bytes queued.
  public private(set) var queuedBytes = 0
  /// The most payload bytes queued.
  public let byteLimit: Int
  /// Datagrams dropped because the queue was full.
  public private(set) var drops: UInt64 = 0

  public init(
    localAddress: IPAddress?, otherFamilyAddress: IPAddress? = nil, localPort: UInt16,
    acceptsOtherAddresses: Bool = false, takesFlowOnly: Bool = false, datagramLimit: Int,
    byteLimit: Int
  ) {
    self.localAddress = localAddress
    self.otherFamilyAddress = localAddress == nil ? nil : otherFamilyAddress
    self.localPort = localPort
    self.acceptsOtherAddresses = acceptsOtherAddresses
    self.takesFlowOnly = takesFlowOnly
    queue = BoundedQueue(limit: datagramLimit)
    self.byteLimit = byteLimit
  }

  /// Whether a datagram a network layer delivered is for this endpoint: sent to the address it
  /// is bound to (any of ours when none), or to another host's when it asked for those.
  func accepts(_ delivery: TransportDelivery) -> Bool {
    if delivery.isForOtherAddress { return acceptsOtherAddresses }
    return localAddress == nil || localAddress == delivery.destination
      || otherFamilyAddress == delivery.destination
  }

  /// The address it sends from to `destination`: the bound address of the destination's
  /// family, else the one it is bound to; nil when bound to any (the network chooses).
  func sourceAddress(for destination: IPAddress) -> IPAddress? {
    if let other = otherFamilyAddress, other.isIPv4 == destination.isIPv4 { return other }
    return localAddress
  }

  /// What a queued datagram is charged to the memory budget: its payload and its storage.
  static func charge(_ datagram: UDPReceivedDatagram) -> Int { datagram.payload.count + 96 }

  /// Queues a datagram, charging it to `budget`; false (and counted) when it does not fit the
  /// queue or the budget.
  mutating func enqueue(_ datagram: UDPReceivedDatagram, budget: MemoryBudget) -> Bool {
    guard queuedBytes + datagram.payload.count <= byteLimit, !queue.isFull,
      budget.reserve(UDPEndpoint.charge(datagram), for: .udpQueues)
    else {
      drops += 1
      return false
    }
    queue.append(datagram)
    queuedBytes += datagram.payload.count
    return true
  }

  /// The oldest queued datagram, its charge given back to `budget`.
  mutating func dequeue(budget: MemoryBudget) -> UDPReceivedDatagram? {
    guard let datagram = queue.popFirst() else { return nil }
    queuedBytes -= datagram.payload.count
    budget.release(UDPEndpoint.charge(datagram), for: .udpQueues)
    return datagram
  }
}

/// A datagram waiting in an endpoint's receive queue.
public struct UDPReceivedDatagram: Sendable {
  public var source: IPAddress
  public var sourcePort: UInt16
  /// The address it was sent to (ours, a group, or a broadcast address).
  public var destination: IPAddress
  public var payload: [UInt8]

  public init(source: IPAddress, sourcePort: UInt16, destination: IPAddress, payload: [UInt8]) {
    self.source = source
    self.sourcePort = sourcePort
    self.destination = destination
    self.payload = payload
  }
}
