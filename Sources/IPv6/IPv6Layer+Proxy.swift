import NetCore

/// Addresses the layer answers for without owning them (RFC 4861 §7.2.8, proxy neighbour
/// advertisements): a gateway's stand-in for a host behind it, such as the relay's address for
/// the host's loopback, which guests on the link resolve as a neighbour. Solicitations for it
/// get the layer's link-layer address with the override flag clear (and another node's
/// duplicate address detection for it an advertisement to all nodes, as for an address of
/// ours); packets to it are not ours and
/// go where any other address's go (the relay).
extension IPv6Layer {
  /// The most proxied addresses.
  public static var maximumProxiedAddresses: Int { 4 }

  /// Answers neighbour solicitations for `address` from now on, joining its solicited-node
  /// group (RFC 4291 §2.7.1). False when it is ours, not unicast, or
  /// ``maximumProxiedAddresses`` are already answered for.
  @discardableResult
  public mutating func answerNeighbourSolicitations(for address: IPv6Address, now: Instant)
    -> Bool
  {
    guard address.isUnicast, addressTable.entry(for: address) == nil else { return false }
    if proxiedAddresses.contains(address) { return true }
    guard proxiedAddresses.count < Self.maximumProxiedAddresses else { return false }
    proxiedAddresses.append(address)
    let group = address.solicitedNodeMulticast
    let wasListening = multicast.isListening(to: group)
    if !multicast.join(group, now: now) || (!wasListening && !link.joinMulticastGroup(group)) {
      icmpCounters.mldGroupsRefused += 1
    }
    return true
  }
}
