/// The netif ring entries of xen/io/netif.h, as values: each is read from a ring entry with
/// one load per field (the copy `RING_COPY_RESPONSE` makes, so that the other end cannot
/// change a field between two reads of it) and written field by field. Fields are
/// little-endian, as on every architecture Xen runs netif on.

/// Flags of a transmit request (`NETTXF_*`).
public struct NetifTXFlags: OptionSet, Hashable, Sendable {
  public var rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }

  /// The protocol checksum field is blank: the back end fills it in (`NETTXF_csum_blank`).
  public static let checksumBlank = NetifTXFlags(rawValue: 1 << 0)
  /// The data has been validated against its checksum (`NETTXF_data_validated`).
  public static let dataValidated = NetifTXFlags(rawValue: 1 << 1)
  /// The packet continues in the next request (`NETTXF_more_data`).
  public static let moreData = NetifTXFlags(rawValue: 1 << 2)
  /// Extra-info entries follow this request (`NETTXF_extra_info`).
  public static let extraInfo = NetifTXFlags(rawValue: 1 << 3)
}

/// Flags of a receive response (`NETRXF_*`).
public struct NetifRXFlags: OptionSet, Hashable, Sendable {
  public var rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }

  /// The data has been validated against its checksum (`NETRXF_data_validated`).
  public static let dataValidated = NetifRXFlags(rawValue: 1 << 0)
  /// The protocol checksum field is blank: the packet never left the host
  /// (`NETRXF_csum_blank`).
  public static let checksumBlank = NetifRXFlags(rawValue: 1 << 1)
  /// The packet continues in the next response (`NETRXF_more_data`).
  public static let moreData = NetifRXFlags(rawValue: 1 << 2)
  /// Extra-info entries follow this response (`NETRXF_extra_info`).
  public static let extraInfo = NetifRXFlags(rawValue: 1 << 3)
  /// A GSO prefix precedes the packet (`NETRXF_gso_prefix`, deprecated).
  public static let gsoPrefix = NetifRXFlags(rawValue: 1 << 4)
}

/// The status of a response (`NETIF_RSP_*`); for a receive response a positive value is the
/// fragment's size instead. An open set: unknown values round-trip.
public struct NetifResponseStatus: RawRepresentable, Hashable, Sendable {
  public var rawValue: Int16
  public init(rawValue: Int16) { self.rawValue = rawValue }

  /// `NETIF_RSP_DROPPED`: the back end dropped the packet.
  public static let dropped = NetifResponseStatus(rawValue: -2)
  /// `NETIF_RSP_ERROR`: the request was bad (a bad grant, offset or size).
  public static let error = NetifResponseStatus(rawValue: -1)
  /// `NETIF_RSP_OKAY`.
  public static let okay = NetifResponseStatus(rawValue: 0)
  /// `NETIF_RSP_NULL`: no response, the slot held an extra-info entry.
  public static let null = NetifResponseStatus(rawValue: 1)
}

