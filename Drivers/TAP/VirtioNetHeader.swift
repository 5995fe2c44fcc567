import NetCore

/// The virtio-net header a TAP device with `IFF_VNET_HDR` puts in front of every frame
/// (virtio 1.x `struct virtio_net_hdr`, 12 bytes with `TUNSETVNETHDRSZ 12`, little-endian):
/// how the kernel and the stack hand each other checksum and segmentation work.
struct VirtioNetHeader: Equatable {
  /// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: the transport checksum is partial (pseudo-header only).
  static let needsChecksum: UInt8 = 1
  /// `VIRTIO_NET_HDR_F_DATA_VALID`: the checksum was verified.
  static let dataValid: UInt8 = 2
  /// `VIRTIO_NET_HDR_GSO_NONE`, `_TCPV4`, `_UDP`, `_TCPV6`; `_ECN` is a flag bit.
  static let gsoNone: UInt8 = 0
  static let gsoTCPv4: UInt8 = 1
  static let gsoTCPv6: UInt8 = 4

  /// Bytes in the header.
  static let length = 12

  var flags: UInt8 = 0
  var gsoType: UInt8 = 0
  var headerLength: UInt16 = 0
  var gsoSize: UInt16 = 0
  var checksumStart: UInt16 = 0
  var checksumOffset: UInt16 = 0

  /// Reads the header at the front of `bytes` (the caller has checked there are 12).
  init(_ bytes: UnsafeRawBufferPointer) {
    flags = bytes[0]
    gsoType = bytes[1]
    headerLength = UInt16(bytes[2]) | UInt16(bytes[3]) << 8
    gsoSize = UInt16(bytes[4]) | UInt16(bytes[5]) << 8
    checksumStart = UInt16(bytes[6]) | UInt16(bytes[7]) << 8
    checksumOffset = UInt16(bytes[8]) | UInt16(bytes[9]) << 8
  }

  init() {}

  /// The header for a frame the stack sends, from its offload request (`frameStart` is the
  /// frame's start in the buffer's storage); `carriesIPv6` picks the segmentation type for a
  /// TCP segment over IPv6 (`VIRTIO_NET_HDR_GSO_TCPV6`) instead of IPv4.
  init(offload: TransmitOffload, frameStart: Int, carriesIPv6: Bool = false) {
    switch offload {
    case .none:
      break
    case .checksum(let start, let offset):
      flags = VirtioNetHeader.needsChecksum
      checksumStart = UInt16(start - frameStart)
      checksumOffset = UInt16(offset)
    case .tcpSegmentation(let start, let offset, let tcpHeaderLength, let segmentSize):
      flags = VirtioNetHeader.needsChecksum
      checksumStart = UInt16(start - frameStart)
      checksumOffset = UInt16(offset)
      gsoType = carriesIPv6 ? VirtioNetHeader.gsoTCPv6 : VirtioNetHeader.gsoTCPv4
      gsoSize = UInt16(segmentSize)
      headerLength = UInt16(start - frameStart + tcpHeaderLength)
    }
  }

  /// Writes the header into 12 bytes.
  func write(to bytes: UnsafeMutableRawPointer) {
    let fields: [UInt16] = [headerLength, gsoSize, checksumStart, checksumOffset, 0]
    bytes.storeBytes(of: flags, toByteOffset: 0, as: UInt8.self)
    bytes.storeBytes(of: gsoType, toByteOffset: 1, as: UInt8.self)
    for (index, field) in fields.enumerated() {
      bytes.storeBytes(of: field.littleEndian, toByteOffset: 2 + 2 * index, as: UInt16.self)
    }
  }

  /// Whether the kernel vouches for (or will never need) the transport checksum.
  var checksumTrusted: Bool {
    flags & (VirtioNetHeader.needsChecksum | VirtioNetHeader.dataValid) != 0
  }
}
