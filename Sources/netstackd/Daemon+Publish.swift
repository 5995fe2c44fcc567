import ControlProtocol
import IPv6
import LinuxRuntime
import NetCore
import NetStack
import NetworkAPI
import Services

/// Published ports (`--publish`, `netstackd publish --control`) and UDP forwards
/// (`--forward udp:`) on the direct backend.
extension Daemon {
  /// Publishes the ports of `--publish` (a port that cannot be had ends the daemon, status 2)
  /// and answers `publish` requests on the control socket.
  func startPublishing(on runtime: DirectStackRuntime, loop: EventLoop) {
    // Each published connection and UDP flow holds host sockets, as relayed flows do.
    if !options.relay
      && (options.control != nil || !options.publishes.isEmpty || !options.udpForwards.isEmpty)
    {
      raiseDescriptorLimit()
    }
    let table = PublishedPortTable(
      loop: loop, stack: runtime.api,
      mapping: PublishedClientMapping(
        guestSubnet: options.stackAddress.network,
        guestPrefixes: options.relayPolicy.guestPrefixes, relaying: options.relay,
        hostLoopback: options.hostLoopback, hostLoopbackIPv6: options.hostLoopbackIPv6),
      udpIdleTimeout: flowIdleTimeout, logger: logger)
    table.halfClosedTimeout = options.halfClosedTimeout
    table.ipv6Runs = runtime.stack.ipv6.isStarted
    table.hostLifetime = options.hostSocketLifetime
    published = table
    for spec in options.publishes {
      do {
        try table.add(spec)
      } catch {
        undo()
        Netstackd.fail("--publish \(spec): \(error)", status: 2)
      }
    }
    control?.answerOther = { [unowned self] request in answer(request, table: table) }
  }

  /// The answer to a `publish` request.
  func answer(_ request: ControlRequest, table: PublishedPortTable) -> String {
    switch request {
    case .status:
      return "error: not a publish request\n"
    case .publishAdd(let spec):
      do {
        try table.add(spec)
      } catch {
        return "error: \(error)\n"
      }
      logger.info("published \(spec)")
      return "published \(spec)\n"
    case .publishRemove(let spec):
      guard let removed = table.remove(spec) else {
        return
          "error: \(spec.transport.rawValue) \(spec.hostEndpoint) is not published\n"
      }
      logger.info("no longer published: \(removed)")
      return "removed \(removed)\n"
    case .publishList(let json):
      return StatusReport.PublishStatus(table, now: MonotonicClock.now()).listing(json: json)
    }
  }

  /// Starts the UDP forwards of `--forward udp:` (a port the stack cannot bind ends the
  /// daemon, status 2).
  func startUDPForwards(on runtime: DirectStackRuntime, loop: EventLoop) {
    guard !options.udpForwards.isEmpty else { return }
    let host = SocketNetworkStack(loop: loop, bindAddress: .any)
    for forward in options.udpForwards {
      let socket: DirectUDPSocket
      do {
        socket = try runtime.api.bindUDPImmediately(port: forward.port)
      } catch {
        undo()
        Netstackd.fail("--forward udp:\(forward.port): \(error)", status: 2)
      }
      let forwarder = UDPFlowForwarder(
        front: socket, back: host, target: forward.target, maximumFlows: flowLimit,
        idleTimeout: flowIdleTimeout, executor: loop, clock: { MonotonicClock.now() })
      udpForwarders.append(forwarder)
      Task(executorPreference: loop) { await forwarder.run() }
      Task(executorPreference: loop) {
        while true {
          try? await Task.sleep(for: .seconds(1))
          forwarder.expireIdleFlows()
        }
      }
    }
  }
}

extension Daemon {
  /// The UDP forwards' counters, summed (group `forward_udp`), and how many flows they hold.
  func udpForwardCounters() -> [(group: String, name: String, value: UInt64)] {
    guard !udpForwarders.isEmpty else { return [] }
    var sum = UDPFlowForwarder<DirectUDPSocket, SocketNetworkStack>.Counters()
    var flows: UInt64 = 0
    for forwarder in udpForwarders {
      let c = forwarder.counters
      sum.flowsOpened += c.flowsOpened
      sum.flowsExpired += c.flowsExpired
      sum.flowsEvicted += c.flowsEvicted
      sum.socketFailures += c.socketFailures
      sum.datagramsToTarget += c.datagramsToTarget
      sum.datagramsToClient += c.datagramsToClient
      sum.sendFailures += c.sendFailures
      sum.droppedForeignSource += c.droppedForeignSource
      flows += UInt64(forwarder.flowSnapshots.count)
    }
    return [
      ("forward_udp", "flows_active", flows), ("forward_udp", "flows_opened", sum.flowsOpened),
      ("forward_udp", "flows_expired", sum.flowsExpired),
      ("forward_udp", "flows_evicted", sum.flowsEvicted),
      ("forward_udp", "socket_failures", sum.socketFailures),
      ("forward_udp", "datagrams_out", sum.datagramsToTarget),
      ("forward_udp", "datagrams_in", sum.datagramsToClient),
      ("forward_udp", "send_failures", sum.sendFailures),
      ("forward_udp", "dropped_foreign_source", sum.droppedForeignSource),
    ]
  }
}
