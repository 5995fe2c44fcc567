import IPv6
import NetCore
import Testing

/// MLDv2 (RFC 3810): the captured query and reports, our reports byte for byte, and the
/// listener's joins, leaves and answers with explicit time.
struct MulticastListenerTests {
  let group = LinuxCaptures.linkLocalA.solicitedNodeMulticast
  let otherGroup = IPv6Address(0xff02, 0, 0, 0, 0, 1, 0xff00, 1)

  func message(_ capture: [UInt8]) -> (
    bytes: [UInt8], source: IPv6Address, destination: IPv6Address
  ) {
    let packet = try! IPv6Packet(checking: capture.span)
    // These captures carry an 8-byte hop-by-hop header before the ICMPv6 message.
    return (Array(capture[48...]), packet.source, packet.destination)
  }

  @Test func capturedQuery() throws {
    let (bytes, source, destination) = message(LinuxCaptures.mldQuery)
    let icmp = try ICMPv6Packet(checking: bytes.span, source: source, destination: destination)
    let query = try MLDQueryMessage(parsing: icmp, source: source)
    #expect(query.isGeneral)
    #expect(query.maximumResponseDelay == .milliseconds(1000))
    #expect(query.sources.isEmpty)
  }

  @Test func queryRules() throws {
    let (bytes, source, destination) = message(LinuxCaptures.mldQuery)
    let icmp = try ICMPv6Packet(checking: bytes.span, source: source, destination: destination)
    // Not from a link-local address (RFC 3810 §5.1.14).
    #expect(throws: MLDValidationError.source) {
      _ = try MLDQueryMessage(parsing: icmp, source: LinuxCaptures.globalR)
    }
    // Lengths between MLDv1's 24 and MLDv2's 28, and a source count past the end.
    func query(_ body: [UInt8], code: UInt16 = 1000) -> MLDValidationError? {
      let bytes = icmpv6Message(
        ICMPv6Header(type: .multicastListenerQuery, code: 0, restOfHeader: UInt32(code) << 16),
        body: body, source: LinuxCaptures.linkLocalR, destination: .allNodes)
      let icmp = try! ICMPv6Packet(
        checking: bytes.span, source: LinuxCaptures.linkLocalR, destination: .allNodes)
      do {
        _ = try MLDQueryMessage(parsing: icmp, source: LinuxCaptures.linkLocalR)
        return nil
      } catch { return error }
    }
    let general = IPv6Address.unspecified.octets
    #expect(query(general) == nil)
    #expect(query(general + [0, 0]) == .length)
    #expect(query(general + [2, 125, 0, 1]) == .length)
    #expect(query(general + [2, 125, 0, 1] + LinuxCaptures.globalA.octets) == nil)
    #expect(query(LinuxCaptures.globalA.octets) == .group)
    #expect(query(Array(general[..<12])) == .length)
  }

  @Test func responseDelayCodes() {
    #expect(MLDQueryMessage.responseDelay(code: 10000) == .milliseconds(10000))
    // 1 exp=0 mant=0: 0x1000 << 3 ms.
    #expect(MLDQueryMessage.responseDelay(code: 0x8000) == .milliseconds(0x1000 << 3))
    #expect(MLDQueryMessage.responseDelay(code: 0xFFFF) == .milliseconds(0x1FFF << 10))
  }

  @Test func capturedReports() throws {
    let (bytes, source, destination) = message(LinuxCaptures.mldReport)
    let report = try MLDv2ReportMessage(
      parsing: try ICMPv6Packet(checking: bytes.span, source: source, destination: destination))
    #expect(
      report.records == [
        .init(
          type: .modeIsExclude, multicastAddress: IPv6Address(0xff02, 0, 0, 0, 0, 1, 0xff00, 1)),
        .init(type: .modeIsExclude, multicastAddress: group),
      ])
    // A's join report, written again: Linux's bytes.
    let join = MLDv2ReportMessage(records: [
      .init(type: .changeToExcludeMode, multicastAddress: group)
    ])
    let written = icmpv6Message(
      join.icmpHeader, body: join.body, source: LinuxCaptures.linkLocalA,
      destination: .allMLDv2Routers)
    #expect(written == Array(LinuxCaptures.reportFromLinkLocal[48...]))
    let fromUnspecified = icmpv6Message(
      join.icmpHeader, body: join.body, source: .unspecified, destination: .allMLDv2Routers)
    #expect(fromUnspecified == Array(LinuxCaptures.reportFromUnspecified[48...]))
  }

  @Test func joinSendsRobustnessReports() {
    var listener = MulticastListener()
    var random = PseudoRandomGenerator(seed: 5)
    #expect(listener.join(group, now: .zero) == true)
    #expect(listener.isListening(to: group))
    #expect(listener.nextDeadline == .zero)
    let first = listener.poll(now: .zero, random: &random)
    #expect(
      first == [
        MLDv2ReportMessage(records: [.init(type: .changeToExcludeMode, multicastAddress: group)])
      ])
    // One more within the Unsolicited Report Interval (1 s), then none.
    guard let next = listener.nextDeadline, next < at(1) else {
      Issue.record("no retransmission within 1 s")
      return
    }
    #expect(listener.poll(now: next, random: &random).count == 1)
    #expect(listener.nextDeadline == nil)
    #expect(listener.poll(now: at(10), random: &random).isEmpty)
  }

  @Test func allNodesIsNeverReported() {
    var listener = MulticastListener()
    var random = PseudoRandomGenerator(seed: 5)
    #expect(listener.join(.allNodes, now: .zero) == true)
    #expect(listener.poll(now: .zero, random: &random).isEmpty)
    #expect(listener.memberships.isEmpty)
    #expect(listener.isListening(to: .allNodes))
  }

  @Test func sharedGroupsAreLeftByTheLastUser() {
    var listener = MulticastListener()
    var random = PseudoRandomGenerator(seed: 5)
    listener.join(group, now: .zero)
    listener.join(group, now: .zero)
    _ = listener.poll(now: .zero, random: &random)
    _ = listener.poll(now: at(1), random: &random)
    listener.leave(group, now: at(2))
    #expect(listener.isListening(to: group))
    #expect(listener.poll(now: at(2), random: &random).isEmpty)
    listener.leave(group, now: at(3))
    #expect(!listener.isListening(to: group))
    #expect(
      listener.poll(now: at(3), random: &random)
        == [
          MLDv2ReportMessage(records: [.init(type: .changeToIncludeMode, multicastAddress: group)])
        ])
  }

  @Test func answersQueries() {
    var listener = MulticastListener()
    var random = PseudoRandomGenerator(seed: 5)
    listener.join(group, now: .zero)
    listener.join(otherGroup, now: .zero)
    _ = listener.poll(now: .zero, random: &random)
    _ = listener.poll(now: at(1), random: &random)
    #expect(listener.nextDeadline == nil)
    // A general query with 1 s: one report of every group within the second.
    let general = MLDQueryMessage(multicastAddress: .unspecified, maximumResponseDelay: .seconds(1))
    listener.receive(general, now: at(10), random: &random)
    guard let due = listener.nextDeadline, due >= at(10), due < at(11) else {
      Issue.record("answer not within the maximum response delay")
      return
    }
    let answer = listener.poll(now: due, random: &random)
    #expect(answer.count == 1)
    #expect(Set(answer.first?.records.map(\.multicastAddress) ?? []) == [group, otherGroup])
    #expect(answer.first?.records.allSatisfy { $0.type == .modeIsExclude } == true)
    // A group-specific query for a group we are in, and one for a group we are not in.
    listener.receive(
      MLDQueryMessage(multicastAddress: group, maximumResponseDelay: .seconds(1)), now: at(20),
      random: &random)
    listener.receive(
      MLDQueryMessage(
        multicastAddress: IPv6Address(0xff02, 0, 0, 0, 0, 0, 0, 0x99),
        maximumResponseDelay: .seconds(1)),
      now: at(20), random: &random)
    let specific = listener.poll(now: at(21), random: &random)
    #expect(
      specific == [
        MLDv2ReportMessage(records: [.init(type: .modeIsExclude, multicastAddress: group)])
      ])
  }

  @Test func boundedGroups() {
    var configuration = MulticastListener.Configuration()
    configuration.maximumGroups = 1
    var listener = MulticastListener(configuration: configuration)
    #expect(listener.join(group, now: .zero) == true)
    #expect(listener.join(otherGroup, now: .zero) == false)
    #expect(listener.refusedJoins == 1)
  }
}
