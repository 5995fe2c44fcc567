/// Hands out zeroed 4 KiB pages from one region of guest memory that the start-of-day code
/// set aside, and takes them back (a free list, then a bump pointer).
public struct PageAllocator {
  private var next: UInt
  private let end: UInt
  private var free: [UInt] = []

  /// The pages inside `start ..< start + byteCount` (rounded inwards to whole pages).
  public init(start: UnsafeMutableRawPointer, byteCount: Int) {
    let first = (UInt(bitPattern: start) + 4095) & ~4095
    let last = (UInt(bitPattern: start) + UInt(byteCount)) & ~4095
    next = first
    end = max(first, last)
  }

  /// A zeroed page, or nil when the region is used up.
  public mutating func allocate() -> UnsafeMutableRawPointer? {
    let address: UInt
    if let reused = free.popLast() {
      address = reused
    } else {
      guard next < end else { return nil }
      address = next
      next += 4096
    }
    let page = UnsafeMutableRawPointer(bitPattern: address)!
    page.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
    return page
  }

  /// Gives a page back.
  public mutating func release(_ page: UnsafeMutableRawPointer) {
    free.append(UInt(bitPattern: page))
  }

  /// Pages still available.
  public var available: Int { Int((end - next) / 4096) + free.count }
}
