/// Reads the keys of one JSON layer object as PyTorch argument values, with PyTorch's defaults.
/// Every failure names the layer's path, its type, the key, the value and what would be valid.
struct LayerReader {
    /// The layer's place in the JSON, e.g. `layers.4.body.0`.
    let path: String
    /// The PyTorch class name (`Conv2d`).
    let type: String
    let members: [String: JSONValue]
    /// The keys this layer type accepts, in the order they were read (PyTorch's argument order).
    private(set) var accepted: [String] = []
    /// Required keys that were absent; reported by ``finish()`` once every key has been read.
    private(set) var missingKeys: [String] = []

    init(path: String, type: String, members: [String: JSONValue]) {
        self.path = path
        self.type = type
        self.members = members
    }

    func error(_ message: String) -> ConvKitError {
        .invalidModel(path: path, message: "\(type): \(message)")
    }

    /// The value of `key`, marking the key as accepted; `nil` when absent.
    mutating func value(_ key: String) -> JSONValue? {
        accepted.append(key)
        return members[key]
    }

    /// Marks keys as accepted without using them (`inplace`, …).
    mutating func ignore(_ keys: String...) {
        accepted += keys
    }

    // MARK: Scalars

    /// An integer; required when `defaultValue` is nil.
    mutating func int(_ key: String, default defaultValue: Int? = nil, minimum: Int? = nil) throws -> Int {
        guard let value = value(key) else {
            guard let defaultValue else { missingKeys.append(key); return max(minimum ?? 1, 1) }
            return defaultValue
        }
        guard let number = value.integer else {
            throw error("\"\(key)\" must be an integer (of at most \(JSONValue.largestInteger)), but got \(value.text)")
        }
        if let minimum, number < minimum {
            throw error("\"\(key)\" must be \(minimum == 1 ? "positive" : "at least \(minimum)"), but got \(number)")
        }
        return number
    }

    /// An integer or null (Python's `None`); absent is `nil`.
    mutating func optionalInt(_ key: String) throws -> Int? {
        guard let value = value(key), value != .null else { return nil }
        guard let number = value.integer else { throw error("\"\(key)\" must be an integer or null, but got \(value.text)") }
        return number
    }

