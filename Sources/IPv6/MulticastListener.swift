import NetCore

/// The host side of MLDv2 (RFC 3810 §6): which groups the interface listens to, the reports
/// that announce a change (so that a switch that snoops MLD passes the group's traffic, the
/// solicitations for our addresses above all), and the answers to queries.
///
/// - Joining or leaving a group sends a state change report at once and
///   ``Configuration/robustness`` − 1 more, each after a random delay of up to
///   ``Configuration/unsolicitedReportInterval`` (§6.1).
/// - A query is answered after a random delay of up to its maximum response delay (§6.2): a
///   general one with a record for every group, a group-specific one with that group's, if
///   we listen to it; a pending general answer covers the specific ones.
/// - The all-nodes group `ff02::1` is always listened to and never reported (§6).
///
/// Groups are counted (two addresses may share a solicited-node group): a group is left when
/// its last user leaves. At most ``Configuration/maximumGroups`` groups; a join beyond that is
/// refused.
public struct MulticastListener {
  public struct Configuration: Sendable {
    /// The Robustness Variable (RFC 3810 §9.1): reports sent per change.
    public var robustness = 2
    /// The Unsolicited Report Interval (§9.11): the longest wait between them.
    public var unsolicitedReportInterval = Interval.seconds(1)
    /// The most groups listened to (all-nodes not counted).
    public var maximumGroups = 32

    public init() {}
  }

  /// A group and how many of the interface's uses want it.
  public struct Membership: Equatable, Sendable {
    public var group: IPv6Address
    public var users: Int
  }

  struct PendingChange {
    var group: IPv6Address
    var type: MLDv2ReportMessage.RecordType
    var reportsLeft: Int
    var due: Instant
  }

  public let configuration: Configuration
  public private(set) var memberships: [Membership] = []
  private var changes: [PendingChange] = []
  private var generalAnswerDue: Instant?
  private var groupAnswers: [(group: IPv6Address, due: Instant)] = []
  /// Joins refused because ``Configuration/maximumGroups`` were joined.
  public private(set) var refusedJoins: UInt64 = 0

  public init(configuration: Configuration = Configuration()) {
    precondition(configuration.robustness > 0 && configuration.maximumGroups > 0)
    self.configuration = configuration
  }

  /// Whether the interface listens to `group` (all-nodes always).
  public func isListening(to group: IPv6Address) -> Bool {
    group == .allNodes || memberships.contains { $0.group == group }
  }

  /// Adds a user of `group`; the first one starts the state change reports. Returns false
  /// when the group table is full.
  @discardableResult
  public mutating func join(_ group: IPv6Address, now: Instant) -> Bool {
    precondition(group.isMulticast)
    if group == .allNodes { return true }
    if let index = memberships.firstIndex(where: { $0.group == group }) {
      memberships[index].users += 1
      return true
    }
    guard memberships.count < configuration.maximumGroups else {
      refusedJoins += 1
      return false
    }
    memberships.append(Membership(group: group, users: 1))
    schedule(.changeToExcludeMode, for: group, now: now)
    return true
  }

  /// Removes a user of `group`; the last one leaves it, with state change reports.
  public mutating func leave(_ group: IPv6Address, now: Instant) {
    guard let index = memberships.firstIndex(where: { $0.group == group }) else { return }
    memberships[index].users -= 1
    guard memberships[index].users == 0 else { return }
    memberships.remove(at: index)
    groupAnswers.removeAll { $0.group == group }
    schedule(.changeToIncludeMode, for: group, now: now)
  }

  private mutating func schedule(
    _ type: MLDv2ReportMessage.RecordType, for group: IPv6Address, now: Instant
  ) {
    changes.removeAll { $0.group == group }
    changes.append(
      PendingChange(group: group, type: type, reportsLeft: configuration.robustness, due: now))
  }

  /// Schedules the answer to a query (RFC 3810 §6.2).
  public mutating func receive(
    _ query: MLDQueryMessage, now: Instant, random: inout PseudoRandomGenerator
  ) {
    let delay = MulticastListener.randomDelay(below: query.maximumResponseDelay, &random)
    if query.isGeneral {
      if generalAnswerDue == nil || now + delay < generalAnswerDue! {
        generalAnswerDue = now + delay
      }
      return
    }
    guard memberships.contains(where: { $0.group == query.multicastAddress }) else { return }
    if let general = generalAnswerDue, general <= now + delay { return }
    if let index = groupAnswers.firstIndex(where: { $0.group == query.multicastAddress }) {
      if now + delay < groupAnswers[index].due { groupAnswers[index].due = now + delay }
    } else {
      groupAnswers.append((query.multicastAddress, now + delay))
    }
  }

  /// The reports due by `now`.
  public mutating func poll(now: Instant, random: inout PseudoRandomGenerator)
    -> [MLDv2ReportMessage]
  {
    var reports: [MLDv2ReportMessage] = []
    var changed: [MLDv2ReportMessage.Record] = []
    for index in changes.indices where changes[index].due <= now {
      changed.append(.init(type: changes[index].type, multicastAddress: changes[index].group))
      changes[index].reportsLeft -= 1
      changes[index].due =
        now
        + MulticastListener.randomDelay(below: configuration.unsolicitedReportInterval, &random)
    }
    changes.removeAll { $0.reportsLeft == 0 }
    if !changed.isEmpty { reports.append(MLDv2ReportMessage(records: changed)) }

    if let due = generalAnswerDue, due <= now {
      generalAnswerDue = nil
      groupAnswers.removeAll()
      if !memberships.isEmpty {
        reports.append(
          MLDv2ReportMessage(
            records: memberships.map { .init(type: .modeIsExclude, multicastAddress: $0.group) }))
      }
    }
    let answers = groupAnswers.filter { $0.due <= now }.map {
      MLDv2ReportMessage.Record(type: .modeIsExclude, multicastAddress: $0.group)
    }
    groupAnswers.removeAll { $0.due <= now }
    if !answers.isEmpty { reports.append(MLDv2ReportMessage(records: answers)) }
    return reports
  }

  /// When a report is next due.
  public var nextDeadline: Instant? {
    var earliest = generalAnswerDue
    for change in changes { earliest = Instant.earliest(earliest, change.due) }
    for answer in groupAnswers { earliest = Instant.earliest(earliest, answer.due) }
    return earliest
  }

  /// A random delay from 0 up to (not including) `bound`; 0 when `bound` is not positive.
  static func randomDelay(below bound: Interval, _ random: inout PseudoRandomGenerator)
    -> Interval
  {
    guard bound.nanoseconds > 0 else { return .zero }
    return Interval(nanoseconds: Int64(random.next(below: UInt64(bound.nanoseconds))))
  }
}
