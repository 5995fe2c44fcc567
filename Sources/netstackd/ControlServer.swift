import CLinuxShims
import ControlProtocol
import Glibc
import LinuxRuntime
import NetCore

/// The daemon's control socket (`--control PATH`): a Unix stream socket, mode 0600, that
/// answers one request per connection (``ControlRequest``: `status` or `status json`, the
/// status report; `publish ...`, through ``answerOther``), then closes the connection.
///
/// Runs on the event loop like everything else: the listening socket and each client are
/// non-blocking descriptors registered with the loop, so a slow client never stalls the stack.
/// Every client is bounded: at most ``maximumClients`` at once (more are closed at once),
/// ``ControlRequest/maximumLength`` bytes of request, ``maximumAnswer`` bytes of answer, and
/// ``clientTimeout`` from connecting to having read the whole answer. A client that hangs up
/// early costs a counter: writes use `MSG_NOSIGNAL`, so a closed peer is `EPIPE`, not SIGPIPE.
final class ControlServer {
  let path: String
  private let loop: EventLoop
  private let listener: Int32
  private let timer: DeadlineTimer
  private let report: (_ json: Bool) -> String

  /// The most clients served at once; one more is accepted and closed at once.
  static let maximumClients = 16
  /// How long a client has from connecting until it has read the whole answer.
  static let clientTimeout = Interval.seconds(5)
  /// The largest answer held for one client; a larger report is answered with an error.
  static let maximumAnswer = 16 << 20
  /// How long the listener rests after `accept` failed for want of descriptors or memory (it
  /// stays readable, and watching it would spin the loop).
  static let acceptPause = Interval.milliseconds(100)

  /// One client: the request read so far, then the answer and how much of it went out.
  private struct Client {
    let deadline: Instant
    var request: [UInt8] = []
    var answer: [UInt8] = []
    var written = 0
    var answering = false
  }
  private var clients: [Int32: Client] = [:]
  /// Until when the listener rests, after an `accept` failure.
  private var listenerRestsUntil: Instant?
  private(set) var counters = ControlCounters()
  /// Answers the requests other than `status` (`publish ...`); nil: they get an error.
  var answerOther: ((ControlRequest) -> String)?

