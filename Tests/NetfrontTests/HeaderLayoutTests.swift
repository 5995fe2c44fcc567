import CXenABI
import Netfront
import Testing

/// The driver's layouts and constants against the Xen public headers themselves
/// (`xen/io/ring.h`, `xen/io/netif.h`, `xen/grant_table.h`, `xen/io/xenbus.h`, compiled into
/// the CXenABI target from Debian's libxen-dev): sizes and constants by value, field offsets by
/// writing an entry with the Swift code and finding each field's bytes at the C offset.
struct HeaderLayoutTests {
  /// The C table, by name.
  static let c: [String: Int64] = {
    var table: [String: Int64] = [:]
    for index in 0..<Int(netstack_xen_abi_count()) {
      var name: UnsafePointer<CChar>? = nil
      var value: Int64 = 0
      if netstack_xen_abi_entry(Int32(index), &name, &value) == 0, let name {
        table[String(cString: name)] = value
      }
    }
    return table
  }()

  /// Every C entry a test below checks; the last test makes sure none is left out.
  static let checkedElsewhere: Set<String> = [
    // Linux platform (XenLinuxPlatformTests)
    "sizeof(struct xsd_sockmsg)", "offsetof(struct xsd_sockmsg, type)",
    "offsetof(struct xsd_sockmsg, req_id)", "offsetof(struct xsd_sockmsg, tx_id)",
    "offsetof(struct xsd_sockmsg, len)", "XS_READ", "XS_WATCH", "XS_UNWATCH", "XS_WRITE",
    "XS_WATCH_EVENT", "XS_ERROR", "XS_WATCH_PATH", "XS_WATCH_TOKEN", "XENSTORE_PAYLOAD_MAX",
    "IOCTL_GNTALLOC_ALLOC_GREF", "IOCTL_GNTALLOC_DEALLOC_GREF", "GNTALLOC_FLAG_WRITABLE",
    "sizeof(struct ioctl_gntalloc_alloc_gref)", "IOCTL_EVTCHN_BIND_UNBOUND_PORT",
    "IOCTL_EVTCHN_UNBIND", "IOCTL_EVTCHN_NOTIFY",
  ]

