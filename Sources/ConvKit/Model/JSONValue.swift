/// Any JSON value, decoded without a schema so that a model description can be checked key by
/// key with messages that name the path, the key and the offending value.
enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// The largest integer a description may hold (2³¹ − 1), so that size arithmetic cannot overflow.
    static let largestInteger = Int(Int32.max)

    /// The value as an integer, if it is one (`3` or `3.0`) within ±``largestInteger``.
    var integer: Int? {
        switch self {
        case let .int(value) where abs(value) <= Self.largestInteger: return value
        case let .double(value) where value.rounded() == value && abs(value) <= Double(Self.largestInteger): return Int(value)
        default: return nil
        }
    }

    /// The value as a number, if it is one.
    var number: Double? {
        switch self {
        case let .int(value): return Double(value)
        case let .double(value): return value
        default: return nil
        }
    }

    /// The value as JSON text, for messages (`"3"`, `[1, 2]`, `null`).
    var text: String {
        switch self {
        case .null: return "null"
        case let .bool(value): return value ? "true" : "false"
        case let .int(value): return String(value)
        case let .double(value): return String(value)
        case let .string(value): return "\"\(value)\""
        case let .array(items): return "[" + items.map(\.text).joined(separator: ", ") + "]"
        case let .object(members):
            return "{" + members.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value.text)" }.joined(separator: ", ") + "}"
        }
    }
}