    mutating func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard let value = value(key) else { return defaultValue }
        guard case let .bool(flag) = value else { throw error("\"\(key)\" must be true or false, but got \(value.text)") }
        return flag
    }

    mutating func optionalBool(_ key: String) throws -> Bool? {
        guard let value = value(key), value != .null else { return nil }
        guard case let .bool(flag) = value else { throw error("\"\(key)\" must be true, false or null, but got \(value.text)") }
        return flag
    }

    mutating func double(_ key: String, default defaultValue: Double, in range: ClosedRange<Double>? = nil) throws -> Double {
        guard let value = value(key) else { return defaultValue }
        guard let number = value.number else { throw error("\"\(key)\" must be a number, but got \(value.text)") }
        if let range, !range.contains(number) {
            throw error("\"\(key)\" must be between \(range.lowerBound) and \(range.upperBound), but got \(value.text)")
        }
        return number
    }

    /// A number or null; absent gives `defaultValue`.
    mutating func optionalDouble(_ key: String, default defaultValue: Double?) throws -> Double? {
        guard let value = value(key) else { return defaultValue }
        if value == .null { return nil }
        guard let number = value.number else { throw error("\"\(key)\" must be a number or null, but got \(value.text)") }
        return number
    }

    mutating func string(_ key: String, default defaultValue: String, choices: [String]) throws -> String {
        guard let value = value(key) else { return defaultValue }
        guard case let .string(text) = value, choices.contains(text) else {
            throw error("\"\(key)\" must be one of \(choices.map { "\"\($0)\"" }.joined(separator: ", ")), but got \(value.text)")
        }
        return text
    }

    // MARK: Per-dimension values

    /// An integer or a list of `rank` integers (PyTorch's `int | tuple`), each ≥ `minimum`,
    /// returned with one value per dimension; required when `defaultValue` is nil.
    mutating func dims(_ key: String, rank: Int, default defaultValue: Dims? = nil, minimum: Int = 1) throws -> Dims {
        guard let value = value(key) else {
            guard let defaultValue else { missingKeys.append(key); return Dims(Array(repeating: max(minimum, 1), count: rank)) }
            return Dims(defaultValue.repeated(to: rank))
        }
        return try dims(value, key: key, rank: rank, minimum: minimum)
    }

    /// As ``dims(_:rank:default:minimum:)``, with null or absent meaning `nil` (Python's `None`).
    mutating func optionalDims(_ key: String, rank: Int, minimum: Int = 1) throws -> Dims? {
        guard let value = value(key), value != .null else { return nil }
        return try dims(value, key: key, rank: rank, minimum: minimum)
    }

    private func dims(_ value: JSONValue, key: String, rank: Int, minimum: Int) throws -> Dims {
        let expected = "an integer or a list of \(rank) integer\(rank == 1 ? "" : "s")"
        let values: [Int]
        switch value {
        case let .array(items):
            let numbers = items.compactMap(\.integer)
            guard numbers.count == items.count, items.count == rank || (items.count == 1 && rank > 1) else {
                throw error("\"\(key)\" must be \(expected), but got \(value.text)")
            }
            values = numbers.count == 1 ? Array(repeating: numbers[0], count: rank) : numbers
        default:
            guard let number = value.integer else { throw error("\"\(key)\" must be \(expected), but got \(value.text)") }
            values = Array(repeating: number, count: rank)
        }
        if let bad = values.first(where: { $0 < minimum }) {
            let rule = minimum == 1 ? "positive" : (minimum == 0 ? "non-negative" : "at least \(minimum)")
            throw error("\"\(key)\" must be \(rule), but got \(value.text) (\(bad))")
        }
        return Dims(values)
    }

    /// `padding`: an integer, a list of `rank` integers, a list of `rank` `[low, high]` pairs,
    /// or one of `names` (`"same"`, `"valid"`, `"full"`, `"causal"`).
    mutating func padding(_ key: String, rank: Int, names: [String]) throws -> Padding {
        guard let value = value(key) else { return .explicit(Array(repeating: 0, count: rank)) }
        let strings = names.map { "\"\($0)\"" }.joined(separator: ", ")
        let expected = "an integer, a list of \(rank) integers, a list of \(rank) [low, high] pairs"
            + (names.isEmpty ? "" : " or one of \(strings)")
        switch value {
        case let .string(text):
            let named: [String: Padding] = ["same": .same, "valid": .valid, "full": .full, "causal": .causal]
            guard names.contains(text), let padding = named[text] else {
                if text == "causal" { throw error("\"\(key)\": \"causal\" is only defined for Conv1d; use [low, high] pairs per dimension") }
                throw error("\"\(key)\" must be \(expected), but got \(value.text)")
            }
            return padding
        case let .array(items) where items.contains { if case .array = $0 { return true } else { return false } }:
            let pairs = items.map { item -> [Int]? in
                guard case let .array(pair) = item else { return nil }
                let numbers = pair.compactMap(\.integer)
                return numbers.count == 2 && pair.count == 2 ? numbers : nil
            }
            guard pairs.count == rank, pairs.allSatisfy({ $0 != nil }) else {
                throw error("\"\(key)\" must be \(expected), but got \(value.text)")
            }
            let low = pairs.map { $0?[0] ?? 0 }, high = pairs.map { $0?[1] ?? 0 }
            guard (low + high).allSatisfy({ $0 >= 0 }) else { throw error("\"\(key)\" must be non-negative, but got \(value.text)") }
            return .asymmetric(low: low, high: high)
        default:
            guard let dims = try? dims(value, key: key, rank: rank, minimum: 0) else {
                if let number = value.integer, number < 0 { throw error("\"\(key)\" must be non-negative, but got \(value.text)") }
                if case let .array(items) = value, items.compactMap(\.integer).contains(where: { $0 < 0 }) {
                    throw error("\"\(key)\" must be non-negative, but got \(value.text)")
                }
                throw error("\"\(key)\" must be \(expected), but got \(value.text)")
            }
            return .explicit(dims.values)
        }
    }

    // MARK: Nested layers

    /// A list of layers under `key` (`body`, `shortcut`, `layers`); absent or null is empty
    /// unless `required`.
    mutating func layers(_ key: String, required: Bool = false) throws -> [LayerSpec] {
        guard let value = value(key), value != .null else {
            if required { missingKeys.append(key) }
            return []
        }
        guard case let .array(items) = value else {
            throw error("\"\(key)\" must be a list of layers ([{\"type\": …}, …]), but got \(value.text)")
        }
        return try items.enumerated().map { try LayerSpec(parsing: $0.element, path: "\(path).\(key).\($0.offset)") }
    }

    /// `branches`: a non-empty list whose items are lists of layers (or single layers).
    mutating func branches(_ key: String) throws -> [[LayerSpec]] {
        guard let value = value(key) else { missingKeys.append(key); return [] }
        guard case let .array(items) = value, !items.isEmpty else {
            throw error("\"\(key)\" must be a non-empty list of branches, each a list of layers, but got \(value.text)")
        }
        return try items.enumerated().map { index, item in
            let branchPath = "\(path).\(key).\(index)"
            switch item {
            case let .array(layers):
                return try layers.enumerated().map { try LayerSpec(parsing: $0.element, path: "\(branchPath).\($0.offset)") }
            case .object:
                return [try LayerSpec(parsing: item, path: "\(branchPath).0")]
            default:
                throw ConvKitError.invalidModel(path: branchPath, message: "a branch must be a list of layers, but got \(item.text)")
            }
        }
    }

    // MARK: Checks

    /// PyTorch's argument list for messages: `in_channels, out_channels, kernel_size, …`.
    var signature: String {
        accepted.isEmpty ? "no arguments" : accepted.joined(separator: ", ")
    }

    /// Rejects missing required keys and keys the layer type does not take (keys starting with
    /// `_` are comments). Call after reading every key, before checking values against each other.
    func finish() throws {
        if let key = missingKeys.first {
            throw error("missing required key \"\(key)\" (\(type) takes \(signature))")
        }
        let unknown = members.keys.filter { $0 != "type" && !$0.hasPrefix("_") && !accepted.contains($0) }.sorted()
        guard let key = unknown.first else { return }
        let hint = closestName(to: key, among: accepted).map { "; did you mean \"\($0)\"?" } ?? ""
        throw error("unknown key \"\(key)\"\(hint) (\(type) takes \(signature))")
    }
}

/// The candidate closest to `name`: equal up to case and `_`/`-`, or within edit distance 2.
func closestName(to name: String, among candidates: [String]) -> String? {
    func normalised(_ text: String) -> String { text.lowercased().filter { $0 != "_" && $0 != "-" } }
    if let match = candidates.first(where: { normalised($0) == normalised(name) }) { return match }
    let scored = candidates.map { ($0, editDistance(normalised($0), normalised(name))) }.filter { $0.1 <= 2 }
    return scored.min { $0.1 < $1.1 }?.0
}

/// Levenshtein distance.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
