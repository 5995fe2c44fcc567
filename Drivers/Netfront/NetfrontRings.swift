import NetCore

/// The data path of ``NetfrontDevice``: both rings, the pages behind them, and the state of a
/// frame being received in several slots. A class, so that its arrays are changed in place.
final class NetfrontRings {
  var tx: FrontRing
  var rx: FrontRing
  let txRingPage: GrantedPage
  let rxRingPage: GrantedPage
  let port: EventChannelPort

  /// Receive buffers by request id; whether each is posted; those ready to post.
  let receiveBuffers: [GrantedPage]
  private var receivePosted: [Bool]
  private var receiveFree: [UInt16]
  /// The buffer posted in each RX ring slot: an extra-info response takes the place of a
  /// request and releases the buffer posted in its slot (netif.h "Extra Info").
  private var slotBuffer: [UInt16]

  /// Transmit buffers by request id; whether each is on the ring; those free.
  let transmitBuffers: [GrantedPage]
  private var transmitInFlight: [Bool]
  private var transmitFree: [UInt16]

  /// Every received frame is copied here before the stack sees it (64 KiB: the largest
  /// frame), also one in a single slot: the receive buffers stay granted to the back end,
  /// which can write them at any time, so a frame parsed in place could change after it was
  /// checked. One copy per frame, as Linux's netfront copies a frame's head out of the page.
  private let assembly: UnsafeMutableRawBufferPointer
  private var partial = PartialFrame()

  /// Where a frame that spans slots stands.
  struct PartialFrame {
    var inProgress = false
    var length = 0
    var slots = 0
    var flags = NetifRXFlags()
    /// More data slots follow (`NETRXF_more_data` on the last data slot).
    var moreData = false
    /// Extra-info slots follow (`NETRXF_extra_info`, then `XEN_NETIF_EXTRA_FLAG_MORE`).
    var extraPending = false
    /// An error or a malformed slot was seen: the frame is dropped when it ends.
    var broken = false
  }

  init(
    txRingPage: GrantedPage, rxRingPage: GrantedPage, receiveBuffers: [GrantedPage],
    transmitBuffers: [GrantedPage], port: EventChannelPort, startIndex: UInt32
  ) {
    self.txRingPage = txRingPage
    self.rxRingPage = rxRingPage
    self.port = port
    tx = FrontRing(
      shared: SharedRing(page: txRingPage.address, entrySize: NetifRing.txEntrySize),
      at: startIndex, initializing: true)
    rx = FrontRing(
      shared: SharedRing(page: rxRingPage.address, entrySize: NetifRing.rxEntrySize),
      at: startIndex, initializing: true)
    self.receiveBuffers = receiveBuffers
    receivePosted = Array(repeating: false, count: receiveBuffers.count)
    receiveFree = (0..<receiveBuffers.count).reversed().map { UInt16($0) }
    slotBuffer = Array(repeating: UInt16.max, count: Int(rx.size))
    self.transmitBuffers = transmitBuffers
    transmitInFlight = Array(repeating: false, count: transmitBuffers.count)
    transmitFree = (0..<transmitBuffers.count).reversed().map { UInt16($0) }
    assembly = .allocate(byteCount: 65536 + 64, alignment: 64)
  }

  /// Frees the assembly buffer (the pages are the core's to give back).
  func deallocate() {
    assembly.deallocate()
  }

  // MARK: Receiving

  /// Posts every free receive buffer as an RX request (not yet pushed).
  func postReceiveBuffers() {
    while let id = receiveFree.popLast() {
      precondition(!rx.isFull, "NetfrontRings: more receive buffers than ring slots")
      NetifRXRequest(id: id, grant: receiveBuffers[Int(id)].reference).store(
        to: rx.nextRequestEntry)
      slotBuffer[Int(rx.requestProducer & (rx.size &- 1))] = id
      receivePosted[Int(id)] = true
      rx.produceRequest()
    }
  }

  /// Reads responses and hands each complete frame to `handler`, until `limit` frames or
  /// no more responses; then asks for an event on the next response
  /// (`RING_FINAL_CHECK_FOR_RESPONSES`). Returns the frames handled (delivered or dropped)
  /// and whether responses are left because the limit was reached.
  func receive(
    limit: Int, counters: inout NetfrontCounters,
    _ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void
  ) throws(NetfrontRingViolation) -> (frames: Int, workLeft: Bool) {
    var frames = 0
    while true {
      let producer = rx.shared.responseProducer
      if rx.responseProducerOverflows(producer) { throw .tooManyResponses }
      while rx.responseConsumer != producer {
        if frames >= limit && !partial.inProgress { return (frames, true) }
        receiveSlot(counters: &counters, frames: &frames, handler)
      }
      if frames >= limit && !partial.inProgress {
        return (frames, rx.unconsumedResponses > 0)
      }
      if !rx.finalCheckForResponses() { return (frames, false) }
    }
  }