  /// Sizes and constants the Swift code defines, by the C name.
  static let values: [String: Int64] = [
    "offsetof(struct netif_tx_sring, req_prod)": Int64(SharedRingLayout.requestProducerOffset),
    "offsetof(struct netif_tx_sring, req_event)": Int64(SharedRingLayout.requestEventOffset),
    "offsetof(struct netif_tx_sring, rsp_prod)": Int64(SharedRingLayout.responseProducerOffset),
    "offsetof(struct netif_tx_sring, rsp_event)": Int64(SharedRingLayout.responseEventOffset),
    "offsetof(struct netif_tx_sring, pvt)": Int64(SharedRingLayout.privateOffset),
    "offsetof(struct netif_tx_sring, ring)": Int64(SharedRingLayout.entriesOffset),
    "offsetof(struct netif_rx_sring, ring)": Int64(SharedRingLayout.entriesOffset),
    "sizeof(union netif_tx_sring_entry)": Int64(NetifRing.txEntrySize),
    "sizeof(union netif_rx_sring_entry)": Int64(NetifRing.rxEntrySize),
    "__CONST_RING_SIZE(netif_tx, 4096)": Int64(NetifRing.txRingSize),
    "__CONST_RING_SIZE(netif_rx, 4096)": Int64(NetifRing.rxRingSize),
    "sizeof(struct netif_tx_request)": Int64(NetifTXRequest.byteCount),
    "sizeof(struct netif_tx_response)": Int64(NetifTXResponse.byteCount),
    "sizeof(struct netif_rx_request)": Int64(NetifRXRequest.byteCount),
    "sizeof(struct netif_rx_response)": Int64(NetifRXResponse.byteCount),
    "sizeof(struct netif_extra_info)": Int64(NetifExtraInfo.byteCount),
    "NETTXF_csum_blank": Int64(NetifTXFlags.checksumBlank.rawValue),
    "NETTXF_data_validated": Int64(NetifTXFlags.dataValidated.rawValue),
    "NETTXF_more_data": Int64(NetifTXFlags.moreData.rawValue),
    "NETTXF_extra_info": Int64(NetifTXFlags.extraInfo.rawValue),
    "NETRXF_data_validated": Int64(NetifRXFlags.dataValidated.rawValue),
    "NETRXF_csum_blank": Int64(NetifRXFlags.checksumBlank.rawValue),
    "NETRXF_more_data": Int64(NetifRXFlags.moreData.rawValue),
    "NETRXF_extra_info": Int64(NetifRXFlags.extraInfo.rawValue),
    "NETRXF_gso_prefix": Int64(NetifRXFlags.gsoPrefix.rawValue),
    "NETIF_RSP_DROPPED": Int64(NetifResponseStatus.dropped.rawValue),
    "NETIF_RSP_ERROR": Int64(NetifResponseStatus.error.rawValue),
    "NETIF_RSP_OKAY": Int64(NetifResponseStatus.okay.rawValue),
    "NETIF_RSP_NULL": Int64(NetifResponseStatus.null.rawValue),
    "XEN_NETIF_EXTRA_TYPE_GSO": Int64(NetifExtraInfo.typeGSO),
    "XEN_NETIF_EXTRA_FLAG_MORE": Int64(NetifExtraInfo.flagMore),
    "XEN_NETIF_NR_SLOTS_MIN": Int64(NetifRing.minimumSlotsPerPacket),
    "XEN_NETIF_MAX_TX_SIZE": Int64(NetifRing.maximumTransmitSize),
    "sizeof(grant_ref_t)": Int64(MemoryLayout<GrantReference>.size),
    "sizeof(struct grant_entry_v1)": Int64(GrantTableV1.entrySize),
    "GTF_permit_access": Int64(GrantFlags.permitAccess.rawValue),
    "GTF_type_mask": Int64(GrantFlags.typeMask.rawValue),
    "GTF_readonly": Int64(GrantFlags.readOnly.rawValue),
    "GTF_reading": Int64(GrantFlags.reading.rawValue),
    "GTF_writing": Int64(GrantFlags.writing.rawValue),
    "GNTTAB_NR_RESERVED_ENTRIES": Int64(GrantTableV1.reservedEntries),
    "XenbusStateUnknown": Int64(XenbusState.unknown.rawValue),
    "XenbusStateInitialising": Int64(XenbusState.initialising.rawValue),
    "XenbusStateInitWait": Int64(XenbusState.initWait.rawValue),
    "XenbusStateInitialised": Int64(XenbusState.initialised.rawValue),
    "XenbusStateConnected": Int64(XenbusState.connected.rawValue),
    "XenbusStateClosing": Int64(XenbusState.closing.rawValue),
    "XenbusStateClosed": Int64(XenbusState.closed.rawValue),
    "XenbusStateReconfiguring": Int64(XenbusState.reconfiguring.rawValue),
    "XenbusStateReconfigured": Int64(XenbusState.reconfigured.rawValue),
  ]

  @Test func theCTableIsFilled() {
    #expect(Self.c.count > 50)
  }

  @Test(arguments: Array(values.keys).sorted())
  func valueMatchesHeader(name: String) {
    #expect(Self.c[name] != nil, "the C table has no \(name)")
    #expect(Self.values[name] == Self.c[name], "\(name)")
  }

  /// Writes an entry whose field `k` holds bytes `k*0x10 + 1, +2, ...` and returns the bytes.
  static func bytes(size: Int, _ store: (UnsafeMutableRawPointer) -> Void) -> [UInt8] {
    var bytes = [UInt8](repeating: 0xEE, count: 16)
    bytes.withUnsafeMutableBytes { store($0.baseAddress!) }
    return Array(bytes.prefix(size))
  }

