import NetCore
import Netfront

/// The back end of netif, simulated: what Linux's `xen-netback` does for one vif, on the same
/// shared pages and by the same layout as the front end, through a ``SimulatedXen``.
///
/// It writes the toolstack's keys for the device, follows the front end's xenbus state as
/// netback's `frontend_changed`/`set_backend_state` do, maps the rings when the front end
/// connects, takes frames off the TX ring (grant copies out of the front end's pages) and
/// copies frames into the buffers the front end posted on the RX ring.
///
/// Switches make it awkward on purpose: a stalled TX ring (so that it fills), responses held
/// back and published in bursts, TX responses in reverse order, received frames split into
/// small slots or preceded by an extra-info slot, error statuses, closing or vanishing.
public final class SimulatedNetback {
  public let xen: SimulatedXen
  public let frontendDomain: XenDomainID
  public let backendDomain: XenDomainID
  public let frontendPath: String
  public let backendPath: String
  /// Our xenbus state.
  public private(set) var state = XenbusState.initialising

  // MARK: Switches

  /// Leaves TX requests on the ring unread (the front end's ring fills up).
  public var stallTransmit = false
  /// Publishes responses only in whole bursts of this many (each ring); ``flushResponses()``
  /// publishes what is held.
  public var responseBurst = 1
  /// Answers each batch of TX requests in reverse order.
  public var reverseTransmitResponses = false
  /// Statuses for the next frames taken off the TX ring (instead of `okay`); such a frame is
  /// not passed on.
  public var transmitFailures: [NetifResponseStatus] = []
  /// The most bytes copied into one RX slot: smaller values split frames over several slots.
  public var receiveSlotSize = xenPageSize
  /// Where in the page received data starts.
  public var receiveOffset = 0
  /// The next this many frames for the front end are answered with `NETIF_RSP_ERROR` instead.
  public var receiveErrorFrames = 0
  /// Puts a GSO extra-info slot after the first slot of each received frame.
  public var receiveExtraInfo = false
  /// RX flags to set on each received frame's first slot.
  public var receiveFlags = NetifRXFlags()
  /// Publishes at most this many responses per ring at a time (nil: all), so that the front
  /// end sees frames whose later slots are not there yet.
  public var maximumResponsesPerPush: Int?
  /// Changes each RX data response before it is written (a hostile or broken back end).
  public var receiveResponseMutator: ((inout NetifRXResponse) -> Void)?

  // MARK: What it saw

  /// What the back end did and refused.
  public struct Counters: Sendable, Equatable {
    public var framesFromFrontend = 0
    public var framesToFrontend = 0
    public var transmitRequests = 0
    public var malformedTransmitRequests = 0
    public var framesDroppedNoRoom = 0
    public var notificationsSent = 0
    public var eventsReceived = 0
    public var connects = 0
    public var disconnects = 0
  }
  public private(set) var counters = Counters()
  /// How each frame passed on was flagged: its first request's flags and the extra-info
  /// entries after it (a GSO entry for a segment to cut up), in order.
  public private(set) var transmitMetadata: [(flags: NetifTXFlags, extraInfo: [NetifExtraInfo])] =
    []
  /// What the front end wrote when it connected.
  public private(set) var frontendKeys: [String: String] = [:]
  /// Where the first slot of the last frame for the front end went: the front end's grant
  /// and the offset in its page. The grant stays writable after the response (the front end
  /// posts the same buffer again), so a hostile back end can still change those bytes.
  public private(set) var lastReceiveSlot: (grant: GrantReference, offset: Int)?

  private var framesFromFrontend: [[UInt8]] = []
  private var framesToFrontend: [[UInt8]] = []
  /// Frames waiting for RX buffers at most.
  public var receiveQueueLimit = 1024

  private var tx: BackRing?
  private var rx: BackRing?
  private var ringReferences: [GrantReference] = []
  private var port: EventChannelPort?
  private var lastFrontendState: XenbusState?
  private var vanished = false

