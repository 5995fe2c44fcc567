import NetCore
import Netfront
import NetfrontSimulation
import Testing

/// TCP segmentation offload on transmit (netif.h "Extra Info", `feature-gso-tcpv4` and
/// `feature-gso-tcpv6`): a segment larger than the MTU goes out in several slots with a GSO
/// extra-info entry after its first request and its checksum left blank, as Linux's netfront
/// sends them (`xennet_start_xmit`); a back end that does not offer it gets none.
struct SegmentationOffloadTests {
  /// An Ethernet frame of `length` bytes with `etherType`, the rest numbered.
  static func frame(_ number: Int, length: Int, etherType: UInt16 = 0x0800) -> [UInt8] {
    var bytes = NetfrontFixture.frame(number, length: length)
    bytes[12] = UInt8(etherType >> 8)
    bytes[13] = UInt8(etherType & 0xFF)
    return bytes
  }

  /// Offers `frames`, each with its offload, to the device; returns how many it left queued.
  static func transmit(
    _ frames: [([UInt8], TransmitOffload)], to fixture: NetfrontFixture
  ) throws -> Int {
    var queue = FrameQueue(limit: 4096)
    for (bytes, offload) in frames {
      let packet = PacketBuffer(copying: bytes.span)
      packet.offload = offload
      queue.append(packet)
    }
    try fixture.device.transmit(&queue, now: .zero)
    return queue.count
  }

  /// What the stack asks of a 64 KiB segment: checksum at 34 + 16, segments of `size`.
  static func segmentation(size: Int) -> TransmitOffload {
    .tcpSegmentation(start: 34, checksumOffset: 16, headerLength: 20, segmentSize: size)
  }

  @Test func theBackendsOfferIsRead() throws {
    #expect(try NetfrontFixture().device.backendFeatures.takesTCPSegmentation)
    let plain = try NetfrontFixture(segmentation: false)
    #expect(!plain.device.backendFeatures.takesTCPSegmentation)
    let single = try NetfrontFixture(scatterGather: false)
    #expect(!single.device.backendFeatures.takesTCPSegmentation, "needs several slots too")
  }

  @Test func largeSegmentsGoOutWithAGSOEntryAndABlankChecksum() throws {
    let fixture = try NetfrontFixture()
    let v4 = Self.frame(1, length: 14 + 20 + 20 + 44 * 1448)  // 63,766 bytes: 16 slots
    let v6 = Self.frame(2, length: 14 + 40 + 20 + 9 * 1428, etherType: 0x86DD)  // 4 slots
    let small = Self.frame(3, length: 1514)
    let frames = [
      (v4, Self.segmentation(size: 1448)), (v6, Self.segmentation(size: 1428)),
      (small, TransmitOffload.checksum(start: 34, checksumOffset: 16)),
    ]
    #expect(try Self.transmit(frames, to: fixture) == 0)
    fixture.netback.process()
    #expect(fixture.netback.takeFramesFromFrontend() == [v4, v6, small])
    let metadata = fixture.netback.transmitMetadata
    try #require(metadata.count == 3)
    #expect(metadata[0].flags == [.checksumBlank, .dataValidated, .extraInfo, .moreData])
    #expect(
      metadata[0].extraInfo == [
        NetifExtraInfo(
          type: NetifExtraInfo.typeGSO, flags: 0, gsoSize: 1448,
          gsoType: NetifExtraInfo.gsoTypeTCPv4)
      ])
    #expect(
      metadata[1].extraInfo == [
        NetifExtraInfo(
          type: NetifExtraInfo.typeGSO, flags: 0, gsoSize: 1428,
          gsoType: NetifExtraInfo.gsoTypeTCPv6)
      ])
    #expect(metadata[2].flags == [.checksumBlank, .dataValidated] && metadata[2].extraInfo.isEmpty)
    // 16 + 1 entries, 4 + 1, 1.
    #expect(fixture.netback.counters.transmitRequests == 17 + 5 + 1)
    #expect(fixture.counters.segmentationFramesSent == 2)
    #expect(fixture.counters.transmitTooLarge == 0 && fixture.counters.transmitErrors == 0)
    // The extra-info entries' responses (NETIF_RSP_NULL) free nothing and break nothing.
    _ = try Self.transmit([], to: fixture)
    #expect(fixture.counters.transmitMalformed == 0)
  }

  @Test func theExtraInfoEntryCountsAgainstTheRing() throws {
    let fixture = try NetfrontFixture()
    fixture.netback.stallTransmit = true
    // Each takes 16 slots and the extra-info entry: 15 fill 255 of the ring's 256 entries.
    let frames = (0..<20).map {
      (Self.frame($0, length: 14 + 20 + 20 + 44 * 1448), Self.segmentation(size: 1448))
    }
    #expect(try Self.transmit(frames, to: fixture) == 5)
    #expect(fixture.counters.transmitRingFull == 1)
    fixture.netback.stallTransmit = false
    fixture.netback.process()
    #expect(try Self.transmit(Array(frames.suffix(5)), to: fixture) == 0)
    fixture.netback.process()
    #expect(fixture.netback.takeFramesFromFrontend() == frames.map(\.0))
    #expect(fixture.counters.segmentationFramesSent == 20)
  }

  @Test func largeSegmentsAreDroppedWhenTheBackendDoesNotCutThemUp() throws {
    let fixture = try NetfrontFixture(segmentation: false)
    let small = Self.frame(1, length: 1514)
    let frames = [
      (Self.frame(0, length: 20_000), Self.segmentation(size: 1448)),
      (small, TransmitOffload.none),
    ]
    #expect(try Self.transmit(frames, to: fixture) == 0)
    fixture.netback.process()
    #expect(fixture.netback.takeFramesFromFrontend() == [small])
    #expect(fixture.counters.transmitTooLarge == 1 && fixture.counters.segmentationFramesSent == 0)
  }
}

/// TCP segments of up to 64 KiB on receive (`feature-gso-tcpv4` written by the front end): the
/// back end sends them over several slots with a GSO extra-info slot after the first and the
/// checksum left blank; the device hands the stack the whole frame, vouching for its checksum.
struct ReceiveSegmentationTests {
  @Test func aLargeSegmentArrivesWholeWithItsChecksumVouchedFor() throws {
    let fixture = try NetfrontFixture()
    fixture.netback.receiveExtraInfo = true
    fixture.netback.receiveFlags = [.checksumBlank, .dataValidated]
    let large = SegmentationOffloadTests.frame(1, length: 14 + 20 + 32 + 45 * 1448)  // 16 slots
    let small = SegmentationOffloadTests.frame(2, length: 60)
    #expect(fixture.netback.deliver(large) && fixture.netback.deliver(small))
    fixture.netback.process()
    var received: [([UInt8], Bool)] = []
    while true {
      let count = try fixture.device.receive(limit: 64, now: .zero) { frame, info in
        var bytes: [UInt8] = []
        for index in 0..<frame.count { bytes.append(frame[index]) }
        received.append((bytes, info.transportChecksumVerified))
      }
      if count == 0 { break }
    }
    try #require(received.count == 2)
    #expect(received[0].0 == large && received[0].1)
    #expect(received[1].0 == small && received[1].1)
    #expect(fixture.counters.receiveExtraInfo == 2 && fixture.counters.receiveMalformed == 0)
    #expect(fixture.counters.multiSlotFramesReceived == 1)
  }
}
