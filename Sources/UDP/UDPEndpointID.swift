/// A handle to a bound UDP endpoint in a `UDPLayer`: a slot and the generation of its
/// occupant, so that a handle to a closed endpoint never reaches the slot's next owner.
public struct UDPEndpointID: Hashable, Sendable {
  public let slot: Int
  public let generation: UInt32
}
