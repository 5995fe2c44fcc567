/// Why netfront could not connect or had to stop; each case reads as a one-line message.
public enum NetfrontError<PlatformFailure: Error>: Error {
  /// The platform (grant, event channel or xenstore operation) failed.
  case platform(PlatformFailure)
  /// `device/vif/INDEX/backend` does not exist: the guest has no such interface.
  case noSuchDevice(index: Int)
  /// A key the toolstack or back end must write is missing or malformed.
  case badXenstoreValue(path: String)
  /// The back end cannot copy into our pages (`feature-rx-copy`), the only receive mode this
  /// driver (and Linux's netback) supports.
  case backendLacksReceiveCopy
  /// The back end did not reach Connected in time.
  case timedOut(backend: XenbusState)
  /// The back end closed the device or went away.
  case backendClosed(XenbusState)
  /// The back end broke the ring protocol.
  case protocolViolation(NetbackViolation)
}

/// How a back end broke the ring protocol.
public enum NetbackViolation: Sendable, Equatable {
  /// It produced more transmit responses than there were requests.
  case tooManyTransmitResponses
  /// It produced more receive responses than there were requests.
  case tooManyReceiveResponses
}

extension NetfrontError: Equatable where PlatformFailure: Equatable {}

extension NetfrontError: CustomStringConvertible {
  public var description: String {
    switch self {
    case .platform(let failure): "Xen platform: \(failure)"
    case .noSuchDevice(let index):
      "no Xen network interface vif \(index) (device/vif/\(index)/backend is missing)"
    case .badXenstoreValue(let path): "xenstore key \(path) is missing or malformed"
    case .backendLacksReceiveCopy: "the netback does not offer feature-rx-copy"
    case .timedOut(let state): "the netback did not connect in time (backend state \(state))"
    case .backendClosed(let state): "the netback closed the device (backend state \(state))"
    case .protocolViolation(.tooManyTransmitResponses):
      "the netback broke the ring protocol: more transmit responses than requests"
    case .protocolViolation(.tooManyReceiveResponses):
      "the netback broke the ring protocol: more receive responses than requests"
    }
  }
}
