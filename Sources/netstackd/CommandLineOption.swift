/// One option of a command line: its name, the value it takes, its help, and what it does to
/// the settings it fills in (`Settings`, e.g. ``DaemonOptions``).
///
/// The options of a command are a table (``CommandLineOptionSection``), from which both the
/// parser (``CommandLineParser``) and the help are made, so that an option cannot be parsed
/// without being documented or documented under another spelling.
struct CommandLineOption<Settings>: Sendable {
  /// Whether the option takes a value, and how it is shown in the help.
  enum Value: Sendable {
    /// A switch: `--dhcp`.
    case none
    /// A value that must follow: `--tap NAME` or `--tap=NAME`.
    case required(String)
    /// A value that may follow: the next argument is taken only when `accepts` says it is
    /// one (`--netfront [INDEX]`).
    case optional(String, accepts: @Sendable (String) -> Bool)
  }

  /// The option's spellings, the first in the help (`-h`, `--help`).
  var names: [String]
  var value: Value
  /// What the option does, in the help: sentences wrapped to the help's width; a newline
  /// starts a new line.
  var help: String
  /// Applies the option: `value` is nil for a switch or an optional value that was not given;
  /// a bad value throws an ``OptionError`` naming `name`.
  var apply:
    @Sendable (_ settings: inout Settings, _ value: String?, _ name: String) throws(OptionError) ->
      Void

  init(
    _ names: String..., value: Value = .none, help: String,
    apply:
      @escaping @Sendable (_ settings: inout Settings, _ value: String?, _ name: String)
      throws(OptionError) -> Void
  ) {
    self.names = names
    self.value = value
    self.help = help
    self.apply = apply
  }

  /// The option as the help shows it: `--tap NAME`, `--netfront [INDEX]`, `-h, --help`.
  var synopsis: String {
    let spelled = names.joined(separator: ", ")
    switch value {
    case .none: return spelled
    case .required(let placeholder): return "\(spelled) \(placeholder)"
    case .optional(let placeholder, _): return "\(spelled) [\(placeholder)]"
    }
  }
}

/// A titled group of options in the help (`Addresses:`, `DHCP:`, ...).
struct CommandLineOptionSection<Settings>: Sendable {
  var title: String
  var options: [CommandLineOption<Settings>]
}

/// Parses arguments against a table of options: `--name VALUE`, `--name=VALUE`, switches,
/// optional values; an unknown option or a stray argument is an error.
struct CommandLineParser<Settings>: Sendable {
  let sections: [CommandLineOptionSection<Settings>]
  private let byName: [String: CommandLineOption<Settings>]

  init(_ sections: [CommandLineOptionSection<Settings>]) {
    self.sections = sections
    var byName: [String: CommandLineOption<Settings>] = [:]
    for section in sections {
      for option in section.options {
        for name in option.names {
          precondition(byName[name] == nil, "option \(name) is in the table twice")
          byName[name] = option
        }
      }
    }
    self.byName = byName
  }

  /// Applies each argument to `settings`, in order.
  func parse(_ arguments: [String], into settings: inout Settings) throws(OptionError) {
    var remaining = arguments[...]
    while let argument = remaining.popFirst() {
      var name = argument
      var inlineValue: String? = nil
      if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
        name = String(argument[..<equals])
        inlineValue = String(argument[argument.index(after: equals)...])
      }
      guard let option = byName[name] else {
        if argument.hasPrefix("-") { throw OptionError(nil, "unknown option '\(argument)'") }
        throw OptionError(nil, "unexpected argument '\(argument)'")
      }
      var value: String?
      switch option.value {
      case .none:
        if inlineValue != nil { throw OptionError(name, "takes no value") }
      case .required:
        if let inlineValue {
          value = inlineValue
        } else {
          guard let next = remaining.popFirst() else { throw OptionError(name, "needs a value") }
          value = next
        }
      case .optional(_, let accepts):
        if let inlineValue {
          value = inlineValue
        } else if let next = remaining.first, accepts(next) {
          value = remaining.popFirst()
        }
      }
      try option.apply(&settings, value, name)
    }
  }

  /// The options part of the help: each section's title, then each option's synopsis with its
  /// help beside it from column `helpColumn`, wrapped at `width`.
  func help(helpColumn: Int = 25, width: Int = 93) -> String {
    var lines: [String] = []
    for section in sections {
      if !lines.isEmpty { lines.append("") }
      lines.append("\(section.title):")
      for option in section.options {
        let synopsis = "  " + option.synopsis
        let text = Self.wrap(option.help, width: width - helpColumn)
        let indent = String(repeating: " ", count: helpColumn)
        if synopsis.count < helpColumn, let first = text.first {
          let padding = String(repeating: " ", count: helpColumn - synopsis.count)
          lines.append(synopsis + padding + first)
          lines += text.dropFirst().map { indent + $0 }
        } else {
          lines.append(synopsis)
          lines += text.map { indent + $0 }
        }
      }
    }
    return lines.joined(separator: "\n")
  }

  /// `text` cut into lines of at most `width` characters at spaces; a newline in `text` always
  /// starts a new line.
  static func wrap(_ text: String, width: Int) -> [String] {
    var lines: [String] = []
    for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
      var line = ""
      for word in paragraph.split(separator: " ") {
        if line.isEmpty {
          line = String(word)
        } else if line.count + 1 + word.count <= width {
          line += " " + word
        } else {
          lines.append(line)
          line = String(word)
        }
      }
      lines.append(line)
    }
    return lines
  }
}

/// A bad command line: the option it concerns and what is wrong, as one line.
struct OptionError: Error, CustomStringConvertible {
  var option: String?
  var problem: String

  init(_ option: String?, _ problem: String) {
    self.option = option
    self.problem = problem
  }

  var description: String {
    if let option { return "\(option): \(problem)" }
    return problem
  }
}