  /// Creates the device in xenstore as the toolstack (libxl) and the hotplug script would:
  /// the front end's `backend`, `backend-id`, `mac`, `state`; our `frontend`, features and
  /// `state`; then InitWait, unless `ready` is false (``becomeReady()`` does it later).
  public init(
    xen: SimulatedXen, frontendDomain: XenDomainID = XenDomainID(rawValue: 1),
    backendDomain: XenDomainID = .controlDomain, index: Int = 0, mac: MACAddress,
    mtu: Int? = nil, scatterGather: Bool = true, receiveCopy: Bool = true,
    segmentation: Bool = true, ready: Bool = true
  ) {
    self.xen = xen
    self.frontendDomain = frontendDomain
    self.backendDomain = backendDomain
    frontendPath = "/local/domain/\(frontendDomain.rawValue)/device/vif/\(index)"
    backendPath =
      "/local/domain/\(backendDomain.rawValue)/backend/vif/\(frontendDomain.rawValue)/\(index)"
    xen.write(frontendPath + "/backend", backendPath)
    xen.write(frontendPath + "/backend-id", "\(backendDomain.rawValue)")
    xen.write(frontendPath + "/handle", "\(index)")
    xen.write(frontendPath + "/mac", "\(mac)")
    if let mtu { xen.write(frontendPath + "/mtu", "\(mtu)") }
    xen.write(frontendPath + "/state", "1")
    xen.write(backendPath + "/frontend", frontendPath)
    xen.write(backendPath + "/frontend-id", "\(frontendDomain.rawValue)")
    xen.write(backendPath + "/online", "1")
    xen.write(backendPath + "/mac", "\(mac)")
    xen.write(backendPath + "/feature-sg", scatterGather ? "1" : "0")
    xen.write(backendPath + "/feature-gso-tcpv4", segmentation ? "1" : "0")
    xen.write(backendPath + "/feature-gso-tcpv6", segmentation ? "1" : "0")
    xen.write(backendPath + "/feature-rx-copy", receiveCopy ? "1" : "0")
    xen.write(backendPath + "/feature-rx-flip", "0")
    xen.write(backendPath + "/feature-split-event-channels", "1")
    xen.write(backendPath + "/multi-queue-max-queues", "2")
    setState(.initialising)
    if ready { becomeReady() }
  }

  /// The hotplug script is done: InitWait.
  public func becomeReady() {
    if state == .initialising { setState(.initWait) }
  }

  private func setState(_ new: XenbusState) {
    state = new
    xen.write(backendPath + "/state", "\(new.rawValue)")
  }

  // MARK: Frames

  /// Queues a frame for the front end (as the vif's transmit path does); false when the
  /// queue is full (dropped).
  @discardableResult
  public func deliver(_ frame: [UInt8]) -> Bool {
    guard framesToFrontend.count < receiveQueueLimit else {
      counters.framesDroppedNoRoom += 1
      return false
    }
    framesToFrontend.append(frame)
    return true
  }

  /// The frames the front end sent since the last call.
  public func takeFramesFromFrontend() -> [[UInt8]] {
    defer { framesFromFrontend.removeAll() }
    return framesFromFrontend
  }

  /// Frames waiting for RX buffers.
  public var pendingToFrontend: Int { framesToFrontend.count }

  /// Responses written but not yet published (held back by ``responseBurst``).
  public var unpublishedResponses: Int {
    Int((tx?.unpushedResponses ?? 0) + (rx?.unpushedResponses ?? 0))
  }

  // MARK: Running

  /// Follows the front end's state, then moves frames both ways.
  public func process() {
    guard !vanished else { return }
    let frontText = xen.read(frontendPath + "/state")
    let front = frontText.flatMap(XenbusState.init(xenstoreValue:)) ?? .unknown
    if front != lastFrontendState {
      lastFrontendState = front
      frontendChanged(front)
    }
    guard state == .connected, let port else { return }
    if (try? xen.takeEvent(domain: backendDomain, port: port)) == true {
      counters.eventsReceived += 1
    }
    var rounds = 0
    while rounds < 8 {
      rounds += 1
      let movedTX = processTransmit()
      let movedRX = processReceive()
      publish(force: false)
      if !movedTX && !movedRX { break }
    }
  }

  /// Publishes every held-back response now.
  public func flushResponses() {
    publish(force: true)
  }

  /// Writes `bytes` at `index` of the last frame for the front end, into the page of its
  /// first slot, after the response went out: what a hostile back end can do while the
  /// front end parses, since the grant stays open. Returns whether Xen allowed the copy.
  @discardableResult
  public func rewriteLastReceivedFrame(at index: Int, with bytes: [UInt8]) -> Bool {
    guard let slot = lastReceiveSlot else { return false }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
    defer { buffer.deallocate() }
    buffer.copyBytes(from: bytes)
    do {
      try xen.copy(
        UnsafeRawBufferPointer(buffer), toGrant: slot.grant, of: frontendDomain,
        offset: slot.offset + index, by: backendDomain)
    } catch {
      return false
    }
    return true
  }

  /// The device is being unplugged from our side: disconnect and go Closing (the front end
  /// is expected to go Closed, and then we do too).
  public func close() {
    if state == .connected { disconnect() }
    if state != .closed { setState(.closing) }
  }

  /// The back end disappears: its directory is removed from xenstore at once.
  public func vanish() {
    if state == .connected { disconnect() }
    vanished = true
    xen.remove(backendPath)
  }

  /// Writes a state of our own choosing (for handshake tests).
  public func forceState(_ new: XenbusState) {
    setState(new)
  }

  // MARK: xenbus (netback's frontend_changed and set_backend_state)

