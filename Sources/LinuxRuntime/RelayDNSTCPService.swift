import DNS
import NetCore
import NetworkAPI

/// DNS over TCP at the relay's DNS addresses, IPv4 and IPv6 (RFC 7766; RFC 1035 §4.2.2
/// framing): the stack listens on port 53, a connection to a DNS address is handed to the
/// ``HostDNSUpstream``'s
/// forwarder as a guest connection (which frames, bounds and times it out: 256 connections, 16
/// queries each, 10 s idle), and its answers are written back in order. A connection to port 53
/// of another of the stack's addresses is reset. Answers waiting for a guest that does not read
/// are bounded: past ``maximumPendingBytes`` on one connection it is reset. Tasks on the loop;
/// loop thread only.
public final class RelayDNSTCPService: @unchecked Sendable {
  /// The DNS addresses: a connection to port 53 of any other address is reset.
  public let addresses: [IPAddress]
  private let stack: DirectNetworkStack
  private let upstream: HostDNSUpstream
  private let loop: EventLoop
  private let logger: Logger
  /// The open connections by the forwarder's number, and the answers waiting to be written.
  private var connections: [UInt64: DirectTCPConnection] = [:]
  private var pending: [UInt64: [[UInt8]]] = [:]
  private var pendingBytes: [UInt64: Int] = [:]
  private var writing: Set<UInt64> = []
  private var closing: Set<UInt64> = []
  private var nextID: UInt64 = 1
  /// Connections to port 53 of an address that is not the DNS address, reset.
  public private(set) var connectionsRefused: UInt64 = 0
  /// Connections reset because their guest left more than ``maximumPendingBytes`` unread.
  public private(set) var connectionsResetSlowReader: UInt64 = 0
  /// Answer bytes waiting to be written on one connection, at most (two of the largest).
  public static let maximumPendingBytes = 2 * 65537

  public init(
    runtime: DirectStackRuntime, addresses: [IPAddress], upstream: HostDNSUpstream,
    logger: Logger
  ) {
    self.addresses = addresses
    self.stack = runtime.api
    self.upstream = upstream
    self.loop = runtime.loop
    self.logger = logger
  }

  /// Starts listening (as a task on the loop).
  public func start() {
    Task(executorPreference: loop) { await self.acceptConnections() }
  }

  /// Connections open.
  public var openConnections: Int { connections.count }

  /// Carries out what the forwarder asks of a guest connection.
  public func perform(_ action: DNSGuestAction) {
    switch action {
    case .answerTCP(let connection, let bytes):
      let id = connection.rawValue
      guard let open = connections[id] else { return }
      let waiting = pendingBytes[id, default: 0] + bytes.count
      guard waiting <= RelayDNSTCPService.maximumPendingBytes else {
        connectionsResetSlowReader += 1
        forget(id)
        upstream.guestConnectionClosed(connection)
        Task(executorPreference: loop) { await open.abort() }
        return
      }
      pendingBytes[id] = waiting
      pending[id, default: []].append(bytes)
      startWriting(id)
    case .closeConnection(let connection):
      let id = connection.rawValue
      guard connections[id] != nil else { return }
      closing.insert(id)
      startWriting(id)
    case .answerUDP:
      break
    }
  }

  private func acceptConnections() async {
    let listener: DirectTCPListener
    do {
      listener = try await stack.listen(port: DNSEndpoint.serverPort, backlog: 64)
    } catch {
      logger.warning("relay: dns over tcp: cannot listen on port 53: \(error)")
      return
    }
    while true {
      let connection: DirectTCPConnection
      do {
        connection = try await listener.accept()
      } catch {
        return
      }
      guard addresses.contains(connection.localAddress.address) else {
        connectionsRefused += 1
        await connection.abort()
        continue
      }
      let id = nextID
      nextID += 1
      connections[id] = connection
      upstream.guestConnectionOpened(DNSGuestConnection(rawValue: id))
      Task(executorPreference: loop) { await self.read(id, connection) }
    }
  }

  /// Hands what the guest sends to the forwarder until its stream ends or the connection goes.
  private func read(_ id: UInt64, _ connection: DirectTCPConnection) async {
    var buffer = [UInt8](repeating: 0, count: 4096)
    while connections[id] != nil {
      let count: Int
      do {
        count = try await connection.read(into: &buffer)
      } catch {
        guard connections[id] != nil else { return }
        forget(id)
        upstream.guestConnectionClosed(DNSGuestConnection(rawValue: id))
        return
      }
      guard connections[id] != nil else { return }
      if count == 0 {
        upstream.guestStreamEnded(DNSGuestConnection(rawValue: id))
        return
      }
      let piece = Array(buffer[0..<count])
      upstream.receiveGuestTCP(piece.span, connection: DNSGuestConnection(rawValue: id))
    }
  }

  /// Writes the connection's waiting answers in order, then closes it if asked to; one writer
  /// per connection at a time.
  private func startWriting(_ id: UInt64) {
    guard !writing.contains(id), let connection = connections[id] else { return }
    writing.insert(id)
    Task(executorPreference: loop) {
      while let next = self.pending[id]?.first {
        self.pending[id]?.removeFirst()
        self.pendingBytes[id, default: 0] -= next.count
        do {
          try await connection.write(next)
        } catch {
          guard self.connections[id] != nil else { return }
          self.forget(id)
          self.upstream.guestConnectionClosed(DNSGuestConnection(rawValue: id))
          await connection.abort()
          return
        }
      }
      self.writing.remove(id)
      if self.closing.contains(id) {
        self.forget(id)
        await connection.close()
      }
    }
  }

  private func forget(_ id: UInt64) {
    connections[id] = nil
    pending[id] = nil
    pendingBytes[id] = nil
    writing.remove(id)
    closing.remove(id)
  }
}
