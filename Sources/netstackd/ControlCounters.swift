/// What the control socket did with its clients, shown as the `control` counters of
/// `netstackd status` and of the daemon's exit report.
struct ControlCounters {
  /// Clients taken on (at most ``ControlServer/maximumClients`` at once).
  var clientsAccepted: UInt64 = 0
  /// Clients closed at once because ``ControlServer/maximumClients`` were being served.
  var clientsRefused: UInt64 = 0
  /// Clients that had not sent their request or read their answer within
  /// ``ControlServer/clientTimeout``.
  var clientsTimedOut: UInt64 = 0
  /// Clients that closed, reset or shut down their side before the whole answer was written.
  var clientsHungUp: UInt64 = 0
  /// Answers written in full (errors included).
  var answersSent: UInt64 = 0
  /// Lines that were not a request, or no line within ``ControlRequest/maximumLength`` bytes.
  var requestsInvalid: UInt64 = 0
  /// Reports larger than ``ControlServer/maximumAnswer``, answered with an error instead.
  var answersTooLarge: UInt64 = 0
  /// `accept` failures other than "nothing to accept" (out of descriptors or memory); the
  /// listener rests for ``ControlServer/acceptPause`` after one.
  var acceptFailures: UInt64 = 0

  /// Every counter with its name, in a fixed order.
  var all: [(name: String, value: UInt64)] {
    [
      ("clients_accepted", clientsAccepted), ("clients_refused", clientsRefused),
      ("clients_timed_out", clientsTimedOut), ("clients_hung_up", clientsHungUp),
      ("answers_sent", answersSent), ("requests_invalid", requestsInvalid),
      ("answers_too_large", answersTooLarge), ("accept_failures", acceptFailures),
    ]
  }
}