  private func frontendChanged(_ front: XenbusState) {
    switch front {
    case .initialising:
      switch state {
      case .connected:
        disconnect()
        setState(.closing)
        setState(.closed)
        setState(.initWait)
      case .closing:
        setState(.closed)
        setState(.initWait)
      case .closed:
        setState(.initWait)
      default:
        break
      }
    case .connected:
      if state == .initWait { connect() }
    case .closing:
      if state == .connected { disconnect() }
      if state == .initWait || state == .connected { setState(.closing) }
    case .closed, .unknown:
      if state == .connected { disconnect() }
      if state == .initWait || state == .connected { setState(.closing) }
      if state == .closing { setState(.closed) }
    default:
      break
    }
  }

  private func connect() {
    var keys: [String: String] = [:]
    for key in [
      "tx-ring-ref", "rx-ring-ref", "event-channel", "request-rx-copy", "feature-rx-notify",
      "feature-sg", "feature-no-csum-offload", "feature-gso-tcpv4", "feature-gso-tcpv6",
      "feature-ipv6-csum-offload", "multi-queue-num-queues",
    ] {
      if let value = xen.read(frontendPath + "/" + key) { keys[key] = value }
    }
    frontendKeys = keys
    guard let txText = keys["tx-ring-ref"], let txRef = UInt32(txText),
      let rxText = keys["rx-ring-ref"], let rxRef = UInt32(rxText),
      let portText = keys["event-channel"], let remotePort = UInt32(portText),
      keys["request-rx-copy"] == "1"
    else {
      // xenbus_dev_fatal: the device goes Closing.
      setState(.closing)
      return
    }
    do {
      let txPage = try xen.mapGrant(
        owner: frontendDomain, GrantReference(rawValue: txRef), by: backendDomain, writable: true)
      ringReferences.append(GrantReference(rawValue: txRef))
      let rxPage = try xen.mapGrant(
        owner: frontendDomain, GrantReference(rawValue: rxRef), by: backendDomain, writable: true)
      ringReferences.append(GrantReference(rawValue: rxRef))
      port = try xen.bindInterdomain(
        domain: backendDomain, remote: frontendDomain,
        remotePort: EventChannelPort(rawValue: remotePort))
      let txRing = BackRing(shared: SharedRing(page: txPage, entrySize: NetifRing.txEntrySize))
      let rxRing = BackRing(shared: SharedRing(page: rxPage, entrySize: NetifRing.rxEntrySize))
      guard !txRing.requestProducerOverflows, !rxRing.requestProducerOverflows else {
        throw SimulatedXenError.injected("front end's ring indices are inconsistent")
      }
      // Nothing to do yet, but ask for a notification of the first request.
      _ = txRing.finalCheckForRequests()
      _ = rxRing.finalCheckForRequests()
      tx = txRing
      rx = rxRing
    } catch {
      disconnect()
      setState(.closing)
      return
    }
    counters.connects += 1
    setState(.connected)
  }

  private func disconnect() {
    for reference in ringReferences { xen.unmapGrant(owner: frontendDomain, reference) }
    ringReferences.removeAll()
    if let port { try? xen.close(domain: backendDomain, port: port) }
    port = nil
    tx = nil
    rx = nil
    counters.disconnects += 1
  }

  private func notifyFrontend() {
    guard let port else { return }
    try? xen.send(domain: backendDomain, port: port)
    counters.notificationsSent += 1
  }

  private func publish(force: Bool) {
    var notify = false
    let burst = UInt32(max(1, responseBurst))
    for ring in [tx, rx].compactMap({ $0 }) {
      let unpushed = ring.unpushedResponses
      // Whole bursts only, unless forced.
      var count = force ? unpushed : unpushed - unpushed % burst
      count = min(count, UInt32(maximumResponsesPerPush ?? Int(UInt32.max)))
      if count > 0 && ring.pushResponses(count: count) { notify = true }
    }
    if notify { notifyFrontend() }
  }

  // MARK: Transmit (front end → us)