  /// Consumes one response slot.
  private func receiveSlot(
    counters: inout NetfrontCounters, frames: inout Int,
    _ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void
  ) {
    let entry = rx.nextResponseEntry
    let slot = Int(rx.responseConsumer & (rx.size &- 1))
    if partial.extraPending {
      let extra = NetifExtraInfo(loadingFrom: entry)
      rx.consumeResponse()
      counters.receiveExtraInfo += 1
      release(slotBuffer[slot])
      partial.extraPending = extra.hasMore
      if !partial.extraPending && !partial.moreData {
        finishFrame(counters: &counters, frames: &frames, handler)
      }
      return
    }
    let response = NetifRXResponse(loadingFrom: entry)
    rx.consumeResponse()
    let first = !partial.inProgress
    if first {
      partial = PartialFrame(inProgress: true, flags: response.flags)
      partial.extraPending = response.flags.contains(.extraInfo)
    }
    partial.moreData = response.flags.contains(.moreData)
    let id = Int(response.id)
    guard id < receiveBuffers.count, receivePosted[id] else {
      if !partial.broken { counters.receiveMalformed += 1 }
      partial.broken = true
      if !partial.moreData && !partial.extraPending {
        finishFrame(counters: &counters, frames: &frames, handler)
      }
      return
    }
    receivePosted[id] = false
    partial.slots += 1
    if response.status < 0 {
      if !partial.broken { counters.receiveErrors += 1 }
      partial.broken = true
    } else if !partial.broken {
      let offset = Int(response.offset)
      let size = Int(response.status)
      let bytes = UnsafeRawPointer(receiveBuffers[id].address) + offset
      if offset + size > xenPageSize || partial.length + size > assembly.count - 64 {
        counters.receiveMalformed += 1
        partial.broken = true
      } else {
        (assembly.baseAddress! + partial.length).copyMemory(from: bytes, byteCount: size)
        partial.length += size
      }
    }
    receiveFree.append(UInt16(id))
    if !partial.moreData && !partial.extraPending {
      finishFrame(counters: &counters, frames: &frames, handler)
    }
  }

  private func finishFrame(
    counters: inout NetfrontCounters, frames: inout Int,
    _ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void
  ) {
    if !partial.broken {
      deliver(
        UnsafePointer(assembly.baseAddress!.assumingMemoryBound(to: UInt8.self)),
        count: partial.length,
        slots: partial.slots, counters: &counters, handler)
    }
    frames += 1
    partial = PartialFrame()
  }

  private func deliver(
    _ bytes: UnsafePointer<UInt8>, count: Int, slots: Int, counters: inout NetfrontCounters,
    _ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void
  ) {
    counters.framesReceived += 1
    counters.bytesReceived += UInt64(count)
    if slots > 1 { counters.multiSlotFramesReceived += 1 }
    // A checksum the back end validated, or left blank because the packet never left the
    // host, needs no check (virtio-net's DATA_VALID and NEEDS_CSUM).
    let verified = !partial.flags.intersection([.dataValidated, .checksumBlank]).isEmpty
    handler(
      Span(_unsafeElements: UnsafeBufferPointer(start: bytes, count: count)),
      ReceivedFrameInfo(transportChecksumVerified: verified))
  }

  /// Puts a posted buffer back on the free list (after an extra-info slot took its place).
  private func release(_ id: UInt16) {
    let index = Int(id)
    guard index < receivePosted.count, receivePosted[index] else { return }
    receivePosted[index] = false
    receiveFree.append(id)
  }

  // MARK: Sending

  /// Takes back the buffers of completed transmit requests (in whatever order the back end
  /// answers), then asks for an event on the next completion.
  func collectTransmitted(counters: inout NetfrontCounters) throws(NetfrontRingViolation) {
    repeat {
      let producer = tx.shared.responseProducer
      if tx.responseProducerOverflows(producer) { throw .tooManyResponses }
      while tx.responseConsumer != producer {
        let response = NetifTXResponse(loadingFrom: tx.nextResponseEntry)
        tx.consumeResponse()
        if response.status == .null { continue }
        if response.status == .error || response.status == .dropped {
          counters.transmitErrors += 1
        }
        let id = Int(response.id)
        if id < transmitInFlight.count, transmitInFlight[id] {
          transmitInFlight[id] = false
          transmitFree.append(response.id)
        } else {
          counters.transmitMalformed += 1
        }
      }
    } while tx.finalCheckForResponses()
  }

