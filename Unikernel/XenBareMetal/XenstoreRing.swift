import Synchronization

/// The xenstore ring page of a guest (`struct xenstore_domain_interface`, xen/io/xs_wire.h),
/// found through `HVM_PARAM_STORE_PFN`: a 1 KiB request ring and a 1 KiB response ring of
/// bytes, with free-running 32-bit indices (`XENSTORE_RING_IDX`) masked by 1023.
///
/// The guest produces requests (`req_prod`) and consumes responses (`rsp_cons`); xenstored the
/// other two. Data is written before the producer index is published (release), and read
/// after the producer index is read (acquire); a consumer index is published after the data
/// was copied out, so that the other side may reuse the space.
public struct XenstoreRing {
  private enum Offset {
    static let requests = 0
    static let responses = 1024
    static let requestConsumer = 2048
    static let requestProducer = 2052
    static let responseConsumer = 2056
    static let responseProducer = 2060
  }
  /// `XENSTORE_RING_SIZE`.
  public static let size = 1024

  public let page: UnsafeMutableRawPointer

  public init(page: UnsafeMutableRawPointer) { self.page = page }

  @inline(__always)
  private func index(_ offset: Int) -> UnsafeMutablePointer<Atomic<UInt32>> {
    (page + offset).assumingMemoryBound(to: Atomic<UInt32>.self)
  }

  /// Copies as much of `bytes` as there is room for into the request ring and publishes it;
  /// returns how many bytes it took.
  public func write(_ bytes: ArraySlice<UInt8>) -> Int {
    let consumer = index(Offset.requestConsumer).pointee.load(ordering: .acquiring)
    var producer = index(Offset.requestProducer).pointee.load(ordering: .relaxed)
    let room = XenstoreRing.size - Int(producer &- consumer)
    let count = min(room, bytes.count)
    guard count > 0 else { return 0 }
    var source = bytes.startIndex
    for _ in 0..<count {
      (page + Offset.requests + Int(producer & UInt32(XenstoreRing.size - 1))).storeBytes(
        of: bytes[source], as: UInt8.self)
      producer &+= 1
      source += 1
    }
    index(Offset.requestProducer).pointee.store(producer, ordering: .releasing)
    return count
  }

  /// Appends every response byte xenstored has produced to `bytes` and publishes the space
  /// as consumed; returns how many bytes it read.
  public func read(into bytes: inout [UInt8]) -> Int {
    let producer = index(Offset.responseProducer).pointee.load(ordering: .acquiring)
    var consumer = index(Offset.responseConsumer).pointee.load(ordering: .relaxed)
    let available = Int(producer &- consumer)
    guard available > 0, available <= XenstoreRing.size else { return 0 }
    for _ in 0..<available {
      bytes.append(
        (page + Offset.responses + Int(consumer & UInt32(XenstoreRing.size - 1))).load(
          as: UInt8.self))
      consumer &+= 1
    }
    index(Offset.responseConsumer).pointee.store(consumer, ordering: .releasing)
    return available
  }
}