@inline(__always)
func loadUInt16(_ entry: UnsafeRawPointer, _ offset: Int) -> UInt16 {
  UInt16(littleEndian: entry.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}

@inline(__always)
func loadUInt32(_ entry: UnsafeRawPointer, _ offset: Int) -> UInt32 {
  UInt32(littleEndian: entry.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
}

@inline(__always)
func storeUInt16(_ value: UInt16, _ entry: UnsafeMutableRawPointer, _ offset: Int) {
  entry.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt16.self)
}

@inline(__always)
func storeUInt32(_ value: UInt32, _ entry: UnsafeMutableRawPointer, _ offset: Int) {
  entry.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
}

/// A transmit request (`struct netif_tx_request`, 12 bytes): one fragment of a packet the front
/// end sends, in a page it granted. In the first request of a packet `size` is the whole
/// packet's size; in the others, the fragment's.
public struct NetifTXRequest: Hashable, Sendable {
  private enum Offset {
    static let grant = 0
    static let offset = 4
    static let flags = 6
    static let id = 8
    static let size = 10
  }
  /// `sizeof(struct netif_tx_request)`.
  public static let byteCount = 12

  public var grant: GrantReference
  /// Where the fragment starts in the granted page.
  public var offset: UInt16
  public var flags: NetifTXFlags
  /// Echoed in the response.
  public var id: UInt16
  public var size: UInt16

  public init(grant: GrantReference, offset: UInt16, flags: NetifTXFlags, id: UInt16, size: UInt16)
  {
    self.grant = grant
    self.offset = offset
    self.flags = flags
    self.id = id
    self.size = size
  }

  /// Reads the request in a ring entry.
  public init(loadingFrom entry: UnsafeRawPointer) {
    grant = GrantReference(rawValue: loadUInt32(entry, Offset.grant))
    offset = loadUInt16(entry, Offset.offset)
    flags = NetifTXFlags(rawValue: loadUInt16(entry, Offset.flags))
    id = loadUInt16(entry, Offset.id)
    size = loadUInt16(entry, Offset.size)
  }

  /// Writes the request into a ring entry.
  public func store(to entry: UnsafeMutableRawPointer) {
    storeUInt32(grant.rawValue, entry, Offset.grant)
    storeUInt16(offset, entry, Offset.offset)
    storeUInt16(flags.rawValue, entry, Offset.flags)
    storeUInt16(id, entry, Offset.id)
    storeUInt16(size, entry, Offset.size)
  }
}

/// A transmit response (`struct netif_tx_response`, 4 bytes): the back end is done with the
/// request `id`.
public struct NetifTXResponse: Hashable, Sendable {
  private enum Offset {
    static let id = 0
    static let status = 2
  }
  /// `sizeof(struct netif_tx_response)`.
  public static let byteCount = 4

  public var id: UInt16
  public var status: NetifResponseStatus

  public init(id: UInt16, status: NetifResponseStatus) {
    self.id = id
    self.status = status
  }

  public init(loadingFrom entry: UnsafeRawPointer) {
    id = loadUInt16(entry, Offset.id)
    status = NetifResponseStatus(rawValue: Int16(bitPattern: loadUInt16(entry, Offset.status)))
  }

  public func store(to entry: UnsafeMutableRawPointer) {
    storeUInt16(id, entry, Offset.id)
    storeUInt16(UInt16(bitPattern: status.rawValue), entry, Offset.status)
  }
}

/// A receive request (`struct netif_rx_request`, 8 bytes): a page the front end granted for
/// the back end to copy a received packet (or part of one) into.
public struct NetifRXRequest: Hashable, Sendable {
  private enum Offset {
    static let id = 0
    static let pad = 2
    static let grant = 4
  }
  /// `sizeof(struct netif_rx_request)`.
  public static let byteCount = 8

  /// Echoed in the response.
  public var id: UInt16
  public var grant: GrantReference

  public init(id: UInt16, grant: GrantReference) {
    self.id = id
    self.grant = grant
  }

  public init(loadingFrom entry: UnsafeRawPointer) {
    id = loadUInt16(entry, Offset.id)
    grant = GrantReference(rawValue: loadUInt32(entry, Offset.grant))
  }

  public func store(to entry: UnsafeMutableRawPointer) {
    storeUInt16(id, entry, Offset.id)
    storeUInt16(0, entry, Offset.pad)
    storeUInt32(grant.rawValue, entry, Offset.grant)
  }
}

/// A receive response (`struct netif_rx_response`, 8 bytes): one fragment of a received
/// packet, `status` bytes at `offset` in the page of request `id`; a negative status is an
/// error (`NETIF_RSP_*`).
public struct NetifRXResponse: Hashable, Sendable {
  private enum Offset {
    static let id = 0
    static let offset = 2
    static let flags = 4
    static let status = 6
  }
  /// `sizeof(struct netif_rx_response)`.
  public static let byteCount = 8

  public var id: UInt16
  public var offset: UInt16
  public var flags: NetifRXFlags
  /// The fragment's size, or a negative `NETIF_RSP_*` error.
  public var status: Int16

  public init(id: UInt16, offset: UInt16, flags: NetifRXFlags, status: Int16) {
    self.id = id
    self.offset = offset
    self.flags = flags
    self.status = status
  }

  public init(loadingFrom entry: UnsafeRawPointer) {
    id = loadUInt16(entry, Offset.id)
    offset = loadUInt16(entry, Offset.offset)
    flags = NetifRXFlags(rawValue: loadUInt16(entry, Offset.flags))
    status = Int16(bitPattern: loadUInt16(entry, Offset.status))
  }

  public func store(to entry: UnsafeMutableRawPointer) {
    storeUInt16(id, entry, Offset.id)
    storeUInt16(offset, entry, Offset.offset)
    storeUInt16(flags.rawValue, entry, Offset.flags)
    storeUInt16(UInt16(bitPattern: status), entry, Offset.status)
  }
}

/// An extra-info entry (`struct netif_extra_info`, 8 bytes), which takes the place of a request
/// or response after one flagged `extraInfo`: GSO parameters, a multicast filter change or a
/// hash. Only its type and flags matter to a front end that negotiates none of these.
public struct NetifExtraInfo: Hashable, Sendable {
  private enum Offset {
    static let type = 0
    static let flags = 1
    static let gsoSize = 2
    static let gsoType = 4
    static let gsoFeatures = 6
  }
  /// `sizeof(struct netif_extra_info)`.
  public static let byteCount = 8

  /// `XEN_NETIF_EXTRA_TYPE_*`: 1 GSO, 2 multicast add, 3 multicast delete, 4 hash.
  public var type: UInt8
  /// `XEN_NETIF_EXTRA_FLAG_MORE` (bit 0): another extra-info entry follows.
  public var flags: UInt8
  /// For GSO: the segment size.
  public var gsoSize: UInt16
  /// For GSO: `XEN_NETIF_GSO_TYPE_*`.
  public var gsoType: UInt8
  /// For GSO: `XEN_NETIF_GSO_FEAT_*`.
  public var gsoFeatures: UInt16

  /// `XEN_NETIF_EXTRA_TYPE_GSO`.
  public static let typeGSO: UInt8 = 1
  /// `XEN_NETIF_EXTRA_FLAG_MORE`.
  public static let flagMore: UInt8 = 1
  /// `XEN_NETIF_GSO_TYPE_TCPV4`.
  public static let gsoTypeTCPv4: UInt8 = 1
  /// `XEN_NETIF_GSO_TYPE_TCPV6`.
  public static let gsoTypeTCPv6: UInt8 = 2

  public init(
    type: UInt8, flags: UInt8, gsoSize: UInt16 = 0, gsoType: UInt8 = 0, gsoFeatures: UInt16 = 0
  ) {
    self.type = type
    self.flags = flags
    self.gsoSize = gsoSize
    self.gsoType = gsoType
    self.gsoFeatures = gsoFeatures
  }

  public init(loadingFrom entry: UnsafeRawPointer) {
    type = entry.load(fromByteOffset: Offset.type, as: UInt8.self)
    flags = entry.load(fromByteOffset: Offset.flags, as: UInt8.self)
    gsoSize = loadUInt16(entry, Offset.gsoSize)
    gsoType = entry.load(fromByteOffset: Offset.gsoType, as: UInt8.self)
    gsoFeatures = loadUInt16(entry, Offset.gsoFeatures)
  }

  public func store(to entry: UnsafeMutableRawPointer) {
    entry.storeBytes(of: type, toByteOffset: Offset.type, as: UInt8.self)
    entry.storeBytes(of: flags, toByteOffset: Offset.flags, as: UInt8.self)
    storeUInt16(gsoSize, entry, Offset.gsoSize)
    entry.storeBytes(of: gsoType, toByteOffset: Offset.gsoType, as: UInt8.self)
    entry.storeBytes(of: UInt8(0), toByteOffset: Offset.gsoType + 1, as: UInt8.self)
    storeUInt16(gsoFeatures, entry, Offset.gsoFeatures)
  }

  /// Whether another extra-info entry follows.
  public var hasMore: Bool { flags & NetifExtraInfo.flagMore != 0 }
}

/// The netif rings' entry sizes: each entry holds a request or a response (a C union).
public enum NetifRing {
  /// TX entries: `union netif_tx_sring_entry`, 12 bytes.
  public static let txEntrySize = max(NetifTXRequest.byteCount, NetifTXResponse.byteCount)
  /// RX entries: `union netif_rx_sring_entry`, 8 bytes.
  public static let rxEntrySize = max(NetifRXRequest.byteCount, NetifRXResponse.byteCount)
  /// Entries in a one-page TX ring (`NET_TX_RING_SIZE`): 256.
  public static let txRingSize = SharedRingLayout.entryCount(entrySize: txEntrySize)
  /// Entries in a one-page RX ring (`NET_RX_RING_SIZE`): 256.
  public static let rxRingSize = SharedRingLayout.entryCount(entrySize: rxEntrySize)
  /// The fewest slots a back end must accept for one packet (`XEN_NETIF_NR_SLOTS_MIN`).
  public static let minimumSlotsPerPacket = 18
  /// The largest packet a transmit request can describe (`XEN_NETIF_MAX_TX_SIZE`).
  public static let maximumTransmitSize = 0xFFFF
}