  /// Copies frames from the front of `queue` into free buffers and writes their requests
  /// (not yet pushed), one slot per 4 KiB; stops when the ring or the buffers run out.
  /// A frame whose checksum is left to the back end goes with `NETTXF_csum_blank`; a TCP
  /// segment larger than the MTU, when the back end takes them (`segmentation`: it offers
  /// `feature-sg` and `feature-gso-tcpv4`), with a GSO extra-info entry after its first
  /// request (netif.h "Extra Info"; netback cuts it into `segmentSize` pieces). Other frames
  /// that cannot go are dropped and counted.
  func send(
    _ queue: inout FrameQueue, scatterGather: Bool, segmentation: Bool,
    counters: inout NetfrontCounters
  ) {
    while let frame = queue.first {
      let length = frame.count
      let slots = max(1, (length + xenPageSize - 1) / xenPageSize)
      var flags = NetifTXFlags()
      var extraInfo: NetifExtraInfo? = nil
      switch frame.offload {
      case .none: break
      // netback finds the transport header itself and completes the checksum.
      case .checksum: flags = [.checksumBlank, .dataValidated]
      case .tcpSegmentation(_, _, _, let segmentSize):
        flags = [.checksumBlank, .dataValidated, .extraInfo]
        extraInfo = NetifExtraInfo(
          type: NetifExtraInfo.typeGSO, flags: 0, gsoSize: UInt16(clamping: segmentSize),
          gsoType: frame.carriesIPv6 ? NetifExtraInfo.gsoTypeTCPv6 : NetifExtraInfo.gsoTypeTCPv4)
      }
      if length == 0 || length > NetifRing.maximumTransmitSize || (slots > 1 && !scatterGather)
        || slots > NetifRing.minimumSlotsPerPacket
        || (extraInfo != nil && (!segmentation || extraInfo?.gsoSize == 0))
      {
        counters.transmitTooLarge += 1
        _ = queue.popFirst()
        continue
      }
      let entries = slots + (extraInfo == nil ? 0 : 1)
      guard tx.freeRequests >= UInt32(entries), transmitFree.count >= slots else {
        counters.transmitRingFull += 1
        return
      }
      frame.withUnsafeStorage { storage, range in
        var offset = range.lowerBound
        for slot in 0..<slots {
          let id = transmitFree.removeLast()
          transmitInFlight[Int(id)] = true
          let chunk = min(range.upperBound - offset, xenPageSize)
          let page = transmitBuffers[Int(id)]
          page.address.copyMemory(from: storage.baseAddress! + offset, byteCount: chunk)
          var slotFlags = slot == 0 ? flags : []
          if slot < slots - 1 { slotFlags.insert(.moreData) }
          NetifTXRequest(
            grant: page.reference, offset: 0, flags: slotFlags, id: id,
            size: UInt16(slot == 0 ? length : chunk)
          ).store(to: tx.nextRequestEntry)
          tx.produceRequest()
          // The extra-info entry takes the slot after the first request.
          if slot == 0, let extraInfo {
            extraInfo.store(to: tx.nextRequestEntry)
            tx.produceRequest()
          }
          offset += chunk
        }
      }
      counters.framesSent += 1
      counters.bytesSent += UInt64(length)
      if slots > 1 { counters.multiSlotFramesSent += 1 }
      if extraInfo != nil { counters.segmentationFramesSent += 1 }
      _ = queue.popFirst()
    }
  }
}

extension PacketBuffer {
  /// Whether the Ethernet frame's EtherType is IPv6's (0x86DD), for the GSO type.
  fileprivate var carriesIPv6: Bool {
    guard count >= 14 else { return false }
    return withUnsafeStorage { storage, range in
      storage[range.lowerBound + 12] == 0x86 && storage[range.lowerBound + 13] == 0xDD
    }
  }
}

/// A back end that broke the ring protocol.
enum NetfrontRingViolation: Error {
  /// `rsp_prod` ran more than a ring's size past our consumer (`RING_RESPONSE_PROD_OVERFLOW`).
  case tooManyResponses
}
