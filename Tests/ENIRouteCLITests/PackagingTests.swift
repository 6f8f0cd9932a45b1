import ENIRouteCLI
import ENIRouteCore
import Foundation
import Testing

/// The files the Debian package ships, checked against the code they document: the conffile
/// against `Configuration`, the man pages against `Configuration.keys` and `--help`, the
/// changelog against `eniRouteVersion`. (tests/package/ checks the built package itself.)
@Suite("Packaging files")
struct PackagingTests {
    /// The repository's top level, from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func read(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// A roff source as searchable text: `\-` → `-`, font escapes dropped.
    static func roffText(_ path: String) throws -> String {
        var s = try read(path)
        s = s.replacingOccurrences(of: "\\-", with: "-")
        for font in ["\\fB", "\\fI", "\\fR", "\\fP", "\\&"] { s = s.replacingOccurrences(of: font, with: "") }
        return s
    }

    /// Whether `word` occurs in `text` not as part of a longer option or key name.
    static func contains(_ text: String, word: String) -> Bool {
        var range = text.startIndex..<text.endIndex
        while let r = text.range(of: word, range: range) {
            let before = r.lowerBound == text.startIndex ? nil : text[text.index(before: r.lowerBound)]
            let after = r.upperBound == text.endIndex ? nil : text[r.upperBound]
            func isNameChar(_ c: Character?) -> Bool { c.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } ?? false }
            if !isNameChar(before) && !isNameChar(after) { return true }
            range = r.upperBound..<text.endIndex
        }
        return false
    }

    /// The `# key = default` lines of the shipped conffile, uncommented.
    static func uncommentedDefaults(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line in
            guard line.hasPrefix("# "), let eq = line.range(of: " =") else { return nil }
            let key = line[line.index(line.startIndex, offsetBy: 2)..<eq.lowerBound]
            guard !key.isEmpty, key.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) else { return nil }
            return String(line.dropFirst(2))
        }
    }

    @Test func shippedConffileParsesToTheDefaults() throws {
        let text = try Self.read("packaging/eniroute.conf")
        #expect(try Configuration.parse(text, file: "eniroute.conf") == Configuration())
    }

    @Test func uncommentingEveryDefaultGivesTheDefaults() throws {
        let lines = Self.uncommentedDefaults(try Self.read("packaging/eniroute.conf"))
        let keys = lines.map { String($0[..<$0.range(of: " =")!.lowerBound]) }
        #expect(keys.sorted() == Configuration.keys.map(\.key).sorted(), "every key exactly once, nothing else")
        let parsed = try Configuration.parse(lines.joined(separator: "\n"), file: "eniroute.conf")
        #expect(parsed == Configuration())
    }

    @Test func changingADefaultInTheConffileTakesEffect() throws {
        // Guards the test above against a parser that ignores the lines: one changed value shows.
        let lines = Self.uncommentedDefaults(try Self.read("packaging/eniroute.conf")).map {
            $0.hasPrefix("table-base =") ? "table-base = 20000" : $0
        }
        let parsed = try Configuration.parse(lines.joined(separator: "\n"), file: "eniroute.conf")
        #expect(parsed.tableBase == 20000)
    }

    @Test(arguments: ["packaging/man/eniroute.conf.5", "packaging/man/eniroute.8"])
    func everyConfigurationKeyIsInTheManPage(page: String) throws {
        let text = try Self.roffText(page)
        for (key, _) in Configuration.keys {
            #expect(Self.contains(text, word: key), "\(key) missing from \(page)")
        }
    }

    @Test func everyCommandAndOptionOfTheHelpIsInTheManPage() throws {
        let man = try Self.roffText("packaging/man/eniroute.8")
        let help = Arguments.help
        let commands = Invocation.Command.allCases.filter { $0 != .help }.map(\.rawValue)
        for command in commands {
            #expect(Self.contains(man, word: command), "command \(command) missing from eniroute(8)")
        }
        let options = help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "[" || $0 == "|" })
            .map { $0.hasSuffix("]") ? String($0.dropLast()) : String($0) }
            .filter { $0.hasPrefix("-") && $0.count > 1 && $0.dropFirst().first.map { $0 == "-" || $0.isLetter } == true }
        #expect(options.contains("--config"), "the help text lists options")
        for option in Set(options) {
            #expect(Self.contains(man, word: option), "option \(option) missing from eniroute(8)")
        }
    }

    @Test func changelogHasTheVersionOfTheProgram() throws {
        let first = try Self.read("packaging/debian/changelog").split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("eniroute (\(eniRouteVersion)) "), "debian/changelog: \(first)")
    }
}
