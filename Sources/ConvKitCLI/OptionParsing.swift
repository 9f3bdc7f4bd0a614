import ConvKit

/// Parsing of the `convkit op` option values: PyTorch's Python spellings on the command line.
enum OptionValue {
    /// `"3"` or `"2,1"` → per-dimension integers.
    static func dims(_ text: String, option: String) throws -> Dims {
        Dims(try integers(text, option: option))
    }

    static func integers(_ text: String, option: String) throws -> [Int] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: [" ", "(", ")", "[", "]"]) }
        let values = items.compactMap { Int($0) }
        guard !items.isEmpty, values.count == items.count else {
            throw CLIError("--\(option) expects an integer or comma-separated integers (e.g. 2 or 2,1), but got '\(text)'")
        }
        return values
    }

    /// `"1"`, `"1,2"`, `"same"`, `"valid"`, `"full"`, `"causal"`, or `"low:high,…"` pairs.
    static func padding(_ text: String) throws -> Padding {
        switch text.lowercased() {
        case "same": return .same
        case "valid": return .valid
        case "full": return .full
        case "causal": return .causal
        default: break
        }
        if text.contains(":") {
            let pairs = text.split(separator: ",").map { $0.split(separator: ":", omittingEmptySubsequences: false) }
            guard pairs.allSatisfy({ $0.count == 2 }) else {
                throw CLIError("--padding expects low:high pairs separated by commas (e.g. 1:2,0:1), but got '\(text)'")
            }
            let low = try pairs.map { try integers(String($0[0]), option: "padding")[0] }
            let high = try pairs.map { try integers(String($0[1]), option: "padding")[0] }
            return .asymmetric(low: low, high: high)
        }
        do { return .explicit(try integers(text, option: "padding")) } catch {
            throw CLIError("--padding expects an integer, comma-separated integers, low:high pairs, 'same', 'valid' or 'causal', but got '\(text)'")
        }
    }

    /// `"3"`, `"3,none"` → output sizes, `nil` for None.
    static func optionalSizes(_ text: String, option: String) throws -> [Int?] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map { item in
            let trimmed = item.trimmingCharacters(in: [" ", "(", ")", "[", "]"])
            if trimmed.lowercased() == "none" { return nil }
            guard let value = Int(trimmed) else {
                throw CLIError("--\(option) expects integers or 'none' separated by commas, but got '\(text)'")
            }
            return value
        }
    }

    static func float(_ text: String, option: String) throws -> Float {
        guard let value = Float(text.trimmingCharacters(in: .whitespaces)) else {
            throw CLIError("--\(option) expects a number, but got '\(text)'")
        }
        return value
    }

    static func integer(_ text: String, option: String) throws -> Int {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw CLIError("--\(option) expects an integer, but got '\(text)'")
        }
        return value
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ text: String, option: String) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: text.lowercased()) else {
            throw CLIError("--\(option) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), but got '\(text)'")
        }
        return value
    }
}

/// An error of the command line itself (not of an op), printed as one line.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

import Foundation

extension String {
    func trimmingCharacters(in characters: [Character]) -> String {
        var text = Substring(self)
        while let first = text.first, characters.contains(first) { text = text.dropFirst() }
        while let last = text.last, characters.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
