import NetCore
import Netfront
import NetfrontSimulation
import Testing

/// Version 1 grant entries as the driver writes and revokes them, and as the simulated
/// hypervisor checks and marks them when the back end maps or copies.
struct GrantTableTests {
  final class Table {
    let memory = UnsafeMutableRawPointer.allocate(
      byteCount: 16 * GrantTableV1.entrySize, alignment: 8)
    var table: GrantTableV1 { GrantTableV1(base: memory, entryCount: 16) }
    init() {
      memory.initializeMemory(as: UInt8.self, repeating: 0, count: 16 * GrantTableV1.entrySize)
    }
    deinit { memory.deallocate() }
  }

  @Test func grantingWritesFrameDomainAndFlags() {
    let storage = Table()
    let reference = GrantReference(rawValue: 9)
    storage.table.grantAccess(
      reference, to: XenDomainID(rawValue: 3), frame: 0x12345, readOnly: false)
    var entry = storage.table.load(reference)
    #expect(
      entry.flags == .permitAccess && entry.domain == XenDomainID(rawValue: 3)
        && entry.frame == 0x12345)
    storage.table.grantAccess(reference, to: .controlDomain, frame: 7, readOnly: true)
    entry = storage.table.load(reference)
    #expect(
      entry.flags == [.permitAccess, .readOnly] && entry.domain == .controlDomain
        && entry.frame == 7)
  }

  @Test func endingAccessClearsTheFlagsUnlessTheFrameIsMapped() {
    let storage = Table()
    let reference = GrantReference(rawValue: 8)
    storage.table.grantAccess(reference, to: .controlDomain, frame: 1, readOnly: false)
    for busy: GrantFlags in [.reading, .writing, [.reading, .writing]] {
      let marked = storage.table.compareExchangeFlags(
        reference, expected: .permitAccess, desired: GrantFlags.permitAccess.union(busy))
      #expect(marked.exchanged)
      #expect(!storage.table.endAccess(reference), "mapped (\(busy.rawValue)): must stay granted")
      #expect(storage.table.load(reference).flags == GrantFlags.permitAccess.union(busy))
      _ = storage.table.compareExchangeFlags(
        reference, expected: GrantFlags.permitAccess.union(busy), desired: .permitAccess)
    }
    #expect(storage.table.endAccess(reference))
    #expect(storage.table.load(reference).flags.isEmpty)
  }

  @Test func theHypervisorEnforcesDomainAndReadOnly() throws {
    let xen = SimulatedXen()
    let guest = XenDomainID(rawValue: 1)
    let page = try xen.grantPage(owner: guest, to: .controlDomain, readOnly: true)
    #expect(page.reference.rawValue >= UInt32(GrantTableV1.reservedEntries))
    #expect(throws: SimulatedXenError.grantPermissionDenied(page.reference)) {
      _ = try xen.mapGrant(owner: guest, page.reference, by: .controlDomain, writable: true)
    }
    #expect(throws: SimulatedXenError.grantPermissionDenied(page.reference)) {
      _ = try xen.mapGrant(
        owner: guest, page.reference, by: XenDomainID(rawValue: 2), writable: false)
    }
    #expect(throws: SimulatedXenError.badGrant(GrantReference(rawValue: 100))) {
      _ = try xen.mapGrant(
        owner: guest, GrantReference(rawValue: 100), by: .controlDomain, writable: false)
    }
    let mapped = try xen.mapGrant(owner: guest, page.reference, by: .controlDomain, writable: false)
    #expect(mapped == page.address)
    #expect(!xen.endAccess(owner: guest, page), "still mapped by dom0")
    xen.unmapGrant(owner: guest, page.reference)
    #expect(xen.endAccess(owner: guest, page))
    #expect(xen.activeGrants(of: guest) == 0)
    #expect(throws: SimulatedXenError.badGrant(page.reference)) {
      _ = try xen.mapGrant(owner: guest, page.reference, by: .controlDomain, writable: false)
    }
  }

  @Test func grantCopiesNeedAWritableGrantToWrite() throws {
    let xen = SimulatedXen()
    let guest = XenDomainID(rawValue: 1)
    let writable = try xen.grantPage(owner: guest, to: .controlDomain, readOnly: false)
    let readOnly = try xen.grantPage(owner: guest, to: .controlDomain, readOnly: true)
    let data: [UInt8] = [1, 2, 3, 4]
    try data.withUnsafeBytes {
      try xen.copy($0, toGrant: writable.reference, of: guest, offset: 4092, by: .controlDomain)
    }
    #expect(Array(UnsafeRawBufferPointer(start: writable.address + 4092, count: 4)) == data)
    #expect(throws: SimulatedXenError.grantPermissionDenied(readOnly.reference)) {
      try data.withUnsafeBytes {
        try xen.copy($0, toGrant: readOnly.reference, of: guest, offset: 0, by: .controlDomain)
      }
    }
    #expect(throws: SimulatedXenError.badGrant(writable.reference)) {
      try data.withUnsafeBytes {
        try xen.copy($0, toGrant: writable.reference, of: guest, offset: 4093, by: .controlDomain)
      }
    }
    var out: [UInt8] = []
    try xen.copy(
      fromGrant: readOnly.reference, of: guest, offset: 0, count: 3, by: .controlDomain, into: &out)
    #expect(out == [0, 0, 0])
  }
}
