/// Why a UDP operation failed.
public enum UDPError: Error, Equatable, Sendable {
  /// Another endpoint is bound to the port.
  case addressInUse
  /// The endpoint table is full, or no ephemeral port is free.
  case tooManyEndpoints
  /// The handle does not name an open endpoint.
  case invalidEndpoint
  /// More than 65507 bytes.
  case messageTooLong
  /// The network layer could not send it (no route).
  case noRoute
}

extension UDPError: CustomStringConvertible {
  public var description: String {
    switch self {
    case .addressInUse: "address already in use"
    case .tooManyEndpoints: "too many UDP endpoints"
    case .invalidEndpoint: "no such UDP endpoint"
    case .messageTooLong: "message too long"
    case .noRoute: "no route to host"
    }
  }
}
