import Foundation

/// A fixture that is missing or not in the expected shape.
public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    /// Creates an error.
    public init(description: String) { self.description = description }
}

/// Reads the IMDS fixtures (`Tests/Fixtures/imds/*.json`, each with its source).
public enum Fixtures {
    /// The repository (…/Sources/ENIRouteTestSupport/Fixtures.swift → …).
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// `Tests/Fixtures/imds`.
    public static let path = repository.appendingPathComponent("Tests/Fixtures/imds")

    /// The fixture directory; a missing directory is a test failure, never a silent pass.
    public static func directory() throws -> URL {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: Fixtures.path.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw FixtureError(
                description: "IMDS fixture directory \(Fixtures.path.path) is missing: the golden tests read "
                    + "Tests/Fixtures/imds in the repository")
        }
        return Fixtures.path
    }

    /// The names (without `.json`) of every fixture file.
    public static func names() throws -> [String] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory().path)
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// One fixture as a JSON object.
    public static func load(_ name: String) throws -> [String: Any] {
        let url = try directory().appendingPathComponent(name + ".json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw FixtureError(description: "IMDS fixture \(url.path) is missing")
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw FixtureError(description: "\(url.path) is not a JSON object")
        }
        return object
    }

    /// A member that must be a JSON object.
    public static func object(_ value: Any?, _ what: String) throws -> [String: Any] {
        guard let o = value as? [String: Any] else { throw FixtureError(description: "\(what) is not a JSON object") }
        return o
    }

    /// A member that must be a string.
    public static func string(_ value: Any?, _ what: String) throws -> String {
        guard let s = value as? String else { throw FixtureError(description: "\(what) is not a string") }
        return s
    }

    /// Turns one MAC's entries into IMDS bodies: a string is the body as is, a list is one line per
    /// entry (IMDS separates list bodies with `\n` and sends no trailing newline), an object is a
    /// sub-directory and is skipped. With `hyphenateKeys`, `_` in key names becomes `-`.
    public static func bodies(_ entries: [String: Any], hyphenateKeys: Bool = false) throws -> [String: String] {
        var out: [String: String] = [:]
        for (rawKey, value) in entries {
            let key = hyphenateKeys ? rawKey.replacingOccurrences(of: "_", with: "-") : rawKey
            switch value {
            case let s as String:
                out[key] = s
            case let list as [Any]:
                let lines = try list.map { try string($0, "entry of \(rawKey)") }
                out[key] = lines.joined(separator: "\n")
            case is [String: Any]:
                continue
            default:
                throw FixtureError(description: "value of \(rawKey) is neither string, list nor object")
            }
        }
        return out
    }
}
