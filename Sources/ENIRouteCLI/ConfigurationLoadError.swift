import ENIRouteCore
import ENIRouteSystem

/// Why the configuration could not be had: its file could not be read (the errno of the failed
/// call), or what it or the environment says is wrong (file, line, key).
public enum ConfigurationLoadError: Error, ErrnoCarrying, Equatable, CustomStringConvertible {
    /// `open` or `read` of the file failed.
    case file(SystemCallError)
    /// The text is wrong.
    case invalid(ConfigurationError)

    /// The errno of a failed read; nil for wrong text.
    public var errno: Errno? {
        if case .file(let e) = self { return e.errno }
        return nil
    }

    public var description: String {
        switch self {
        case .file(let e): "\(e)"
        case .invalid(let e): "\(e)"
        }
    }
}
