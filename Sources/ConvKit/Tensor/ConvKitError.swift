/// Every error ConvKit throws. The description always starts with the op (or file) at fault and
/// says which argument is wrong, its value, and what would be valid, e.g.
/// `conv2d: groups (3) must divide in_channels (4)`.
public enum ConvKitError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An argument value is outside what the op accepts.
    case invalidArgument(op: String, message: String)
    /// A tensor's shape does not fit the op or the other arguments.
    case invalidShape(op: String, message: String)
    /// A file could not be read, parsed or written.
    case file(path: String, message: String)
    /// A model description is wrong at `path`, the layer's place in the JSON
    /// (`layers.4.body.0`); the message names the layer type, the key, the value and a fix.
    case invalidModel(path: String, message: String)

    public var description: String {
        switch self {
        case let .invalidArgument(op, message), let .invalidShape(op, message):
            return "\(op): \(message)"
        case let .file(path, message), let .invalidModel(path, message):
            return "\(path): \(message)"
        }
    }

    static func invalidArgument(op: String, _ message: String) -> ConvKitError {
        .invalidArgument(op: op, message: message)
    }

    static func invalidShape(op: String, _ message: String) -> ConvKitError {
        .invalidShape(op: op, message: message)
    }
}
