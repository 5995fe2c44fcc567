import Synchronization

/// Flags of a version 1 grant entry (`GTF_*`, xen/grant_table.h).
public struct GrantFlags: OptionSet, Hashable, Sendable {
  public var rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }

  /// `GTF_permit_access`: the domain may map or copy the frame (type 1 of `GTF_type_mask`).
  public static let permitAccess = GrantFlags(rawValue: 1)
  /// `GTF_type_mask`: the entry's type (invalid, permit access, accept transfer, transitive).
  public static let typeMask = GrantFlags(rawValue: 3)
  /// `GTF_readonly`: read-only mappings and copies only.
  public static let readOnly = GrantFlags(rawValue: 1 << 2)
  /// `GTF_reading`: the domain has the frame mapped for reading (set by Xen).
  public static let reading = GrantFlags(rawValue: 1 << 3)
  /// `GTF_writing`: the domain has the frame mapped for writing (set by Xen).
  public static let writing = GrantFlags(rawValue: 1 << 4)
}

/// A view over a domain's version 1 grant table (`struct grant_entry_v1`, 8 bytes an entry:
/// flags, domain, frame), the frames a bare-metal guest maps with `XENMEM_add_to_physmap`
/// (`XENMAPSPACE_grant_table`). Does not own the memory.
///
/// Granting writes the frame and the domain first and the flags last, with release ordering,
/// so that Xen never sees a valid entry with stale contents; ending access clears the flags
/// with a compare-and-exchange that fails while Xen has marked the frame mapped (Linux's
/// `gnttab_end_foreign_access_ref_v1`).
public struct GrantTableV1 {
  private enum Offset {
    static let flags = 0
    static let domain = 2
    static let frame = 4
  }
  /// `sizeof(struct grant_entry_v1)`.
  public static let entrySize = 8
  /// Entries the toolstack may use (console, xenstore) and a guest leaves alone
  /// (`GNTTAB_NR_RESERVED_ENTRIES`).
  public static let reservedEntries = 8

  /// The first entry.
  public let base: UnsafeMutableRawPointer
  /// Entries in the mapped frames.
  public let entryCount: Int

  public init(base: UnsafeMutableRawPointer, entryCount: Int) {
    self.base = base
    self.entryCount = entryCount
  }

  @inline(__always)
  private func entry(_ reference: GrantReference) -> UnsafeMutableRawPointer {
    precondition(Int(reference.rawValue) < entryCount, "GrantTableV1: reference out of range")
    return base + Int(reference.rawValue) * GrantTableV1.entrySize
  }

  @inline(__always)
  private func flags(_ reference: GrantReference) -> UnsafeMutablePointer<Atomic<UInt16>> {
    (entry(reference) + Offset.flags).assumingMemoryBound(to: Atomic<UInt16>.self)
  }

  /// Lets `domain` access guest frame `frame` through entry `reference`.
  public func grantAccess(
    _ reference: GrantReference, to domain: XenDomainID, frame: UInt32, readOnly: Bool
  ) {
    let entry = entry(reference)
    entry.storeBytes(of: frame.littleEndian, toByteOffset: Offset.frame, as: UInt32.self)
    entry.storeBytes(of: domain.rawValue.littleEndian, toByteOffset: Offset.domain, as: UInt16.self)
    let value: GrantFlags = readOnly ? [.permitAccess, .readOnly] : .permitAccess
    flags(reference).pointee.store(value.rawValue, ordering: .releasing)
  }

  /// Revokes entry `reference`, unless the frame is mapped (`GTF_reading`/`GTF_writing`):
  /// then nothing changes and the result is false.
  public func endAccess(_ reference: GrantReference) -> Bool {
    let flags = flags(reference)
    var current = flags.pointee.load(ordering: .acquiring)
    while true {
      if GrantFlags(rawValue: current).contains(.reading)
        || GrantFlags(rawValue: current).contains(.writing)
      {
        return false
      }
      let (exchanged, original) = flags.pointee.compareExchange(
        expected: current, desired: 0, ordering: .sequentiallyConsistent)
      if exchanged { return true }
      current = original
    }
  }

  /// The entry's flags, domain and frame (the flags read with acquire ordering).
  public func load(_ reference: GrantReference) -> (
    flags: GrantFlags, domain: XenDomainID, frame: UInt32
  ) {
    let value = flags(reference).pointee.load(ordering: .acquiring)
    let entry = entry(reference)
    let domain = UInt16(
      littleEndian: entry.loadUnaligned(fromByteOffset: Offset.domain, as: UInt16.self))
    let frame = UInt32(
      littleEndian: entry.loadUnaligned(fromByteOffset: Offset.frame, as: UInt32.self))
    return (GrantFlags(rawValue: value), XenDomainID(rawValue: domain), frame)
  }

  /// Replaces the flags if they still equal `expected` (what Xen does to set and clear
  /// `GTF_reading`/`GTF_writing`; a simulated hypervisor uses it). Returns whether it did, and
  /// the flags found.
  public func compareExchangeFlags(
    _ reference: GrantReference, expected: GrantFlags, desired: GrantFlags
  ) -> (exchanged: Bool, original: GrantFlags) {
    let (exchanged, original) = flags(reference).pointee.compareExchange(
      expected: expected.rawValue, desired: desired.rawValue, ordering: .sequentiallyConsistent)
    return (exchanged, GrantFlags(rawValue: original))
  }
}
