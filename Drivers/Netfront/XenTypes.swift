/// The size of a page in Xen's I/O protocols: 4 KiB on every architecture, whatever page size
/// the guest uses itself (xen/io/ring.h `XEN_PAGE_SHIFT` 12).
public let xenPageSize = 4096

/// A Xen domain identifier (`domid_t`, xen/xen.h): 0 is the control domain (dom0), which
/// usually runs the backends.
public struct XenDomainID: RawRepresentable, Hashable, Sendable {
  public var rawValue: UInt16

  public init(rawValue: UInt16) { self.rawValue = rawValue }

  /// The control domain, dom0.
  public static let controlDomain = XenDomainID(rawValue: 0)
}

/// A reference to an entry in a domain's grant table (`grant_ref_t`, xen/grant_table.h): the
/// number another domain quotes to map or copy the page the entry grants.
public struct GrantReference: RawRepresentable, Hashable, Sendable {
  public var rawValue: UInt32

  public init(rawValue: UInt32) { self.rawValue = rawValue }
}

/// A local event-channel port (`evtchn_port_t`, xen/event_channel.h).
public struct EventChannelPort: RawRepresentable, Hashable, Sendable {
  public var rawValue: UInt32

  public init(rawValue: UInt32) { self.rawValue = rawValue }
}

/// Identifies one xenstore watch among those a platform has set, so that a driver can ask
/// whether *its* watch fired. Platforms send it as the watch token (its decimal digits).
public struct XenstoreWatchToken: RawRepresentable, Hashable, Sendable {
  public var rawValue: UInt32

  public init(rawValue: UInt32) { self.rawValue = rawValue }
}

/// A 4 KiB page of this domain's memory that another domain has been granted access to.
///
/// A handle, not an owner: the driver that asked for it gives it back with
/// ``XenPlatform/endAccess(_:)``. `address` is page-aligned and stays valid until then.
public struct GrantedPage {
  /// Where the page is mapped in this domain's address space.
  public let address: UnsafeMutableRawPointer
  /// The grant the other domain quotes to map or copy the page.
  public let reference: GrantReference
  /// The domain that was granted access.
  public let domain: XenDomainID
  /// Whether the grant is read-only for that domain (`GTF_readonly`).
  public let readOnly: Bool

  public init(
    address: UnsafeMutableRawPointer, reference: GrantReference, domain: XenDomainID,
    readOnly: Bool
  ) {
    self.address = address
    self.reference = reference
    self.domain = domain
    self.readOnly = readOnly
  }
}
