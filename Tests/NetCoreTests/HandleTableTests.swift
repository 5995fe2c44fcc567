import NetCore
import Testing

/// The shared table of handles: slots reused through the free list, generations that make
/// stale handles find nothing, the limit, in-place updates, iteration in slot order.
struct HandleTableTests {
  struct ThingID: TableHandle {
    let slot: Int
    let generation: UInt32
    init(slot: Int, generation: UInt32) {
      self.slot = slot
      self.generation = generation
    }
  }

  struct Thing: Equatable {
    var name: String
    var hits = 0
  }

  /// Inserts a thing named `name`, which must fit.
  func add(_ name: String, to table: inout HandleTable<ThingID, Thing>) throws -> ThingID {
    let handle = table.insert(Thing(name: name))
    return try #require(handle)
  }

  @Test func insertedElementsAreFoundByTheirHandles() throws {
    var table = HandleTable<ThingID, Thing>()
    let a = try add("a", to: &table)
    let b = try add("b", to: &table)
    #expect(a.slot == 0 && b.slot == 1)
    #expect(table[a]?.name == "a" && table[b]?.name == "b")
    #expect(table.count == 2 && table.contains(a) && table.contains(b))
  }

  @Test func aRemovedElementsHandleIsStaleEvenWhenItsSlotIsReused() throws {
    var table = HandleTable<ThingID, Thing>()
    let old = try add("old", to: &table)
    #expect(table.remove(old)?.name == "old")
    #expect(table[old] == nil && !table.contains(old) && table.isEmpty)
    #expect(table.remove(old) == nil)
    let new = try add("new", to: &table)
    #expect(new.slot == old.slot && new.generation == old.generation &+ 1)
    // The old handle does not reach the slot's new occupant.
    #expect(table[old] == nil)
    let hits = table.update(old) { thing -> Int in
      thing.hits += 1
      return thing.hits
    }
    #expect(hits == nil)
    #expect(table.remove(old) == nil)
    #expect(table[new] == Thing(name: "new"))
    #expect(table.slotCount == 1)
  }

  @Test func freeSlotsAreReusedBeforeTheTableGrows() throws {
    var table = HandleTable<ThingID, Thing>()
    var handles: [ThingID] = []
    for index in 0..<8 { handles.append(try add("\(index)", to: &table)) }
    for handle in handles where handle.slot % 2 == 0 { table.remove(handle) }
    for index in 0..<4 { _ = try add("again \(index)", to: &table) }
    #expect(table.slotCount == 8 && table.count == 8)
  }

  @Test func theLimitIsKept() throws {
    var table = HandleTable<ThingID, Thing>(limit: 2)
    let first = try add("1", to: &table)
    _ = try add("2", to: &table)
    #expect(table.isFull)
    let refused = table.insert(Thing(name: "3"))
    #expect(refused == nil && table.count == 2)
    table.remove(first)
    let accepted = table.insert(Thing(name: "3"))
    #expect(accepted != nil)
  }

  @Test func updateChangesTheElementInPlace() throws {
    var table = HandleTable<ThingID, Thing>()
    let handle = try add("a", to: &table)
    let hits = table.update(handle) { thing -> Int in
      thing.hits += 2
      return thing.hits
    }
    #expect(hits == 2 && table[handle]?.hits == 2)
  }

  /// What TCP does with slot numbers queued for later (output due, a timer): the slot's
  /// current handle, and whether a queued (slot, generation) is still the same element.
  @Test func queuedSlotsAreCheckedWhenTheirTurnComes() throws {
    var table = HandleTable<ThingID, Thing>()
    let first = try add("first", to: &table)
    let queued = (slot: first.slot, generation: first.generation)
    table.remove(first)
    #expect(table.handle(forSlot: queued.slot) == nil)
    let second = try add("second", to: &table)
    #expect(table.handle(forSlot: queued.slot) == second)
    #expect(!table.contains(ThingID(slot: queued.slot, generation: queued.generation)))
    #expect(table.handle(forSlot: 5) == nil && table.handle(forSlot: -1) == nil)
  }

  @Test func forgedHandlesFindNothing() throws {
    var table = HandleTable<ThingID, Thing>()
    let handle = try add("a", to: &table)
    table.remove(handle)
    for forged in [
      ThingID(slot: -1, generation: 0), ThingID(slot: 99, generation: 0),
      ThingID(slot: handle.slot, generation: handle.generation &+ 1),
      ThingID(slot: handle.slot, generation: .max),
    ] {
      let removed = table.remove(forged)
      #expect(table[forged] == nil && removed == nil && !table.contains(forged))
    }
    #expect(table.isEmpty)
  }

  @Test func forEachVisitsTheElementsInSlotOrder() throws {
    var table = HandleTable<ThingID, Thing>()
    var handles: [ThingID] = []
    for name in ["a", "b", "c", "d"] { handles.append(try add(name, to: &table)) }
    table.remove(handles[1])
    var seen: [String] = []
    table.forEach { handle, thing in
      #expect(table[handle] == thing)
      seen.append(thing.name)
    }
    #expect(seen == ["a", "c", "d"])
  }

  @Test func eachReuseMovesTheGenerationOn() throws {
    var table = HandleTable<ThingID, Thing>()
    var handle = try add("0", to: &table)
    for index in 1...3 {
      table.remove(handle)
      handle = try add("\(index)", to: &table)
    }
    #expect(handle.generation == 3 && table[handle]?.name == "3")
  }
}
