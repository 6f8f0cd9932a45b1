import Foundation

/// A value in the simulated metadata tree: a leaf body or a directory.
public indirect enum MetadataNode: Equatable, Sendable {
    /// A key and its body.
    case value(String)
    /// A directory: entry name → node. Listed with a trailing `/` for sub-directories.
    case directory([String: MetadataNode])

    /// A directory built from `key: body` pairs; keys may contain `/` for sub-directories.
    static func directory(keys: [String: String]) -> MetadataNode {
        var dir = MetadataNode.directory([:])
        for (k, v) in keys { dir.insert(.value(v), at: k.split(separator: "/").map(String.init)[...]) }
        return dir
    }

    /// Inserts `node` at `path` (components) below this directory, creating directories on the
    /// way. When a leaf and a directory claim the same name, the directory wins (fixtures from
    /// AWS's mock contain both `x` and `x/y`).
    mutating func insert(_ node: MetadataNode, at path: ArraySlice<String>) {
        guard case .directory(var entries) = self else {
            self = .directory([:])
            insert(node, at: path)
            return
        }
        guard let first = path.first else { return }
        if path.count == 1 {
            switch (entries[first], node) {
            case (.directory(let old)?, .directory(let new)):
                entries[first] = .directory(old.merging(new, uniquingKeysWith: { _, n in n }))
            case (.directory?, .value):
                break  // directory wins
            default:
                entries[first] = node
            }
        } else {
            var child = entries[first] ?? .directory([:])
            if case .value = child { child = .directory([:]) }
            child.insert(node, at: path.dropFirst())
            entries[first] = child
        }
        self = .directory(entries)
    }

    /// Removes the node at `path`; returns whether something was removed.
    @discardableResult
    mutating func remove(at path: ArraySlice<String>) -> Bool {
        guard case .directory(var entries) = self, let first = path.first else { return false }
        var removed = false
        if path.count == 1 {
            removed = entries.removeValue(forKey: first) != nil
        } else if var child = entries[first] {
            removed = child.remove(at: path.dropFirst())
            entries[first] = child
        }
        self = .directory(entries)
        return removed
    }

    /// The node at `path`, if any.
    func lookup(_ path: ArraySlice<String>) -> MetadataNode? {
        guard let first = path.first else { return self }
        guard case .directory(let entries) = self, let child = entries[first] else { return nil }
        return child.lookup(path.dropFirst())
    }

    /// The leaf body at a single-component key, if it is a leaf.
    func value(_ key: String) -> String? {
        if case .directory(let entries) = self, case .value(let v)? = entries[key] { return v }
        return nil
    }

    /// The body IMDS sends for this node: the value, or the sorted listing (directories with `/`).
    var body: String {
        switch self {
        case .value(let v): return v
        case .directory(let entries):
            return entries.keys.sorted().map { name in
                if case .directory = entries[name]! { return name + "/" }
                return name
            }.joined(separator: "\n")
        }
    }

    /// The leaves below this node, keyed by their path below it joined with `/` after `prefix`.
    func flattened(prefix: String) -> [String: String] {
        switch self {
        case .value(let v): return [prefix: v]
        case .directory(let entries):
            var out: [String: String] = [:]
            for (k, n) in entries { out.merge(n.flattened(prefix: prefix + "/" + k)) { _, new in new } }
            return out
        }
    }
}

/// The JSON form is cloud-init's crawler form: a string is a body, a list is a multi-line body,
/// an object is a sub-directory (keys may contain `/`), a number or boolean is its text; `null`
/// entries are skipped.
extension MetadataNode: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let text = try? c.decode(String.self) {
            self = .value(text)
        } else if let flag = try? c.decode(Bool.self) {
            self = .value(flag ? "true" : "false")
        } else if let number = try? c.decode(Int.self) {
            self = .value(String(number))
        } else if let number = try? c.decode(Double.self) {
            self = .value(String(number))
        } else if let list = try? c.decode([MetadataNode].self) {
            self = .value(list.map(\.body).joined(separator: "\n"))
        } else {
            let object = try c.decode([String: MetadataNode?].self)
            var dir = MetadataNode.directory([:])
            for (k, v) in object {
                let parts = k.split(separator: "/").map(String.init)
                guard !parts.isEmpty, let child = v else { continue }
                dir.insert(child, at: parts[...])
            }
            self = dir
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .value(let v): try c.encode(v)
        case .directory(let entries): try c.encode(entries)
        }
    }
}