  init(path: String, loop: EventLoop, report: @escaping (_ json: Bool) -> String)
    throws(OptionError)
  {
    guard path.utf8.count < 108 else {
      throw OptionError("--control", "'\(path)' is too long for a socket path")
    }
    // A socket file left by a daemon that is gone is replaced; a live one is not.
    let probe = ControlServer.connect(path)
    if probe >= 0 {
      close(probe)
      throw OptionError("--control", "'\(path)' is in use by a running daemon")
    }
    let timer: DeadlineTimer
    do {
      timer = try DeadlineTimer()
    } catch {
      throw OptionError("--control", "\(error)")
    }
    unlink(path)
    let descriptor = socket(
      AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue),
      0)
    guard descriptor >= 0 else {
      throw OptionError("--control", "socket: \(String(cString: strerror(errno)))")
    }
    var address = ControlServer.address(path)
    let previous = umask(0o177)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    umask(previous)
    guard bound == 0, listen(descriptor, 16) == 0, chmod(path, 0o600) == 0 else {
      let code = errno
      close(descriptor)
      throw OptionError(
        "--control", "cannot listen on '\(path)': \(String(cString: strerror(code)))")
    }
    self.path = path
    self.loop = loop
    self.timer = timer
    listener = descriptor
    self.report = report
    do {
      try loop.register(descriptor, events: UInt32(EPOLLIN.rawValue)) { [unowned self] _ in
        acceptClients()
      }
      try loop.register(timer.fileDescriptor, events: UInt32(EPOLLIN.rawValue)) {
        [unowned self] _ in
        timerFired()
      }
    } catch {
      loop.unregister(descriptor)
      close(descriptor)
      unlink(path)
      throw OptionError("--control", "\(error)")
    }
  }

  /// Closes everything and removes the socket file.
  func shutdown() {
    for descriptor in Array(clients.keys) { drop(descriptor) }
    loop.unregister(timer.fileDescriptor)
    loop.unregister(listener)
    close(listener)
    unlink(path)
  }

  // MARK: Clients coming and going

  private func acceptClients() {
    defer { armTimer() }
    while true {
      let client = netstack_accept(listener)
      if client < 0 {
        switch -client {
        case EAGAIN, EWOULDBLOCK: return
        case EINTR, ECONNABORTED: continue
        default:
          // EMFILE, ENFILE, ENOBUFS, ENOMEM: the client waits in the backlog meanwhile.
          counters.acceptFailures += 1
          restListener()
          return
        }
      }
      guard clients.count < ControlServer.maximumClients else {
        close(client)
        counters.clientsRefused += 1
        continue
      }
      do {
        try loop.register(client, events: UInt32(EPOLLIN.rawValue)) { [unowned self] _ in
          serve(client)
        }
      } catch {
        close(client)
        counters.acceptFailures += 1
        continue
      }
      counters.clientsAccepted += 1
      clients[client] = Client(deadline: MonotonicClock.now() + ControlServer.clientTimeout)
    }
  }

  /// Stops watching the listener for ``acceptPause``.
  private func restListener() {
    try? loop.modify(listener, events: 0)
    listenerRestsUntil = MonotonicClock.now() + ControlServer.acceptPause
    armTimer()
  }

  /// Drops the clients whose time is up, and wakes a resting listener.
  private func timerFired() {
    timer.acknowledge()
    let now = MonotonicClock.now()
    for (descriptor, client) in clients where client.deadline <= now {
      counters.clientsTimedOut += 1
      drop(descriptor)
    }
    if let until = listenerRestsUntil, until <= now {
      listenerRestsUntil = nil
      try? loop.modify(listener, events: UInt32(EPOLLIN.rawValue))
      acceptClients()
    }
    armTimer()
  }

  /// Arms the timer for the earliest client deadline or the listener's wake-up.
  private func armTimer() {
    var next = listenerRestsUntil
    for client in clients.values { next = Instant.earliest(next, client.deadline) }
    timer.arm(at: next)
  }

  private func drop(_ descriptor: Int32) {
    loop.unregister(descriptor)
    close(descriptor)
    clients[descriptor] = nil
  }

  // MARK: One exchange

  /// Reads the request; once it is whole (or cannot be one), writes the answer, resuming
  /// when the socket takes more; closes once all of it is written.
  private func serve(_ descriptor: Int32) {
    guard var client = clients[descriptor] else { return }
    if !client.answering {
      guard receiveRequest(descriptor, &client) else { return }
      client.answering = true
      try? loop.modify(descriptor, events: UInt32(EPOLLOUT.rawValue))
    }
    while client.written < client.answer.count {
      let count = client.answer.withUnsafeBytes {
        send(
          descriptor, $0.baseAddress! + client.written, $0.count - client.written,
          Int32(MSG_NOSIGNAL))
      }
      if count < 0 {
        let code = errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK {
          clients[descriptor] = client
        } else {
          // EPIPE, ECONNRESET: the client closed or shut down its reading side.
          counters.clientsHungUp += 1
          drop(descriptor)
        }
        return
      }
      client.written += count
    }
    counters.answersSent += 1
    drop(descriptor)
  }

  /// Reads what the client sent. Returns true once the answer is ready in `client`; false
  /// while the request is incomplete (the client is kept) or when the client went away (it is
  /// dropped).
  private func receiveRequest(_ descriptor: Int32, _ client: inout Client) -> Bool {
    var buffer = [UInt8](repeating: 0, count: ControlRequest.maximumLength)
    while true {
      let room = ControlRequest.maximumLength - client.request.count
      let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, room, 0) }
      if count < 0 {
        let code = errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK {
          clients[descriptor] = client
        } else {
          counters.clientsHungUp += 1
          drop(descriptor)
        }
        return false
      }
      if count == 0 {
        counters.clientsHungUp += 1
        drop(descriptor)
        return false
      }
      client.request.append(contentsOf: buffer[0..<count])
      switch ControlRequest.parse(client.request) {
      case .incomplete:
        continue
      case .request(.status(let json)):
        let report = Array(report(json).utf8)
        if report.count > ControlServer.maximumAnswer {
          counters.answersTooLarge += 1
          client.answer = Array(
            "error: the status report (\(report.count) bytes) is larger than the control socket's limit of \(ControlServer.maximumAnswer) bytes\n"
              .utf8)
        } else {
          client.answer = report
        }
        return true
      case .request(let other):
        client.answer = Array(
          (answerOther?(other) ?? "error: this daemon has no published ports to change\n").utf8)
        return true
      case .invalid(let error):
        counters.requestsInvalid += 1
        client.answer = Array(error.answer.utf8)
        return true
      }
    }
  }

  // MARK: Addresses

  static func address(_ path: String) -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      let bytes = Array(path.utf8)
      for index in 0..<min(bytes.count, raw.count - 1) { raw[index] = bytes[index] }
      raw[min(bytes.count, raw.count - 1)] = 0
    }
    return address
  }

  /// A blocking connection to the control socket at `path`, or -errno. A daemon whose
  /// backlog is full (stopped, say) makes `connect` wait; it gives up after 10 s (EAGAIN).
  static func connect(_ path: String) -> Int32 {
    let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { return -errno }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = address(path)
    let result = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    if result != 0 {
      let code = errno
      close(descriptor)
      return -code
    }
    return descriptor
  }
}