  /// The little-endian bytes of `value`, `width` of them.
  static func littleEndian(_ value: UInt64, width: Int) -> [UInt8] {
    (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
  }

  /// Checks that `field` (of `width` bytes, value `value`) sits at the C offset `name`.
  static func expectField(
    _ bytes: [UInt8], _ name: String, value: UInt64, width: Int,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    guard let offset = c[name] else {
      Issue.record("the C table has no \(name)", sourceLocation: sourceLocation)
      return
    }
    let start = Int(offset)
    #expect(
      Array(bytes[start..<(start + width)]) == littleEndian(value, width: width), "\(name)",
      sourceLocation: sourceLocation)
  }

  @Test func transmitRequestFieldsSitAtTheHeaderOffsets() {
    let request = NetifTXRequest(
      grant: GrantReference(rawValue: 0x1413_1211), offset: 0x2221,
      flags: NetifTXFlags(rawValue: 0x3231), id: 0x4241, size: 0x5251)
    let bytes = Self.bytes(size: NetifTXRequest.byteCount) { request.store(to: $0) }
    Self.expectField(bytes, "offsetof(struct netif_tx_request, gref)", value: 0x1413_1211, width: 4)
    Self.expectField(bytes, "offsetof(struct netif_tx_request, offset)", value: 0x2221, width: 2)
    Self.expectField(bytes, "offsetof(struct netif_tx_request, flags)", value: 0x3231, width: 2)
    Self.expectField(bytes, "offsetof(struct netif_tx_request, id)", value: 0x4241, width: 2)
    Self.expectField(bytes, "offsetof(struct netif_tx_request, size)", value: 0x5251, width: 2)
    bytes.withUnsafeBytes { #expect(NetifTXRequest(loadingFrom: $0.baseAddress!) == request) }
  }

  @Test func transmitResponseFieldsSitAtTheHeaderOffsets() {
    let response = NetifTXResponse(id: 0x1211, status: NetifResponseStatus(rawValue: -2))
    let bytes = Self.bytes(size: NetifTXResponse.byteCount) { response.store(to: $0) }
    Self.expectField(bytes, "offsetof(struct netif_tx_response, id)", value: 0x1211, width: 2)
    Self.expectField(bytes, "offsetof(struct netif_tx_response, status)", value: 0xFFFE, width: 2)
    bytes.withUnsafeBytes { #expect(NetifTXResponse(loadingFrom: $0.baseAddress!) == response) }
  }

  @Test func receiveRequestFieldsSitAtTheHeaderOffsets() {
    let request = NetifRXRequest(id: 0x1211, grant: GrantReference(rawValue: 0x2423_2221))
    let bytes = Self.bytes(size: NetifRXRequest.byteCount) { request.store(to: $0) }
    Self.expectField(bytes, "offsetof(struct netif_rx_request, id)", value: 0x1211, width: 2)
    Self.expectField(bytes, "offsetof(struct netif_rx_request, gref)", value: 0x2423_2221, width: 4)
    bytes.withUnsafeBytes { #expect(NetifRXRequest(loadingFrom: $0.baseAddress!) == request) }
  }

  @Test func receiveResponseFieldsSitAtTheHeaderOffsets() {
    let response = NetifRXResponse(
      id: 0x1211, offset: 0x2221, flags: NetifRXFlags(rawValue: 0x3231), status: 1514)
    let bytes = Self.bytes(size: NetifRXResponse.byteCount) { response.store(to: $0) }
    Self.expectField(bytes, "offsetof(struct netif_rx_response, id)", value: 0x1211, width: 2)
    Self.expectField(bytes, "offsetof(struct netif_rx_response, offset)", value: 0x2221, width: 2)
    Self.expectField(bytes, "offsetof(struct netif_rx_response, flags)", value: 0x3231, width: 2)
    Self.expectField(bytes, "offsetof(struct netif_rx_response, status)", value: 1514, width: 2)
    bytes.withUnsafeBytes { #expect(NetifRXResponse(loadingFrom: $0.baseAddress!) == response) }
  }

  @Test func extraInfoFieldsSitAtTheHeaderOffsets() {
    let extra = NetifExtraInfo(
      type: 0x11, flags: 0x21, gsoSize: 0x3231, gsoType: 0x41, gsoFeatures: 0x5251)
    let bytes = Self.bytes(size: NetifExtraInfo.byteCount) { extra.store(to: $0) }
    Self.expectField(bytes, "offsetof(struct netif_extra_info, type)", value: 0x11, width: 1)
    Self.expectField(bytes, "offsetof(struct netif_extra_info, flags)", value: 0x21, width: 1)
    Self.expectField(
      bytes, "offsetof(struct netif_extra_info, u.gso.size)", value: 0x3231, width: 2)
    Self.expectField(bytes, "offsetof(struct netif_extra_info, u.gso.type)", value: 0x41, width: 1)
    Self.expectField(
      bytes, "offsetof(struct netif_extra_info, u.gso.features)", value: 0x5251, width: 2)
    bytes.withUnsafeBytes { #expect(NetifExtraInfo(loadingFrom: $0.baseAddress!) == extra) }
  }

  @Test func grantEntryFieldsSitAtTheHeaderOffsets() {
    var bytes = [UInt8](repeating: 0, count: 3 * GrantTableV1.entrySize)
    bytes.withUnsafeMutableBytes { buffer in
      let table = GrantTableV1(base: buffer.baseAddress!, entryCount: 3)
      table.grantAccess(
        GrantReference(rawValue: 1), to: XenDomainID(rawValue: 0x2221), frame: 0x4443_4241,
        readOnly: true)
    }
    let entry = Array(bytes[GrantTableV1.entrySize..<(2 * GrantTableV1.entrySize)])
    Self.expectField(
      entry, "offsetof(struct grant_entry_v1, flags)",
      value: UInt64(GrantFlags([.permitAccess, .readOnly]).rawValue), width: 2)
    Self.expectField(entry, "offsetof(struct grant_entry_v1, domid)", value: 0x2221, width: 2)
    Self.expectField(entry, "offsetof(struct grant_entry_v1, frame)", value: 0x4443_4241, width: 4)
    #expect(bytes[0..<8].allSatisfy { $0 == 0 } && bytes[16..<24].allSatisfy { $0 == 0 })
  }

  @Test func everyHeaderValueIsChecked() {
    let fieldOffsets = Set(
      Self.c.keys.filter { $0.hasPrefix("offsetof(") && !Self.values.keys.contains($0) })
    let covered = Set(Self.values.keys).union(Self.checkedElsewhere).union(fieldOffsets)
    #expect(Set(Self.c.keys).subtracting(covered).isEmpty)
    // Each field offset is looked up by one of the field tests above; their names are here.
    let used: Set<String> = [
      "offsetof(struct netif_tx_request, gref)", "offsetof(struct netif_tx_request, offset)",
      "offsetof(struct netif_tx_request, flags)", "offsetof(struct netif_tx_request, id)",
      "offsetof(struct netif_tx_request, size)", "offsetof(struct netif_tx_response, id)",
      "offsetof(struct netif_tx_response, status)", "offsetof(struct netif_rx_request, id)",
      "offsetof(struct netif_rx_request, gref)", "offsetof(struct netif_rx_response, id)",
      "offsetof(struct netif_rx_response, offset)", "offsetof(struct netif_rx_response, flags)",
      "offsetof(struct netif_rx_response, status)", "offsetof(struct netif_extra_info, type)",
      "offsetof(struct netif_extra_info, flags)", "offsetof(struct netif_extra_info, u.gso.size)",
      "offsetof(struct netif_extra_info, u.gso.type)",
      "offsetof(struct netif_extra_info, u.gso.features)",
      "offsetof(struct grant_entry_v1, flags)", "offsetof(struct grant_entry_v1, domid)",
      "offsetof(struct grant_entry_v1, frame)",
    ]
    #expect(fieldOffsets.subtracting(used).subtracting(Self.checkedElsewhere).isEmpty)
  }
}
