import Testing

@testable import netstackd

/// The table-driven parser under the daemon's options: spellings, values, errors and the help
/// made from the same table.
@Suite struct CommandLineParserTests {
  struct Settings {
    var verbose = false
    var name: String?
    var index: Int?
    var indexGiven = false
  }

  static let parser = CommandLineParser<Settings>([
    CommandLineOptionSection(
      title: "Things",
      options: [
        CommandLineOption("-v", "--verbose", help: "say more") { settings, _, _ in
          settings.verbose = true
        },
        CommandLineOption("--name", value: .required("NAME"), help: "the name") {
          settings, value, _ in
          settings.name = value
        },
        CommandLineOption(
          "--index", value: .optional("N", accepts: { Int($0) != nil }),
          help:
            "an index, when a number follows; this help is long enough to wrap onto a line of its own"
        ) { settings, value, name throws(OptionError) in
          settings.indexGiven = true
          guard let number = Int(value ?? "0") else {
            throw OptionError(name, "'\(value ?? "")' is not a number")
          }
          settings.index = number
        },
      ])
  ])

  func parse(_ arguments: [String]) throws(OptionError) -> Settings {
    var settings = Settings()
    try Self.parser.parse(arguments, into: &settings)
    return settings
  }

  @Test func valuesSeparateOrInline() throws {
    #expect(try parse(["--name", "a"]).name == "a")
    #expect(try parse(["--name=b"]).name == "b")
    #expect(try parse(["--name="]).name == "")
    #expect(
      try parse(["--name", "--verbose"]).name == "--verbose", "a value may look like an option")
  }

  @Test func optionalValueTakenOnlyWhenItFits() throws {
    let bare = try parse(["--index", "--verbose"])
    #expect(bare.index == 0 && bare.verbose)
    #expect(try parse(["--index", "7"]).index == 7)
    #expect(try parse(["--index=8"]).index == 8)
    #expect(throws: OptionError.self) { try parse(["--index=x"]) }
  }

  @Test func everySpellingOfASwitch() throws {
    #expect(try parse(["-v"]).verbose)
    #expect(try parse(["--verbose"]).verbose)
  }

  @Test func errorsNameTheOption() {
    func problem(_ arguments: [String]) -> String? {
      do {
        _ = try parse(arguments)
        return nil
      } catch {
        return error.description
      }
    }
    #expect(problem(["--name"]) == "--name: needs a value")
    #expect(problem(["--verbose=yes"]) == "--verbose: takes no value")
    #expect(problem(["--colour"]) == "unknown option '--colour'")
    #expect(problem(["stray"]) == "unexpected argument 'stray'")
    #expect(problem(["--index=x"]) == "--index: 'x' is not a number")
  }

  @Test func helpListsEveryOptionBesideItsText() {
    let help = Self.parser.help(helpColumn: 20, width: 60)
    let lines = help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines[0] == "Things:")
    #expect(lines[1] == "  -v, --verbose     say more")
    #expect(lines[2] == "  --name NAME       the name")
    #expect(lines[3].hasPrefix("  --index [N]       an index"))
    #expect(lines.dropFirst(3).allSatisfy { $0.count <= 60 })
    #expect(lines.count > 4, "the long help wraps")
    #expect(lines[4].hasPrefix(String(repeating: " ", count: 20)))
  }

  @Test func daemonHelpHasEveryOptionOfTheTable() {
    let help = DaemonOptions.help
    for section in DaemonOptions.table {
      #expect(help.contains("\n\(section.title):\n"))
      for option in section.options {
        #expect(help.contains("  \(option.synopsis)"), "\(option.synopsis)")
      }
    }
    let longest = help.split(separator: "\n").map(\.count).max() ?? 0
    #expect(longest <= 93)
  }
}
