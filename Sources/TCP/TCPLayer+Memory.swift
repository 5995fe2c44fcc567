import NetCore

/// The layer's part in the stack's memory budget (issue 11): a connection's state is reserved
/// before it is admitted, writers the budget turned away are told when memory is free again,
/// and under pressure every connection gives back what it can without losing acknowledged
/// data (Linux `tcp_mem`, `tcp_prune_queue`, `sk_mem_reclaim`).
extension TCPLayer {
  /// Free memory that wakes writers the budget turned away.
  static let memoryToWakeWriters = 64 * 1024
  /// How often, under memory pressure, connections give back what they can.
  static let reclaimInterval = Interval.milliseconds(100)

  /// Admits a new connection if the memory budget allows one (below its admission level) and
  /// reserves its state (`TCPConnection.stateCharge`, given back when its slot is freed);
  /// counts a refusal.
  mutating func reserveConnection() -> Bool {
    guard shared.budget.admitsNewWork,
      shared.budget.reserve(TCPConnection.stateCharge, for: .tcpConnections)
    else {
      shared.counters.connectionsRefusedMemory += 1
      return false
    }
    return true
  }

  /// Remembers a connection whose application could not write for want of memory.
  mutating func waitForMemory(_ slot: Int) {
    guard !slots[slot].waitingForMemory else { return }
    slots[slot].waitingForMemory = true
    memoryWaiters.append(slot)
  }

  /// Tells the connections the budget turned away that they may write again (an event for
  /// the application; nothing for the peer).
  mutating func wakeMemoryWaiters() {
    for slot in memoryWaiters where slots[slot].waitingForMemory {
      slots[slot].waitingForMemory = false
      guard let connection = occupant(ofSlot: slot)?.connection else { continue }
      connection.events.insert(.writable)
      queueNotification(slot)
    }
    memoryWaiters.removeAll(keepingCapacity: true)
  }

  /// Under memory pressure, what every connection can give back without losing data it
  /// acknowledged: its out-of-order data (the sender still has it; RFC 2018 §8 lets a receiver
  /// renege on SACKed data) and the storage its buffers no longer need (Linux `tcp_prune_queue`
  /// and `sk_mem_reclaim`). The connections are not touched: nothing becomes due for the peer
  /// (the next ACK simply reports fewer SACK blocks), and a pass over 50,000 connections every
  /// 100 ms must not also settle each of them.
  mutating func reclaimMemory() {
    shared.counters.memoryReclaims += 1
    var pruned = 0
    connections.forEach { _, connection in pruned += connection.giveBackMemory() }
    shared.counters.outOfOrderBytesPruned += UInt64(pruned)
  }
}
