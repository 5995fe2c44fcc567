import NetCore

/// A handle to a bound UDP endpoint in a `UDPLayer` (its `HandleTable`): a slot and the
/// generation of its occupant, so that a handle to a closed endpoint never reaches the slot's
/// next owner.
public struct UDPEndpointID: TableHandle {
  public let slot: Int
  public let generation: UInt32

  public init(slot: Int, generation: UInt32) {
    self.slot = slot
    self.generation = generation
  }
}