  /// Takes whole packets off the TX ring; returns whether it took any.
  private func processTransmit() -> Bool {
    guard !stallTransmit, var ring = tx else { return false }
    defer { tx = ring }
    var responses: [NetifTXResponse] = []
    var moved = false
    while true {
      let available = ring.unconsumedRequests
      if available == 0 {
        if ring.finalCheckForRequests() { continue }
        break
      }
      // Gather one packet: its first request, extra-info slots, more fragments.
      let first = NetifTXRequest(loadingFrom: ring.requestEntry())
      var slots: [NetifTXRequest] = [first]
      var extras = 0
      var extraInfo: [NetifExtraInfo] = []
      var ahead: UInt32 = 1
      var complete = true
      if first.flags.contains(.extraInfo) {
        var more = true
        while more {
          guard ahead < available else {
            complete = false
            break
          }
          let entry = NetifExtraInfo(loadingFrom: ring.requestEntry(ahead: ahead))
          extraInfo.append(entry)
          more = entry.hasMore
          extras += 1
          ahead += 1
        }
      }
      var last = first
      while complete && last.flags.contains(.moreData) {
        guard ahead < available else {
          complete = false
          break
        }
        last = NetifTXRequest(loadingFrom: ring.requestEntry(ahead: ahead))
        slots.append(last)
        ahead += 1
      }
      // Wait for the rest of a packet (netback sets req_event and waits too).
      guard complete else {
        _ = ring.waitForRequests(ahead + 1)
        break
      }
      for _ in 0..<ahead { ring.consumeRequest() }
      counters.transmitRequests += Int(ahead)
      moved = true

      var status = NetifResponseStatus.okay
      var frame: [UInt8] = []
      let rest = slots.dropFirst().reduce(0) { $0 + Int($1.size) }
      let firstLength = Int(first.size) - rest
      if slots.count > NetifRing.minimumSlotsPerPacket || firstLength < 0 {
        status = .error
      } else {
        for (index, slot) in slots.enumerated() {
          let length = index == 0 ? firstLength : Int(slot.size)
          do {
            try xen.copy(
              fromGrant: slot.grant, of: frontendDomain, offset: Int(slot.offset), count: length,
              by: backendDomain, into: &frame)
          } catch {
            status = .error
            break
          }
        }
      }
      if status == .error {
        counters.malformedTransmitRequests += 1
      } else if !transmitFailures.isEmpty {
        status = transmitFailures.removeFirst()
      } else {
        counters.framesFromFrontend += 1
        framesFromFrontend.append(frame)
        transmitMetadata.append((first.flags, extraInfo))
      }
      for slot in slots { responses.append(NetifTXResponse(id: slot.id, status: status)) }
      for _ in 0..<extras { responses.append(NetifTXResponse(id: 0, status: .null)) }
    }
    if reverseTransmitResponses { responses.reverse() }
    for response in responses {
      response.store(to: ring.nextResponseEntry)
      ring.produceResponse()
    }
    return moved
  }

  // MARK: Receive (us → front end)

  /// Copies queued frames into posted RX buffers; returns whether it delivered any.
  private func processReceive() -> Bool {
    guard var ring = rx else { return false }
    defer { rx = ring }
    var moved = false
    while let frame = framesToFrontend.first {
      if receiveErrorFrames > 0 {
        guard ring.waitForRequests(1) else { break }
        let request = NetifRXRequest(loadingFrom: ring.requestEntry())
        ring.consumeRequest()
        NetifRXResponse(
          id: request.id, offset: 0, flags: [], status: NetifResponseStatus.error.rawValue
        )
        .store(to: ring.nextResponseEntry)
        ring.produceResponse()
        receiveErrorFrames -= 1
        framesToFrontend.removeFirst()
        moved = true
        continue
      }
      let slotSize = max(1, min(receiveSlotSize, xenPageSize - receiveOffset))
      let dataSlots = max(1, (frame.count + slotSize - 1) / slotSize)
      let needed = dataSlots + (receiveExtraInfo ? 1 : 0)
      guard ring.waitForRequests(UInt32(needed)) else { break }
      var position = 0
      for slot in 0..<dataSlots {
        let request = NetifRXRequest(loadingFrom: ring.requestEntry())
        ring.consumeRequest()
        let length = min(slotSize, frame.count - position)
        var status = Int16(length)
        frame.withUnsafeBytes { bytes in
          do {
            try xen.copy(
              UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)]),
              toGrant: request.grant, of: frontendDomain, offset: receiveOffset, by: backendDomain)
          } catch {
            status = NetifResponseStatus.error.rawValue
          }
        }
        if slot == 0 { lastReceiveSlot = (request.grant, receiveOffset) }
        var flags: NetifRXFlags = slot == 0 ? receiveFlags : []
        if slot < dataSlots - 1 { flags.insert(.moreData) }
        if slot == 0 && receiveExtraInfo { flags.insert(.extraInfo) }
        var response = NetifRXResponse(
          id: request.id, offset: UInt16(receiveOffset), flags: flags, status: status)
        receiveResponseMutator?(&response)
        response.store(to: ring.nextResponseEntry)
        ring.produceResponse()
        if slot == 0 && receiveExtraInfo {
          // The extra-info entry takes the next request's slot (and so its buffer).
          ring.consumeRequest()
          NetifExtraInfo(type: NetifExtraInfo.typeGSO, flags: 0, gsoSize: 1448, gsoType: 1)
            .store(to: ring.nextResponseEntry)
          ring.produceResponse()
        }
        position += length
      }
      counters.framesToFrontend += 1
      framesToFrontend.removeFirst()
      moved = true
    }
    return moved
  }
}
